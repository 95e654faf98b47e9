"""Looking at and clicking on a virtual X screen, as a musician would: screenshots (``xwd``, read
here into numpy arrays, written as PNG for the docs), clicks and typing through xdotool (XTEST: real
input events).

Ardour's widgets cannot be asked where they are, so the tests find them on the screenshot: the
bridge's buttons by the exact colours their icons are drawn in, track headers by the runs of one
background colour that each route row has, windows (dialogs) by their titles.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

# the fill colours of the icons in daw_templates/scripts/*.lua (k/255 exactly, so cairo keeps them)
ICONS = {"generate": (64, 166, 89), "regenerate": (230, 140, 51), "lock": (74, 109, 140)}
LOCK_GROUP = (0x6B, 0x8F, 0xB3)  # the "Locked" group tab (resonant_inbox.lua)


def require_tools() -> None:
    missing = [t for t in ("xdotool", "xwd") if not shutil.which(t)]
    if missing:
        msg = f"{', '.join(missing)} not found (apt-get install xdotool x11-apps)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)


def read_xwd(data: bytes) -> np.ndarray:
    """An XWD screen dump (ZPixmap, 24 or 32 bits per pixel, as Xvfb writes) as height x width x RGB."""
    f = struct.unpack(">25I", data[:100])
    header, fmt, width, height = f[0], f[2], f[4], f[5]
    byte_order, bpp, bpl, masks, ncolors = f[7], f[11], f[12], f[14:17], f[19]
    if fmt != 2 or bpp not in (24, 32):
        raise ValueError(f"unsupported XWD image (format {fmt}, {bpp} bits per pixel)")
    start = header + 12 * ncolors
    rows = np.frombuffer(data[start:start + height * bpl], np.uint8).reshape(height, bpl)
    px = rows[:, :width * bpp // 8].reshape(height, width, bpp // 8).astype(np.uint32)
    order = range(bpp // 8) if byte_order == 0 else reversed(range(bpp // 8))
    value = sum(px[..., i] << (8 * k) for k, i in enumerate(order))
    out = np.empty((height, width, 3), np.uint8)
    for c, mask in enumerate(masks):
        shift = (mask & -mask).bit_length() - 1
        out[..., c] = (value & mask) >> shift
    return out


def write_png(path: Path, img: np.ndarray) -> None:
    """An RGB image as a PNG file (no filter, zlib-compressed rows)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


@dataclass
class Window:
    id: str
    name: str
    x: int
    y: int
    width: int
    height: int


