"""The daemon over real UDP: its address space, errors, progress, a fuzz run, and crashes."""

from __future__ import annotations

import os
import random
import shutil
import signal
import struct
import time
from pathlib import Path

import pytest

from bridge.ardour import read_session
from bridge.frontends.osc import MAX_DATAGRAM, build
from tests.ardour_tools import folder_state
from tests.daemon_tools import OscClient, start_daemon
from tests.test_service import new_session


@pytest.fixture
def daemon(tmp_path: Path):
    proc, port = start_daemon(tmp_path / "data")
    client = OscClient(port)
    yield proc, client
    client.close()
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_address_space_and_errors(daemon, tmp_path: Path) -> None:
    _, c = daemon
    assert c.ask("/resonant/ping") == ("/resonant/ping", ["pong", "0.1.0"])
    assert c.ask("/resonant/nowhere") [1][:2] == ["/resonant/nowhere", "unknown_address"]
    addr, args = c.ask("/resonant/generate", 5)
    assert addr == "/resonant/error" and args[:2] == ["/resonant/generate", "invalid_input"]
    addr, args = c.ask("/resonant/generate", "", "drums", "x", "not a number")
    assert args[1] == "invalid_input" and "argument 4" in args[2]
    assert c.ask("/resonant/session/describe", str(tmp_path / "none"))[1][1] == "session_not_found"
    assert c.ask("/resonant/job/status", "nope!")[1][1] == "unknown_job"
    c.raw(b"\x00\x01garbage")
    assert c.recv()[1][1] == "malformed"
    c.raw(build("/resonant/ping", ["x" * (MAX_DATAGRAM + 10)]))
    assert c.recv()[1][1] == "oversize"
    song = new_session(tmp_path)
    addr, args = c.ask("/resonant/session/describe", str(song))
    assert addr == "/resonant/session/describe" and args[1:3] == ["Fresh", 48000]
    assert c.recv() == ("/resonant/session/end", [str(song)])


def test_generate_with_progress_into_a_closed_session(daemon, tmp_path: Path) -> None:
    _, c = daemon
    song = new_session(tmp_path)
    assert c.ask("/resonant/subscribe") == ("/resonant/subscribe", [1])
    addr, (job,) = c.ask("/resonant/generate", str(song), "drums,bass", "funk", 4, 1, 3)
    assert addr == "/resonant/generate"
    msgs = c.until(lambda m: m[0] == "/resonant/job/status" and m[1][0] == job and m[1][1] in ("done", "failed"))
    assert msgs[-1][1][1] == "done", msgs[-1]
    progress = [m[1][1] for m in msgs if m[0] == "/resonant/job/progress"]
    assert len(progress) >= 4 and progress == sorted(progress)
    assert c.ask("/resonant/job/status", job)[1][:3] == [job, "done", 1.0]
    s = read_session(song)
    assert [t.name for t in s.tracks] == ["Drums", "Bass"]
    assert c.ask("/resonant/track/lock", str(song), "Drums")[1] == ["Drums", "drums", 1]
    assert read_session(song).track("Drums").locked
    # the Ardour button's toggle: closed session, so into the XML
    assert c.ask("/resonant/track/toggle_lock", str(song), "Drums")[1] == ["Drums", "drums", 0]
    assert not read_session(song).track("Drums").locked and not (song / ".resonant" / "tracks.json").exists()
    before = folder_state(song)
    for bad in (("/resonant/track/toggle_lock", str(song), "Nobody"), ("/resonant/track/toggle_lock", str(song)),
                ("/resonant/track/toggle_lock", str(tmp_path / "nowhere"), "Drums"),
                ("/resonant/ack", job, "fine"), ("/resonant/ack", job)):
        addr, args = c.ask(*bad)
        assert addr == "/resonant/error" and args[1] in ("unknown_track", "invalid_input", "session_not_found"), args
    assert folder_state(song) == before
    assert c.ask("/resonant/ack", job, "ok")[1] == [job, 0]  # done long ago: nobody waits for it


