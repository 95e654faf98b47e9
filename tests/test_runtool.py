"""Ardour's tools judged by their work: one that hangs after writing its file is stopped and counts
as done (ardour9-export was seen doing this), one that hangs before is reported as timed out."""

from __future__ import annotations

import sys
from pathlib import Path

from bridge.ardour.runtool import run_tool, wav_complete

WRITE_THEN = """
import sys, time, numpy as np, soundfile as sf
sf.write(sys.argv[1], np.zeros((int(sys.argv[2]), 2)), 48000)
print("written", flush=True)
time.sleep(float(sys.argv[3]))
"""


def _tool(tmp_path: Path, frames: int, hang_s: float) -> list[str]:
    script = tmp_path / "tool.py"
    script.write_text(WRITE_THEN)
    return [sys.executable, str(script), str(tmp_path / "out.wav"), str(frames), str(hang_s)]


def test_a_tool_that_hangs_after_its_work_is_stopped_and_counts(tmp_path: Path) -> None:
    r = run_tool(_tool(tmp_path, 48000, 600), None, timeout=120, done=wav_complete(tmp_path / "out.wav", 48000))
    assert r.stopped_after_work and not r.timed_out
    assert "written" in r.stdout


def test_a_short_file_is_not_taken_for_done(tmp_path: Path) -> None:
    r = run_tool(_tool(tmp_path, 100, 600), None, timeout=8, done=wav_complete(tmp_path / "out.wav", 48000))
    assert r.timed_out and not r.stopped_after_work


def test_a_tool_that_exits_reports_its_code(tmp_path: Path) -> None:
    r = run_tool(_tool(tmp_path, 10, 0), None, timeout=60, done=wav_complete(tmp_path / "out.wav", 48000))
    assert r.returncode == 0 and not r.timed_out and not r.stopped_after_work
