"""A session's mix exported by Ardour's own ``ardourN-export``, and a check of what it wrote.

Ardour 7.3's export tool now and then corrupts its output: the first frame of every 2048-frame
export buffer carries garbage in one channel (full scale in a 16-bit file, 1e20 in a float one),
the rest of the file right. It goes with a heap corruption the tool reports at exit ("double free
or corruption", "munmap_chunk(): invalid pointer"); it was seen in about 1 export of 8 of a
session copied to a new folder on a busy machine, and the same session exported again is right.
A click every 43 ms is not a mix anyone asked for, and it is not the session's fault, so an export
is checked for exactly that signature and made again; one that stays corrupt says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bridge.ardour.programs import ArdourInstall
from bridge.ardour.runtool import ToolRun, run_tool, wav_complete

PERIODS = (256, 512, 1024, 2048, 4096, 8192)  # the export buffer sizes to look for, smallest first
JUMP = 0.5  # a frame this far from both neighbours, while they agree, is a spike
SHARE = 0.4  # of a period's buffer starts that must hold a spike to call it the defect (it can start late)
MIN_BUFFERS = 4  # a file shorter than this many buffers cannot show a pattern
_CHUNK = 2048 * 64
_CRASH = re.compile(r"corruption|invalid pointer|abort|segmentation|error|failed", re.IGNORECASE)


@dataclass
class ExportRun:
    """What exporting took: the file, how many tries, and why earlier tries were not kept."""

    path: Path
    ok: bool  # a complete WAV without the buffer defect
    tries: int
    problems: list[str] = field(default_factory=list)  # one line per try that was not kept
    last: ToolRun | None = None


def buffer_glitch(path: Path) -> str | None:
    """Where the file has a spike at the start of (nearly) every export buffer, in words, else None."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        frames, channels = f.frames, f.channels
        hits = np.zeros((channels, len(PERIODS)), dtype=np.int64)  # spikes on each period's buffer starts
        tail: np.ndarray | None = None  # the previous chunk's last two frames, so no frame is skipped
        for start in range(0, frames, _CHUNK):
            block = f.read(min(_CHUNK, frames - start), dtype="float64", always_2d=True)
            x = block if tail is None else np.vstack([tail, block])
            first = start if tail is None else start - len(tail)  # the file frame of x[0]
            for c, found in enumerate(_spikes(x)):
                at = found + first + 1
                hits[c] += [np.count_nonzero(at % p == 0) for p in PERIODS]
            tail = x[-2:]
    buffers = {p: (frames - 2) // p for p in PERIODS if (frames - 2) // p >= MIN_BUFFERS}
    for c in range(channels):
        share = {p: hits[c, PERIODS.index(p)] / n for p, n in buffers.items()}
        if not share or max(share.values()) < SHARE:
            continue
        # spikes every 2048 frames also sit on every 4096th: the period is the smallest that holds them
        period = min(p for p, v in share.items() if v >= 0.9 * max(share.values()))
        found = int(hits[c, PERIODS.index(period)])
        if found >= MIN_BUFFERS:
            return (f"channel {c + 1}: a spike on the first frame of {found} of its {buffers[period]} "
                    f"{period}-frame export buffers")
    return None


def _spikes(x: np.ndarray) -> list[np.ndarray]:
    """Per channel, the indices into x[1:-1] of frames far from both neighbours while those agree."""
    with np.errstate(invalid="ignore", over="ignore"):
        mid, before, after = x[1:-1], x[:-2], x[2:]
        finite = np.isfinite(before) & np.isfinite(after)
        wild = ~np.isfinite(mid) | ((np.abs(mid - before) > JUMP) & (np.abs(mid - after) > JUMP)
                                    & (np.abs(before - after) < JUMP / 2))
        hit = wild & finite
    return [np.nonzero(hit[:, c])[0] for c in range(x.shape[1])]


def run_timeout(frames: int, rate: int) -> float:
    """How long one try may take: loading the session and its plugins, then faster than real time."""
    return 120 + 2 * frames / rate


def range_of(folder: Path, snapshot: str) -> tuple[int, int]:
    """The session range's length in frames (1 when there is none) and the session's sample rate."""
    from bridge.ardour import read_session

    s = read_session(folder / f"{snapshot}.ardour")
    return (s.session_range[1] - s.session_range[0]) if s.session_range else 1, s.sample_rate


def export_mix(ardour: ArdourInstall, folder: Path, snapshot: str, out: Path, tries: int = 3) -> ExportRun:
    """Export the session range to ``out`` (16-bit WAV) until a try writes a complete file without
    the buffer defect, at most ``tries`` times. A tool that aborts or hangs after writing a good
    file counts by its file (runtool.py)."""
    frames, rate = range_of(folder, snapshot)
    timeout = run_timeout(frames, rate)
    cmd, env = ardour.command([ardour.tool("export"), "-o", str(out), str(folder), snapshot])
    result = ExportRun(out, False, 0)
    for _ in range(tries):
        out.unlink(missing_ok=True)
        result.tries += 1
        result.last = run_tool(cmd, env, timeout=timeout, done=wav_complete(out, frames))
        problem = _judge(out, frames, timeout, result.last)
        if problem is None:
            result.ok = True
            return result
        result.problems.append(problem)
    return result


def _judge(out: Path, frames: int, timeout: float, run: ToolRun) -> str | None:
    import soundfile as sf

    said = [line for line in (run.stderr or "").splitlines() if _CRASH.search(line)][-1:]
    said_so = f"; it said: {said[0].strip()}" if said else ""
    if run.timed_out:
        return f"it did not finish within {timeout:.0f} s{said_so}"
    try:
        written = sf.info(str(out)).frames
    except (RuntimeError, sf.LibsndfileError, OSError):
        return f"it ended ({run.returncode}) without a readable WAV{said_so}"
    if written < frames:
        return f"it wrote {written} of the session range's {frames} frames{said_so}"
    glitch = buffer_glitch(out)
    return None if glitch is None else f"its file is corrupt ({glitch}){said_so}"
