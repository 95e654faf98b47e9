"""Driving the real Ardour 7 in tests: new sessions, Lua scripts, dumps and exports.

Tests that need Ardour skip with a reason when its tools are missing, except in CI
(``CI=true``), where a missing Ardour is a failure: CI must test against the real thing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

TOOLS = ("ardour7-new_session", "ardour7-lua", "ardour7-export")
LUA = Path(__file__).parent / "lua"


def require_ardour() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not missing:
        return
    msg = f"Ardour 7 tools not found: {', '.join(missing)} (apt-get install ardour jackd2)"
    if os.environ.get("CI") == "true":
        pytest.fail(msg + " -- CI must run the Ardour tests", pytrace=False)
    pytest.skip(msg)


def _run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 180) -> str:
    proc = subprocess.run(cmd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout, errors="replace")
    if proc.returncode != 0:
        raise AssertionError(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


# Ardour prints this on every headless start; anything else marked as a warning or error counts.
_HARMLESS = ("Falling back to Reasonable Synth",)


def problems(output: str) -> list[str]:
    """Ardour's own complaints about a session it loaded ([ERROR], [WARNING], failures)."""
    return [line for line in output.splitlines()
            if ("[ERROR]" in line or "[WARNING]" in line or "failed" in line.lower())
            and not any(h in line for h in _HARMLESS)]


def new_session(parent: Path, name: str, rate: int = 48000) -> Path:
    folder = parent / name
    _run(["ardour7-new_session", "-s", str(rate), str(folder), name])
    assert (folder / f"{name}.ardour").is_file()
    return folder


def run_lua(script: Path, folder: Path, snapshot: str, **env: str) -> str:
    return _run(["ardour7-lua", str(script)], {"SDIR": str(folder), "SNAME": snapshot, **env})


def dump(folder: Path, snapshot: str, save: bool = False) -> dict[str, list[dict]]:
    """Regions per track as Ardour itself loads them; raises if Ardour cannot load the session."""
    out = run_lua(LUA / "dump.lua", folder, snapshot, **({"SAVE": "1"} if save else {}))
    complaints = problems(out)
    if complaints:
        raise AssertionError("Ardour complained while loading the session:\n" + "\n".join(complaints))
    tracks: dict[str, list[dict]] = {}
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == "track" and len(f) == 4:
            tracks[f[1]] = []
        elif f[0] == "region" and len(f) == 10:
            tracks[f[1]].append({"name": f[2], "position": int(f[3]), "start": int(f[4]), "length": int(f[5]),
                                 "muted": f[6] == "true", "opaque": f[7] == "true", "layer": int(f[8]),
                                 "playlist": f[9]})
    if not tracks and "track\t" not in out:
        raise AssertionError(f"Ardour listed no tracks:\n{out[-3000:]}")
    return tracks


def export(folder: Path, snapshot: str, out: Path) -> tuple[np.ndarray, int]:
    """Render the session range through the master bus. ardour7-export 7.3 sometimes aborts at exit
    after writing a good file (ardour-in-tests.md), so the WAV is what counts, not the exit code."""
    proc = subprocess.run(["ardour7-export", "-o", str(out), str(folder), snapshot], capture_output=True,
                          text=True, timeout=300, errors="replace")
    if not out.is_file():
        raise AssertionError(f"ardour7-export wrote nothing ({proc.returncode}):\n{proc.stdout[-2000:]}"
                             f"\n{proc.stderr[-2000:]}")
    data, rate = sf.read(str(out), always_2d=True)
    return data, rate


def folder_state(folder: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every directory, to show that a folder did not change at all."""
    state: dict[str, bytes | None] = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        state[rel] = p.read_bytes() if p.is_file() else None
    return state
