"""Driving the real Ardour in tests: new sessions, Lua scripts, dumps and exports, with whichever
Ardour is installed (9, 8 or 7; ``RESONANT_ARDOUR`` names another) and, for the compatibility tests,
the other majors from Debian chroots (``scripts/ardour-chroot``).

Tests that need Ardour skip with a reason when its tools are missing, except in CI
(``CI=true``), where a missing Ardour is a failure: CI must test against the real thing.
Ardour 8/9's tools sometimes abort at exit after doing their work (rc -6 in the MIDNAM loader
thread) or hang there: a run counts by its output, a tool still running after its work is stopped,
and a run that aborted or hung before its output is retried once.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge.ardour.exportmix import export_mix
from bridge.ardour.programs import ArdourInstall, find_ardour, installed
from bridge.ardour.runtool import run_tool
from tests.figures import figure

LUA = Path(__file__).parent / "lua"
REPO = Path(__file__).resolve().parents[1]
CHROOTS = Path(os.environ.get("RESONANT_CHROOTS", "/var/cache/resonant/ardour-chroots"))
DONE = "LUA-DONE"  # every script in tests/lua prints this once its work (and any save) is done
_ABORTS = (-6, 134, -11, 139)  # SIGABRT / SIGSEGV, directly or through a shell


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _fail_or_skip(msg: str) -> None:
    if in_ci():
        pytest.fail(msg + " -- CI must run the Ardour tests", pytrace=False)
    pytest.skip(msg)


@cache
def host() -> ArdourInstall | None:
    """The Ardour on this machine that the bridge itself would use."""
    return find_ardour()


def require_ardour() -> ArdourInstall:
    a = host()
    if a is None:
        _fail_or_skip("no Ardour tools found (ardour7/8/9-lua, -new_session, -export): apt-get install ardour jackd2")
    missing = a.missing_tools()
    if missing:
        _fail_or_skip(f"{a.label}: missing {', '.join(missing)} (apt-get install ardour)")
    return a


def chroot_ardours() -> list[ArdourInstall]:
    """Ardours in the chroot cache (scripts/ardour-chroot build-missing), one per root."""
    found = []
    if CHROOTS.is_dir():
        for root in sorted(p for p in CHROOTS.iterdir() if p.is_dir()):
            found += installed(root=str(root))
    return found


def every_ardour() -> list[ArdourInstall]:
    """This machine's Ardour plus one of each other major from the chroots, oldest first."""
    out: dict[int, ArdourInstall] = {}
    for a in chroot_ardours():
        out.setdefault(a.major, a)
    if host() is not None:
        out[host().major] = host()
    return [out[m] for m in sorted(out)]


def params() -> list:
    """pytest parameters: one per Ardour major 7, 8, 9 (a missing one fails in CI, skips locally)."""
    by_major = {a.major: a for a in every_ardour()}
    return [pytest.param(by_major.get(m), m, id=f"ardour{m}") for m in (7, 8, 9)]


def require(a: ArdourInstall | None, major: int) -> ArdourInstall:
    if a is None:
        _fail_or_skip(f"no Ardour {major} here or in {CHROOTS} (scripts/ardour-chroot build-missing, as root)")
    if a.root is not None:
        if os.geteuid() != 0:
            _fail_or_skip(f"{a.label} needs root to run in its chroot")
        mount(a)
    return a


_mounted: set[str] = set()


def mount(a: ArdourInstall) -> None:
    """Put /tmp (the tests' folders, X and JACK sockets) and the checkout at the same paths inside."""
    if a.root is None or a.root in _mounted:
        return
    subprocess.run([str(REPO / "scripts" / "ardour-chroot"), "mount", a.root, "/tmp", str(REPO)], check=True,
                   capture_output=True, timeout=60)
    _mounted.add(a.root)
    atexit.register(subprocess.run, [str(REPO / "scripts" / "ardour-chroot"), "umount", a.root],
                    capture_output=True, timeout=60)


