"""Running one of Ardour's command-line tools to the end of its work, not to the end of its process.

Ardour 8/9's tools sometimes abort at exit (rc -6 in the MIDNAM loader thread) and, more rarely,
hang there: ``ardour9-export`` was seen writing a complete WAV and then never exiting. So a run is
judged by its work: the caller says what "done" looks like (a file complete and no longer growing,
a marker line on stdout), and once that has held for a few seconds the tool is stopped. A run that
is neither finished nor done by its deadline is stopped too and reported as timed out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

POLL_S = 1.0
SETTLE_S = 4.0  # how long "done" must hold before a tool that has not exited is stopped


@dataclass
class ToolRun:
    returncode: int | None  # None: stopped by us, after its work or at the deadline
    stdout: str
    stderr: str
    timed_out: bool = False
    stopped_after_work: bool = False


def run_tool(cmd: list[str], env: dict[str, str] | None, timeout: float,
             done: Callable[[], bool] | None = None) -> ToolRun:
    """Run ``cmd`` until it exits, or until ``done()`` has been true for SETTLE_S, or ``timeout``."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", start_new_session=True)
    deadline = time.monotonic() + timeout
    settled_since: float | None = None
    while True:
        try:
            out, err = proc.communicate(timeout=POLL_S)
            return ToolRun(proc.returncode, out, err)
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if done is not None and done():
            settled_since = settled_since if settled_since is not None else now
            if now - settled_since >= SETTLE_S:
                out, err = _stop(proc)
                return ToolRun(None, out, err, stopped_after_work=True)
        else:
            settled_since = None
        if now >= deadline:
            out, err = _stop(proc)
            return ToolRun(None, out, err, timed_out=True)


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    out, err = proc.communicate(timeout=30)
    return out, err


def wav_complete(path: Path, min_frames: int = 1) -> Callable[[], bool]:
    """A 'done' test for an export: the WAV parses with at least ``min_frames`` (the session range,
    so that a tool stuck half way is not taken for done) and its size has stopped changing."""
    last: list[int] = [-1]

    def check() -> bool:
        try:
            size = path.stat().st_size
        except OSError:
            return False
        grown, last[0] = size != last[0], size
        if grown or size <= 44:
            return False
        import soundfile as sf

        try:
            return sf.info(str(path)).frames >= max(1, min_frames)
        except (RuntimeError, sf.LibsndfileError):
            return False

    return check
