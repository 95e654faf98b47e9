"""Killing bridge processes at random points of their writes, and what must hold afterwards: the
session reads, it is the old state or the new one, no temp file of the bridge's naming is left, no
audio file sits in the session that the session does not name, and every job says truthfully
whether its take is in the session. Used by tests/test_crashes.py (a few rounds) and
bench/crashes.py (200 CLI kills, 50 daemon kills)."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bridge.ardour import read_session
from tests.conftest import FIXTURES, write_wav
from tests.daemon_tools import OscClient, start_daemon

LEFTOVER = re.compile(r"\.resonant-tmp$|\.wav\.part$|^intent-")


def make_session(parent: Path, name: str = "Song") -> Path:
    folder = parent / name
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "empty-ardour-7.3.ardour", folder / f"{name}.ardour")
    return folder


def problems(folder: Path) -> list[str]:
    """What is wrong with the session folder after a crash and the next operation."""
    out = []
    try:
        s = read_session(folder)
    except Exception as e:  # noqa: BLE001 (the finding)
        return [f"the session does not read: {e}"]
    text = "\n".join(p.read_text(errors="replace") for p in folder.glob("*.ardour"))
    for p in folder.rglob("*"):
        if LEFTOVER.search(p.name):
            out.append(f"left behind: {p.relative_to(folder)}")
    audio = s.audio_dir
    if audio.is_dir():
        for p in audio.iterdir():
            if p.is_file() and p.name not in text:
                out.append(f"unreferenced audio: {p.name}")
    return out


def cli_kill_round(folder: Path, wav: Path, i: int, rng: random.Random) -> list[str]:
    """An add-track killed at a random moment, then the next write run to its end."""
    env = {**os.environ, "RESONANT_SESSION_ROOTS": ""}
    cmd = [sys.executable, "-m", "bridge.frontends.cli", "session", "add-track", str(folder), f"T{i}", str(wav)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.3, 1.6))  # python start-up is ~0.5 s here: the kill lands all over the write
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {t.name for t in read_session(folder).tracks}
    nxt = subprocess.run([*cmd[:-2], f"N{i}", str(wav)], env=env, capture_output=True, text=True, timeout=120)
    if nxt.returncode != 0:
        return [f"the next write failed: {nxt.stderr[-500:]}"]
    after = {t.name for t in read_session(folder).tracks}
    found = problems(folder)
    if after != before | {f"N{i}"}:
        found.append(f"tracks {sorted(before)} -> {sorted(after)}")
    return found


def daemon_kill_round(tmp: Path, folder: Path, data: Path, rng: random.Random) -> tuple[str, list[str]]:
    """A generate into a closed session, the daemon SIGKILLed at a random moment while the job runs
    or delivers, restarted: the job's final state must match the session."""
    proc, port = start_daemon(data)
    c = OscClient(port, timeout=10)
    tracks_before = {t.name for t in read_session(folder).tracks}
    try:
        _, (job,) = c.ask("/resonant/generate", str(folder), "bass", "house", 1, 1, rng.randrange(1000))
        # wait for a random point between "running" and shortly after "done"
        deadline = time.monotonic() + rng.uniform(0.0, 4.0)
        while time.monotonic() < deadline:
            _, st = c.ask("/resonant/job/status", job)
            if st[1] == "delivering" and rng.random() < 0.5:
                break
            if st[1] in ("done", "failed"):
                break
            time.sleep(0.01)
    finally:
        c.close()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc, port = start_daemon(data)
    c = OscClient(port, timeout=10)
    try:
        for _ in range(600):
            _, st = c.ask("/resonant/job/status", job)
            if st[1] in ("done", "failed", "cancelled"):
                break
            time.sleep(0.1)
    finally:
        c.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    after = {t.name for t in read_session(folder).tracks}
    landed = after - tracks_before
    found = problems(folder)
    if st[1] == "done" and not landed:
        found.append(f"job {job} says done but no track landed")
    if st[1] != "done" and landed:
        found.append(f"job {job} says {st[1]} ({st[4] if len(st) > 4 else ''}) but {sorted(landed)} landed")
    if len(landed) > 1:
        found.append(f"one job, several tracks: {sorted(landed)}")
    return st[1], found


def tone(tmp: Path) -> Path:
    return write_wav(tmp / "tone.wav", 2.0, channels=2, amp=0.3)


def bass_session(parent: Path, name: str = "Race") -> Path:
    folder = make_session(parent, name)
    wav = write_wav(parent / f"{name}-bass.wav", 4.0, channels=2, freq=55.0, amp=0.3)
    subprocess.run([sys.executable, "-m", "bridge.frontends.cli", "session", "add-track", str(folder), "Bass", str(wav),
                    "--role", "bass"], check=True, capture_output=True, timeout=120)
    return folder


def _regen_osc(port: int, folder: Path, seed: int) -> str:
    c = OscClient(port, timeout=30)
    try:
        _, (job,) = c.ask("/resonant/regenerate", str(folder), "Bass", "", "", seed)
        for _ in range(1200):
            _, st = c.ask("/resonant/job/status", job)
            if st[1] in ("done", "failed", "cancelled"):
                return st[1] if st[1] == "done" else f"{st[1]}: {st[4] if len(st) > 4 else ''}"
            time.sleep(0.05)
        return "timed out"
    finally:
        c.close()


def _regen_cli(folder: Path, seed: int) -> str:
    p = subprocess.run([sys.executable, "-m", "bridge.frontends.cli", "regenerate", str(folder), "Bass", "--seed",
                        str(seed)], capture_output=True, text=True, timeout=300)
    return "done" if p.returncode == 0 else f"failed: {p.stderr[-400:]}"


def race_rounds(tmp: Path, rounds: int, with_cli: bool) -> list[str]:
    """Two writers (two daemons, or the CLI and a daemon) regenerating the same track at the same
    moment, ``rounds`` times: every take must land, none twice."""
    import threading

    folder = bass_session(tmp, "RaceCli" if with_cli else "Race")
    daemons = [start_daemon(tmp / f"data-{k}-{with_cli}") for k in range(1 if with_cli else 2)]
    found = []
    try:
        for r in range(rounds):
            takes_before = len(read_session(folder).takes_of(read_session(folder).track("Bass")))
            results: list[str] = ["", ""]

            def one(k: int, r: int = r, results: list[str] = results) -> None:
                seed = 1000 * r + k
                results[k] = _regen_cli(folder, seed) if with_cli and k == 1 else _regen_osc(daemons[k][1], folder,
                                                                                             seed)

            threads = [threading.Thread(target=one, args=(k,)) for k in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            s = read_session(folder)
            takes = s.takes_of(s.track("Bass"))
            names = [p.name for p in takes]
            if results != ["done", "done"]:
                found.append(f"round {r}: {results}")
            if len(takes) != takes_before + 2:
                found.append(f"round {r}: {len(takes) - takes_before} takes landed, not 2 ({names})")
            if len(set(names)) != len(names):
                found.append(f"round {r}: duplicate take names {names}")
            found += [f"round {r}: {p}" for p in problems(folder)]
    finally:
        for proc, _ in daemons:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    return found
