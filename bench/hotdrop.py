"""Delivery latency: a finished stem on disk -> visible in the session, for both delivery paths.

    .venv/bin/python bench/hotdrop.py [--repeat N] [--seconds S]

- closed: the session XML gets a new take (stage, copy the WAV into the session, serialise, back
  up, atomic replace); visible = the new XML is in place.
- open: Ardour's GUI (under Xvfb, Dummy backend; needs ardour and xvfb) has the session open with
  the Resonant hook installed; the stem is posted to the inbox; visible = Ardour imported it and
  acknowledged (the hook polls every 100 ms, then copies the file into the session and adds the
  region).

Baseline for the ratios: reading the session (``read_session``), measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.ardour import SessionEditor, read_session  # noqa: E402
from bridge.ardour.programs import find_ardour  # noqa: E402
from bridge.core.delivery import Deliverer
from bridge.frontends.cli.main import main as cli

RATE = 48000


def _tone(path: Path, seconds: float, freq: float = 110.0) -> Path:
    t = np.arange(int(seconds * RATE)) / RATE
    sf.write(str(path), np.stack([0.3 * np.sin(2 * np.pi * freq * t)] * 2, 1), RATE, subtype="PCM_24")
    return path


def _session(tmp: Path, name: str, seconds: float) -> Path:
    folder = tmp / name
    ardour = find_ardour()
    if ardour is None:
        sys.exit("bench/hotdrop.py needs Ardour (apt-get install ardour)")
    cmd, env = ardour.command([ardour.tool("new_session"), "-s", str(RATE), str(folder), name])
    subprocess.run(cmd, env=env, capture_output=True)  # 8/9 may abort at exit: the file is what counts
    if not (folder / f"{name}.ardour").is_file():
        sys.exit(f"{ardour.label} made no session in {folder}")
    cli(["session", "add-track", "--role", "bass", str(folder), "Bass", str(_tone(tmp / f"{name}.wav", seconds))])
    return folder


def _stem(tmp: Path, i: int, seconds: float) -> dict:
    return {"role": "bass", "wav": str(_tone(tmp / f"stem{i}.wav", seconds, 110 + i)), "mid": None, "start": 0}


def _job(folder: Path, name: str, i: int) -> SimpleNamespace:
    return SimpleNamespace(id=f"bench{i:04d}{time.monotonic_ns() % 10**8}", kind="regenerate",
                           session=str(folder / f"{name}.ardour"), track="Bass")


def bench_read(folder: Path, name: str, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        read_session(folder / f"{name}.ardour")
        out.append(time.perf_counter() - t0)
    return out


def bench_closed(tmp: Path, repeat: int, seconds: float) -> tuple[list[float], Path]:
    folder = _session(tmp, "Closed", seconds)
    d = Deliverer(ack_timeout_s=60)
    out = []
    for i in range(repeat):
        stem = _stem(tmp, i, seconds)
        t0 = time.perf_counter()
        asyncio.run(d.to_closed_session(_job(folder, "Closed", i), [stem]))
        out.append(time.perf_counter() - t0)
    return out, folder


def bench_open(tmp: Path, repeat: int, seconds: float) -> list[float] | str:
    from tests import gui_tools  # the same harness the tests use

    try:
        gui_tools.require_gui()
    except BaseException as e:  # pytest's skip is a BaseException
        return f"skipped: {e}"
    folder = _session(tmp, "Open", seconds)
    ed = SessionEditor(read_session(folder))
    ed.set_control_protocol("Open Sound Control (OSC)", True)  # the harness waits for Ardour's OSC
    ed.commit()
    out = []
    with gui_tools.ardour_gui(folder / "Open.ardour", tmp):
        d = Deliverer(ack_timeout_s=60)
        for i in range(repeat):
            stem = _stem(tmp, 100 + i, seconds)
            t0 = time.perf_counter()
            r = asyncio.run(d.to_open_session(_job(folder, "Open", i), [stem]))
            out.append(time.perf_counter() - t0)
            assert r["method"] == "ardour"
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=16.0, help="stem length")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        closed, folder = bench_closed(tmp, args.repeat, args.seconds)
        base = bench_read(folder, "Closed", args.repeat)
        opened = bench_open(tmp, args.repeat, args.seconds)
    b = statistics.median(base)
    print(f"stem: {args.seconds:g} s stereo 24-bit at {RATE} Hz; median of {args.repeat}")
    print(f"{'path':<34}{'median ms':>10}{'max ms':>10}{'x read':>9}")
    rows = [("baseline: read the session", base), ("closed: new take in the XML", closed)]
    if isinstance(opened, list):
        rows.append(("open: Ardour imported + acked", opened))
    for label, xs in rows:
        print(f"{label:<34}{statistics.median(xs) * 1000:>10.1f}{max(xs) * 1000:>10.1f}"
              f"{statistics.median(xs) / b:>9.1f}")
    if not isinstance(opened, list):
        print(f"open path {opened}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