def run(a: ArdourInstall, argv: list[str], env: dict[str, str] | None = None, timeout: float = 180,
        done: Callable[[subprocess.CompletedProcess], bool] | None = None,
        finished: Callable[[], bool] | None = None) -> str:
    """Run one of Ardour's programs; an abort after the work (``done``) counts as success, and a
    tool still running once ``finished()`` has held for a few seconds is stopped (runtool.py)."""
    mount(a)
    for attempt in range(2):
        cmd, full_env = a.command(argv, env)
        r = run_tool(cmd, full_env, timeout, finished)
        proc = subprocess.CompletedProcess(cmd, r.returncode if r.returncode is not None else -9, r.stdout, r.stderr)
        if r.returncode == 0 or r.stopped_after_work or (done is not None and done(proc)):
            return proc.stdout + proc.stderr
        if not (r.timed_out or proc.returncode in _ABORTS) or attempt:
            break
    why = "timed out" if r.timed_out else f"failed ({proc.returncode})"
    raise AssertionError(f"{argv[0]} {why}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


# Ardour prints these on every headless start; anything else marked as a warning or error counts.
_HARMLESS = ("Falling back to Reasonable Synth",
             "Error parsing MIDI patch file")  # Debian's 8/9 ship a .midnam their parser rejects


def _click_autoconnect(line: str) -> bool:
    """Ardour 8 on its Dummy backend now and then connects the click's outputs to a MIDI port ("Scene
    in") while loading a session whose click has no saved connections (seen once in the Debian 13 run,
    on a 6000 fixture): Ardour's own choice of port, nothing the session file says."""
    return "wrong port-type trying to connect" in line and ":Click/audio_out" in line and "Scene in" in line


def _gui_client_port(line: str) -> bool:
    """A session the GUI saved keeps its virtual keyboard connected to the MIDI track it made last, by
    the port's full name under the GUI's engine client ("ardour:Bass MIDI/midi_in 1"); the headless
    tools run their engine under another client name ("Unit-Test") and cannot find that name. The GUI
    that saved it finds it again; Ardour's own session, not ours."""
    return "Unit-Test::connect: Invalid Destination port: (ardour:" in line


def problems(output: str) -> list[str]:
    """Ardour's own complaints about a session it loaded ([ERROR], [WARNING], failures)."""
    return [line for line in output.splitlines()
            if ("[ERROR]" in line or "[WARNING]" in line or "failed" in line.lower())
            and not any(h in line for h in _HARMLESS) and not _click_autoconnect(line)
            and not _gui_client_port(line)]


def new_session(parent: Path, name: str, rate: int = 48000, ardour: ArdourInstall | None = None) -> Path:
    a = ardour or require_ardour()
    folder = parent / name
    for attempt in range(3):
        run(a, [a.tool("new_session"), "-s", str(rate), str(folder), name],
            done=lambda _: (folder / f"{name}.ardour").is_file())
        assert (folder / f"{name}.ardour").is_file()
        if a.major < 8:
            break
        # Ardour 8 sometimes makes a session with bogus MMC/Scene port connections ("[ERROR] wrong
        # port-type" whenever it is loaded, 2 in 34 seen): that is Ardour's fault, so make another
        complaints = problems(run_lua(LUA / "dump.lua", folder, name, a))
        if not complaints:
            break
        assert attempt < 2, f"{a.label} made three sessions it complains about:\n" + "\n".join(complaints)
        shutil.rmtree(folder)
    return folder


def run_lua(script: Path, folder: Path, snapshot: str, ardour: ArdourInstall | None = None, **env: str) -> str:
    a = ardour or require_ardour()
    return run(a, [a.tool("lua"), str(script)], {"SDIR": str(folder), "SNAME": snapshot, **env},
               done=lambda p: DONE in p.stdout)


def lua_text(source: str, workdir: Path, ardour: ArdourInstall | None = None, **env: str) -> str:
    """Run a Lua chunk in Ardour's Lua; it must print LUA-DONE when its work is done."""
    path = workdir / f"probe-{os.getpid()}-{len(source)}-{abs(hash(source)) % 10**8}.lua"
    path.write_text(source)
    a = ardour or require_ardour()
    return run(a, [a.tool("lua"), str(path)], env, done=lambda p: DONE in p.stdout)


@contextlib.contextmanager
def hold_open(folder: Path, snapshot: str, ardour: ArdourInstall | None = None) -> Iterator[subprocess.Popen]:
    """Ardour's Lua holding the session loaded, as Ardour does while a user works on it."""
    a = ardour or require_ardour()
    mount(a)
    cmd, env = a.command([a.tool("lua"), str(LUA / "hold_open.lua")], {"SDIR": str(folder), "SNAME": snapshot})
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "loaded" in line or not line:
                break
        assert proc.poll() is None, f"{a.label}'s Lua did not keep the session open"
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def dump(folder: Path, snapshot: str, save: bool = False, ardour: ArdourInstall | None = None) -> dict[str, list[dict]]:
    """Regions per track as Ardour itself loads them; raises if Ardour cannot load the session."""
    out = run_lua(LUA / "dump.lua", folder, snapshot, ardour, **({"SAVE": "1"} if save else {}))
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


def export(folder: Path, snapshot: str, out: Path, ardour: ArdourInstall | None = None) -> tuple[np.ndarray, int]:
    """Render the session range through the master bus, as ``resonant demo`` does (exportmix.py): the
    WAV is what counts, not the exit code, and a try that Ardour's export corrupted is made again."""
    a = ardour or require_ardour()
    mount(a)
    done = export_mix(a, folder, snapshot, out)
    for problem in done.problems:
        figure(f"{a.label} export made again", problem)
    if not done.ok:
        last = done.last
        raise AssertionError(f"{a.label} export failed {done.tries} times: " + "; ".join(done.problems)
                             + (f"\n{last.stdout[-3000:]}\n{last.stderr[-3000:]}" if last else ""))
    data, rate = sf.read(str(out), always_2d=True)
    return data, rate


# The one thing a refused or failed write may leave: the empty lock file bridge processes take turns
# on (files.session_lock), made the first time one of them is about to write. Deleting it again
# would let two writers hold "the" lock at once, so it stays; it holds nothing of the user's.
LOCK_PLUMBING = {".resonant", ".resonant/lock"}


def folder_state(folder: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every directory, to show that a folder did not change at all."""
    state: dict[str, bytes | None] = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if rel in LOCK_PLUMBING and (p.is_file() and p.stat().st_size == 0 or p.is_dir()):
            continue
        state[rel] = p.read_bytes() if p.is_file() else None
    return state