class Screen:
    def __init__(self, display: str, shots: Path | None = None) -> None:
        require_tools()
        self.display = display
        self.env = {**os.environ, "DISPLAY": display}
        self.shots = shots  # where named screenshots go (docs/gui), if anywhere
        self.last: np.ndarray | None = None

    def _run(self, *argv: str, check: bool = True) -> str:
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, check=check, timeout=30).stdout

    def shot(self, path: Path | None = None) -> np.ndarray:
        """The whole screen now (also written to ``path`` as PNG)."""
        dump = subprocess.run(["xwd", "-root", "-silent"], env=self.env, capture_output=True, check=True,
                              timeout=30).stdout
        self.last = read_xwd(dump)
        if path is not None:
            write_png(path, self.last)
        return self.last

    def save(self, name: str, crop: tuple[int, int, int, int] | None = None) -> None:
        """A named screenshot for the docs (x, y, width, height to crop), when a folder was given."""
        if self.shots is None:
            return
        self.shots.mkdir(parents=True, exist_ok=True)
        img = self.shot()
        if crop:
            x, y, w, h = crop
            img = img[max(0, y):max(0, y) + h, max(0, x):max(0, x) + w]
        write_png(self.shots / f"{name}.png", np.ascontiguousarray(img))

    @staticmethod
    def find(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 3,
             box: tuple[int, int, int, int] | None = None) -> tuple[int, int, int] | None:
        """The centre (x, y) and count of the pixels of colour ``rgb`` inside ``box`` (x0, y0, x1, y1)."""
        x0, y0, x1, y1 = box or (0, 0, img.shape[1], img.shape[0])
        sub = img[y0:y1, x0:x1].astype(int)
        ys, xs = np.nonzero(np.abs(sub - np.array(rgb)).max(axis=2) <= tol)
        if len(xs) == 0:
            return None
        return int(np.median(xs)) + x0, int(np.median(ys)) + y0, len(xs)

    @staticmethod
    def _runs(img: np.ndarray, x: int, top: int) -> list[tuple[int, int]]:
        col = img[:, x].astype(int)
        runs, start = [], top
        for y in range(top + 1, img.shape[0] + 1):
            if y == img.shape[0] or (np.abs(col[y] - col[y - 1]).max() > 6):
                if 40 <= y - start <= 200:
                    runs.append((start, y - 1))
                start = y
        return runs

    @staticmethod
    def rows(img: np.ndarray, top: int = 150) -> tuple[int, list[tuple[int, int]]]:
        """The route rows of the editor as (top, bottom), top to bottom (the master bus first), and the left
        edge of the canvas.

        The canvas begins at the playhead (the red line at the session's start); right of the regions each
        row is one background colour from one separator to the next, the same in most columns."""
        px = img[top:].astype(int)
        red = ((px[..., 0] > 190) & (px[..., 1] < 70) & (px[..., 2] < 70)).sum(axis=0)
        edge = int(np.argmax(red)) if red.max() > 100 else img.shape[1] // 4
        votes: dict[tuple[tuple[int, int], ...], int] = {}
        for x in range(edge + 400, img.shape[1] - 60, 7):
            runs = tuple(Screen._runs(img, x, top))
            if runs:
                votes[runs] = votes.get(runs, 0) + 1
        if not votes:
            return edge, []
        runs = max(votes, key=votes.get)
        # routes are as high as each other (Ardour's default height); the rulers above and the summary below
        # are not
        heights = [b - a for a, b in runs]
        common = max(set(heights), key=lambda h: sum(abs(h - k) <= 2 for k in heights))
        return edge, [r for r in runs if abs(r[1] - r[0] - common) <= 2]

    @staticmethod
    def header_spot(img: np.ndarray, edge: int, row: tuple[int, int]) -> tuple[int, int]:
        """Where to click a route's header to select it: on its background, the widest stretch of one
        colour on a line just below the row's top (beside the name, before the buttons)."""
        y = row[0] + 10
        line = img[y, :edge].astype(int)
        best, start = (0, 0), 0
        for x in range(1, edge + 1):
            if x == edge or np.abs(line[x] - line[x - 1]).max() > 6:
                if x - start > best[1] - best[0]:
                    best = (start, x)
                start = x
        return (best[0] + best[1]) // 2, y

    @staticmethod
    def row_buttons(img: np.ndarray, row: tuple[int, int], x0: int = 90, x1: int = 280) -> list[tuple[int, int]]:
        """The small buttons of the lower half of a route's header (P, A, G for a track), left to right: on a
        line through them, three or more runs of the buttons' one background colour, each 12-26 px wide."""
        for y in range((row[0] + row[1]) // 2 + 3, row[1] - 2):
            line = img[y, x0:x1].astype(int)
            runs: dict[tuple[int, ...], list[int]] = {}
            start = 0
            for x in range(1, len(line) + 1):
                if x == len(line) or (line[x] != line[x - 1]).any():
                    if 12 <= x - start <= 26:
                        runs.setdefault(tuple(line[start]), []).append(x0 + (start + x - 1) // 2)
                    start = x
            for centres in runs.values():
                if len(centres) >= 3:
                    return [(c, y) for c in centres]
        return []

    def click(self, x: int, y: int, away: bool = False) -> None:
        """A left click; ``away``: then the pointer leaves (a tooltip would stay up, a window of its own)."""
        self._run("xdotool", "mousemove", str(x), str(y), "click", "1")
        if away:
            self._run("xdotool", "mousemove", "1", str(self.last.shape[0] - 2 if self.last is not None else 900))

    def type(self, text: str) -> None:
        self._run("xdotool", "type", "--delay", "30", text)

    def key(self, *keys: str) -> None:
        self._run("xdotool", "key", *keys)

    def windows(self, name: str) -> list[Window]:
        out = []
        for wid in self._run("xdotool", "search", "--onlyvisible", "--name", name, check=False).split():
            title = self._run("xdotool", "getwindowname", wid, check=False).strip()
            geo = dict(line.split("=", 1) for line in self._run("xdotool", "getwindowgeometry", "--shell", wid,
                                                                  check=False).split() if "=" in line)
            if title and "WIDTH" in geo:
                out.append(Window(wid, title, int(geo["X"]), int(geo["Y"]), int(geo["WIDTH"]), int(geo["HEIGHT"])))
        return out

    def wait_window(self, name: str, timeout: float = 20.0, exact: bool = False) -> Window:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for w in self.windows(name):
                if not exact or w.name == name:
                    return w
            time.sleep(0.1)
        raise AssertionError(f"no window {name!r} within {timeout:g} s; there are: "
                             + ", ".join(w.name for w in self.windows(".")))

    def wait_drawn(self, w: Window, timeout: float = 3.0) -> bool:
        """Until the window shows more than its background (a window is mapped before it is painted)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            img = self.shot()[max(0, w.y):w.y + w.height, max(0, w.x):w.x + w.width]
            if len(np.unique(img.reshape(-1, 3), axis=0)) > 20:
                return True
            time.sleep(0.05)
        return False

    def wait_gone(self, name: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not [w for w in self.windows(name) if w.name == name]:
                return
            time.sleep(0.1)
        raise AssertionError(f"window {name!r} still there after {timeout:g} s")