def test_fuzz(daemon, tmp_path: Path) -> None:
    """100,000 random and mutated datagrams: answered where possible, never a crash."""
    proc, c = daemon
    rng = random.Random(1234)
    valid = [build(a, args) for a, args in [
        ("/resonant/ping", []), ("/resonant/job/status", ["abc"]), ("/resonant/session/describe", ["/nope"]),
        ("/resonant/generate", ["/nope", "drums", "p", 4, 1, 1]), ("/resonant/track/lock", ["/nope", "x"]),
        ("/resonant/jobs", []), ("/resonant/regenerate", ["/nope", "t", "1-2"]), ("/resonant/subscribe", [70000]),
    ]]
    sent = replies = 0
    for i in range(100_000):
        kind = i % 6
        if kind == 0:
            data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 64)))
        elif kind == 1:  # bit flips in a valid message
            d = bytearray(rng.choice(valid))
            for _ in range(rng.randrange(1, 4)):
                d[rng.randrange(len(d))] ^= 1 << rng.randrange(8)
            data = bytes(d)
        elif kind == 2:  # truncated
            d = rng.choice(valid)
            data = d[: rng.randrange(len(d))]
        elif kind == 3:  # wrong types and counts on real addresses
            addr = rng.choice(["/resonant/generate", "/resonant/job/cancel", "/resonant/track/unlock",
                               "/resonant/track/role", "/resonant/regenerate"])
            args = [rng.choice([1, 2.5, "x", True, "", -1, 2**40]) for _ in range(rng.randrange(0, 8))]
            data = build(addr, args)
        elif kind == 4:  # a valid type tag over wrong payload sizes
            data = b"/resonant/ping\x00\x00,iisf\x00\x00\x00" + struct.pack(">i", rng.randrange(2**31))
        else:
            data = b"#bundle\x00" + bytes(rng.getrandbits(8) for _ in range(rng.randrange(8, 40)))
        c.raw(data)
        sent += 1
        if i % 200 == 199:
            replies += c.drain()
    assert proc.poll() is None, "the daemon died"
    # UDP may drop a datagram while the daemon's buffer is full of fuzz: ask again each second
    for _attempt in range(30):
        c.send("/resonant/ping")
        try:
            got = c.until(lambda m: m[0] == "/resonant/ping", timeout=1.0)
        except AssertionError:
            continue
        replies += len(got) - 1
        assert got[-1] == ("/resonant/ping", ["pong", "0.1.0"])
        break
    else:
        raise AssertionError("the daemon stopped answering /resonant/ping after the fuzz")
    assert sent == 100_000 and replies > 10_000
    assert proc.poll() is None


def test_sigkill_mid_job_leaves_the_session_whole(tmp_path: Path) -> None:
    song = new_session(tmp_path)
    before = folder_state(song)
    data = tmp_path / "data"
    proc, port = start_daemon(data)
    c = OscClient(port)
    try:
        assert c.ask("/resonant/subscribe") == ("/resonant/subscribe", [1])
        _, (job,) = c.ask("/resonant/generate", str(song), "drums,bass,harmony,melody", "metal", 96)
        c.until(lambda m: m[0] == "/resonant/job/progress" and "rendering" in m[1][2], timeout=30)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        c.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    # the worker process must not outlive the daemon for long, and must not write the session
    assert folder_state(song) == before
    for _ in range(100):
        if not _workers_of(proc.pid):
            break
        time.sleep(0.1)
    assert not _workers_of(proc.pid), "the worker outlived the killed daemon"
    proc2, port2 = start_daemon(data)
    c2 = OscClient(port2)
    try:
        _, args = c2.ask("/resonant/job/status", job)
        assert args[:2] == [job, "failed"] and "stopped" in args[4]
        assert folder_state(song) == before
    finally:
        c2.close()
        proc2.send_signal(signal.SIGTERM)
        proc2.wait(30)


def _workers_of(daemon_pid: int) -> list[int]:
    """Worker processes started by that daemon (found by their spawn command line and parent chain)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmd and f"RESONANT_DAEMON_PID={daemon_pid}".encode() in env:
            found.append(int(pid))
    return found


def test_sigterm_stops_cleanly_and_records_the_job(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc, port = start_daemon(data)
    c = OscClient(port)
    try:
        _, (job,) = c.ask("/resonant/generate", "", "drums", "rock", 128)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        c.close()
        if proc.poll() is None:
            proc.kill()
    proc2, port2 = start_daemon(data)
    c2 = OscClient(port2)
    try:
        _, args = c2.ask("/resonant/job/status", job)
        assert args[1] in ("cancelled", "done") and (args[1] == "done" or "stopped" in args[4])
    finally:
        c2.close()
        proc2.send_signal(signal.SIGTERM)
        proc2.wait(30)
    shutil.rmtree(data, ignore_errors=True)


def test_watch_over_osc(daemon, tmp_path: Path) -> None:
    from bridge.ardour.files import atomic_write

    _, c = daemon
    song = new_session(tmp_path)
    assert c.ask("/resonant/subscribe") == ("/resonant/subscribe", [1])
    assert c.ask("/resonant/session/watch", str(song)) == ("/resonant/session/watch", [str(song / "Song.ardour"), 1])
    file = song / "Song.ardour"
    atomic_write(file, file.read_bytes().replace(b'name="Fresh"', b'name="Renamed"', 1))
    got = c.until(lambda m: m[0] == "/resonant/session/changed", timeout=10)
    assert got[-1][1][:2] == [str(file), 1]
