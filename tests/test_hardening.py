"""Hardening (issue 18): symlinks that try to lead the bridge out of the session roots, inputs that
ask for unbounded work, what killed writers leave behind, writers at the same time, private files.

Outside the roots a folder with files is hashed before and after every case, and an audit hook
records every file the process opens: nothing outside may be created, changed, deleted or read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bridge.ardour import layers, read_session
from bridge.ardour.files import backup, session_lock
from bridge.core.config import Config
from bridge.core.sessions import Sessions
from bridge.errors import BridgeError, InvalidInput, LimitExceeded, MalformedSession, SessionChangedOnDisk, UnsafePath
from tests import ardour_tools
from tests.conftest import write_wav

OPENED: list[str] = []
_WATCH = threading.local()


def _audit(event: str, args: tuple) -> None:
    if event == "open" and getattr(_WATCH, "on", False) and isinstance(args[0], str | bytes | os.PathLike):
        OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


def _tree(folder: Path) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            out[str(p)] = "link:" + os.readlink(p)
        elif p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[str(p)] = None
    return out


@pytest.fixture
def world(tmp_path: Path, handmade):
    """A session inside the roots, an outside folder with a victim's files, Sessions confined."""
    roots = tmp_path / "roots"
    roots.mkdir()
    session = handmade("7003")
    shutil.move(str(session), roots / session.name)
    session = roots / session.name
    outside = tmp_path / "outside"
    (outside / "Victim").mkdir(parents=True)
    for i in range(25):
        (outside / f"Song-20240101-000000-{i:09d}.ardour").write_text(f"user file {i}")
    (outside / "Victim" / "Base.ardour").write_text("<Session/>")
    write_wav(outside / "secret.wav", 1.0)
    sessions = Sessions(Config(session_roots=[roots], data_dir=tmp_path / "data"))
    return sessions, session, outside


class _Watch:
    def __init__(self, outside: Path) -> None:
        self.outside = outside

    def __enter__(self) -> _Watch:
        self.before = _tree(self.outside)
        OPENED.clear()
        _WATCH.on = True
        return self

    def __exit__(self, *exc: object) -> None:
        _WATCH.on = False
        assert _tree(self.outside) == self.before, "something outside the roots changed"
        real = os.path.realpath(self.outside)
        read = [p for p in OPENED if os.path.realpath(p).startswith(real + "/") or os.path.realpath(p) == real]
        assert not read, f"opened outside the roots: {read}"


def _link(at: Path, to: Path) -> None:
    if at.is_dir() and not at.is_symlink():
        shutil.rmtree(at)
    at.parent.mkdir(parents=True, exist_ok=True)
    at.symlink_to(to, target_is_directory=to.is_dir())


def _add_track(sessions: Sessions, session: Path, tmp_wav: Path) -> None:
    sessions.add_track(str(session), "New", str(tmp_wav), bar=1)


# -- symlinks --------------------------------------------------------------------------------------

CASES = ["resonant", "backups", "lock", "audiofiles", "takes", "bak"]


@pytest.mark.parametrize("case", CASES)
def test_a_planted_symlink_never_leads_a_write_outside(world, case: str) -> None:
    sessions, session, outside = world
    wav = write_wav(session / "in.wav", 1.0)  # inside the roots: an allowed import
    name = session.name
    target = {"resonant": (session / ".resonant", outside),
              "backups": (session / ".resonant" / "backups", outside),
              "lock": (session / ".resonant" / "lock", outside / "planted-lock"),
              "audiofiles": (session / "interchange" / name / "audiofiles", outside),
              "takes": (session / ".resonant" / "takes", outside),
              "bak": (session / f"{name}.ardour.bak", outside / "Victim" / "Base.ardour")}[case]
    if case == "audiofiles":
        shutil.copy(session / "interchange" / name / "audiofiles" / "drums.wav", outside / "drums.wav")
    _link(*target)
    with _Watch(outside):
        try:
            _add_track(sessions, session, wav)
            if case == "takes":
                from bridge.ardour import takes

                takes.remember(session, "abcdef12-bass", {"role": "bass"}, b"MThd", ["Bass-abcdef12.wav"])
        except (UnsafePath, BridgeError) as e:
            assert "symlink" in e.message or "outside" in e.message, e.message
    if case == "bak":  # a symlinked .bak is replaced (rename does not follow it), never written through
        assert not (session / f"{name}.ardour.bak").is_symlink()


def test_a_symlink_swapped_in_during_the_copy_changes_nothing_outside(world, monkeypatch) -> None:
    sessions, session, outside = world
    wav = write_wav(session / "in.wav", 1.0)
    audio = session / "interchange" / session.name / "audiofiles"
    import bridge.ardour.audiofiles as af

    real_copy = af.shutil.copyfileobj

    def swap_then_copy(src, dst, length=0):
        # between the folder check and the write: the folder becomes a symlink to the outside
        audio.rename(audio.with_name("moved"))
        audio.symlink_to(outside, target_is_directory=True)
        return real_copy(src, dst, length)

    monkeypatch.setattr(af.shutil, "copyfileobj", swap_then_copy)
    with _Watch(outside):
        try:
            _add_track(sessions, session, wav)
        except BridgeError:
            pass
    assert list(outside.glob("New*")) == []


def test_sources_and_search_paths_outside_the_roots_are_never_read(world) -> None:
    sessions, session, outside = world
    file = session / f"{session.name}.ardour"
    text = file.read_text()
    text = text.replace('name="drums.wav"', f'name="{outside / "secret.wav"}"')
    file.write_text(text)
    with _Watch(outside):
        with pytest.raises(UnsafePath, match="outside the allowed session roots"):
            sessions.mixdown(str(session), session / "mix.wav")
        with pytest.raises(UnsafePath, match="outside the allowed session roots"):
            sessions.analysis(str(session))
        d = sessions.describe(str(session))  # describing reads no audio: it says where the file is not
        used = [src for t in d["tracks"] for r in t["regions"] for src in r["sources"]]
        assert used and all(src["outside_roots"] for src in used if src["name"].endswith("secret.wav"))
    # an audio-search-path outside: the file is looked for inside the session only
    text = file.read_text().replace(f'name="{outside / "secret.wav"}"', 'name="secret.wav"')
    text = text.replace("<Config>", f'<Config>\n    <Option name="audio-search-path" value="{outside}"/>')
    file.write_text(text)
    with _Watch(outside), pytest.raises(UnsafePath):
        sessions.mixdown(str(session), session / "mix2.wav")


def test_outside_the_roots_every_path_gets_the_same_answer(world) -> None:
    sessions, session, outside = world
    messages = []
    for p in (outside / "Victim" / "Base.ardour", outside / "Victim", outside / "nothing-here", outside / "secret.wav",
              session.parent / ".." / "outside" / "Victim"):
        with pytest.raises(UnsafePath) as e:
            sessions.describe(str(p))
        messages.append(e.value.message.replace(str(p), "PATH"))
    assert len(set(messages)) == 1, messages
    # a symlink inside the roots to a session outside: the same answer too
    (session.parent / "Alias").symlink_to(outside / "Victim", target_is_directory=True)
    with pytest.raises(UnsafePath) as e:
        sessions.describe(str(session.parent / "Alias"))
    assert e.value.message.replace(str(session.parent / "Alias"), "PATH") == messages[0]


def test_backup_rotation_deletes_only_its_own_files(world) -> None:
    sessions, session, outside = world
    s = read_session(session)
    folder = session / ".resonant" / "backups"
    folder.mkdir(parents=True)
    theirs = [folder / "notes.txt", folder / f"{s.snapshot}-mine.ardour", folder / f"{s.snapshot}-2024.ardour"]
    for p in theirs:
        p.write_text("the user's")
    (folder / f"{s.snapshot}-20240101-000000-000000001.ardour").symlink_to(outside / "Victim" / "Base.ardour")
    with _Watch(outside):
        for _ in range(25):
            backup(s, b"<Session/>")
    assert all(p.read_text() == "the user's" for p in theirs)
    ours = [p for p in folder.iterdir() if re.match(rf"{s.snapshot}-\d{{8}}-\d{{6}}-\d{{9}}\.ardour$", p.name)
            and not p.is_symlink()]
    assert len(ours) == 20


# -- limits ----------------------------------------------------------------------------------------

def _timed(fn, *args, **kw):
    t0 = time.perf_counter()
    try:
        fn(*args, **kw)
    except BridgeError as e:
        return e, time.perf_counter() - t0
    raise AssertionError(f"{fn.__name__}{args} did not refuse")


def test_requests_for_unbounded_work_are_refused_at_once_with_the_setting(world) -> None:
    sessions, session, _ = world
    cases = [
        (sessions.mixdown, (str(session), None, None, (1, 1500)), LimitExceeded, "audio_seconds"),
        (sessions.mixdown, (str(session), None, None, (1, 99999)), LimitExceeded, "audio_seconds"),
        (sessions.analysis, (str(session), (1, 99999)), LimitExceeded, "audio_seconds"),
        (sessions.add_track, (str(session), "X", str(session / "in.wav"), float("nan")), InvalidInput, "number"),
        (sessions.add_track, (str(session), "X", str(session / "in.wav"), float("inf")), InvalidInput, "number"),
        (sessions.add_track, (str(session), "X", str(session / "in.wav"), 1e300), InvalidInput, "100000"),
        (sessions.add_track, (str(session), "X", str(session / "in.wav"), 1e10), InvalidInput, "100000"),
        (sessions.describe, (str(session / ("x" * 300)),), InvalidInput, "255 bytes"),
        (sessions.describe, ("/" + "a/" * 2100,), InvalidInput, "4096"),
    ]
    write_wav(session / "in.wav", 1.0)
    for fn, args, kind, says in cases:
        err, seconds = _timed(fn, *args)
        assert isinstance(err, kind) and says in err.message, (fn.__name__, args[1:], err)
        assert seconds < 1.0, (fn.__name__, seconds)


def _with_range(session: Path, end: str) -> None:
    file = session / f"{session.name}.ardour"
    text = re.sub(r'(<Location[^>]*name="session"[^>]*end=")[^"]*"', rf'\g<1>{end}"', file.read_text())
    file.write_text(text)


def test_a_session_range_past_ardours_timeline_or_hours_long_is_refused(world) -> None:
    sessions, session, _ = world
    _with_range(session, f"a{2**62 + 5}")
    err, seconds = _timed(sessions.describe, str(session))
    assert isinstance(err, MalformedSession) and "2^62" in err.message and seconds < 1
    _with_range(session, f"a{24 * 3600 * 48000 * 282240000 // 48000}")  # 24 hours, in superclock
    err, seconds = _timed(sessions.analysis, str(session))
    assert isinstance(err, LimitExceeded) and seconds < 1
    err, seconds = _timed(sessions.mixdown, str(session), None)
    assert isinstance(err, LimitExceeded) and seconds < 1


def _many_regions(session: Path, n: int) -> None:
    file = session / f"{session.name}.ardour"
    text = file.read_text()
    playlists = text.index("<Playlists>")
    m = re.compile(r"<Region [^>]*/>|<Region [^>]*>.*?</Region>", re.S).search(text, playlists)
    assert m, "the fixture has a region"
    region = m.group(0)
    copies = "".join(re.sub(r'id="\d+"', f'id="{900000 + i}"', region, count=1) for i in range(n))
    file.write_text(text[:m.end()] + copies + text[m.end():])


def test_more_regions_than_the_limit_are_refused_before_any_work(world) -> None:
    sessions, session, _ = world
    sessions.config.limit_regions = 1000
    _many_regions(session, 1500)
    err, seconds = _timed(sessions.describe, str(session))
    assert isinstance(err, LimitExceeded) and "[limits] regions" in err.message and seconds < 1


class _R:
    def __init__(self, position: int, length: int, index: int) -> None:
        self.position, self.length, self.layering_index, self.layer = position, length, index, -1


def test_layering_in_n_log_n_is_the_same_as_every_pair_compared() -> None:
    import random

    rng = random.Random(7)
    for _ in range(300):
        n = rng.randrange(49, 200)  # past layers.SMALL: the segment tree
        spec = [(rng.randrange(0, 3000), rng.randrange(1, 400), i) for i in rng.sample(range(n), n)]
        fast, slow = [_R(*x) for x in spec], [_R(*x) for x in spec]
        layers.assign_layers(fast)
        layers._pairwise(slow)
        assert [r.layer for r in fast] == [r.layer for r in slow]


# -- leftovers -------------------------------------------------------------------------------------

def test_a_killed_writers_temp_files_and_unregistered_audio_go_at_the_next_write(world) -> None:
    sessions, session, _ = world
    dead = _dead_pid()
    audio = session / "interchange" / session.name / "audiofiles"
    (session / ".resonant").mkdir(exist_ok=True)
    left = [session / f".{session.name}.ardour.{dead}.0badc0de.resonant-tmp",
            session / f".{session.name}.ardour.bak.{dead}.0badc0de.resonant-tmp",
            audio / f".New.wav.{dead}.0badc0de.resonant-tmp"]
    for p in left:
        p.write_text("half")
    orphan = audio / "Orphan-12345678.wav"
    write_wav(orphan, 0.5)
    (session / ".resonant" / f"intent-{dead}-0badc0de.json").write_text(json.dumps(
        {"files": [str(orphan.relative_to(session)), "interchange/x/audiofiles/drums.wav"]}))
    live = session / f".{session.name}.ardour.{os.getpid()}.00c0ffee.resonant-tmp"  # a live writer's: kept
    live.write_text("in progress")
    sessions.set_tracks(str(session), ["Drums"], locked=True)
    assert not any(p.exists() for p in left) and not orphan.exists() and live.exists()
    assert (audio / "drums.wav").exists()  # named by the session: never removed
    assert not list((session / ".resonant").glob("intent-*"))


def test_a_killed_midi_delivery_leaves_nothing_the_session_does_not_name(world) -> None:
    """A cut-off MIDI track commit: its MIDI file, its synth's state and its temp files go at the next
    write (listed in its intent record); a MIDI file the session plays stays."""
    sessions, session, _ = world
    dead = _dead_pid()
    midi = session / "interchange" / session.name / "midifiles"
    state = session / "plugins" / "9911" / "state1"
    midi.mkdir(parents=True, exist_ok=True)
    state.mkdir(parents=True)
    (session / ".resonant").mkdir(exist_ok=True)
    half = [midi / f".Bass-1.mid.{dead}.0badc0de.resonant-tmp", state / f".state.ttl.{dead}.0badc0de.resonant-tmp"]
    placed = [midi / "Bass-12345678.mid", state / "manifest.ttl"]
    for f in half + placed:
        f.write_text("x")
    (session / ".resonant" / f"intent-{dead}-0badc0de.json").write_text(json.dumps(
        {"files": [str(f.relative_to(session)) for f in placed]}))
    sessions.set_tracks(str(session), ["Drums"], locked=True)
    assert not any(f.exists() for f in half + placed)


def test_a_failed_midi_track_commit_removes_what_it_made(world, monkeypatch) -> None:
    from bridge.ardour import SessionEditor
    from bridge.audio.synth import musical_smf, soundfont_path
    from bridge.music.parts.common import NoteEvent

    _, session, _ = world
    s = read_session(session)
    before = ardour_tools.folder_state(session)
    smf = session.parent / "part.mid"
    smf.write_bytes(musical_smf([NoteEvent(0, 1, 40, 100)], 33, False, s.tempo_map, 0.0, "bass"))
    ed = SessionEditor(s)
    ed.add_midi_track("Bass MIDI", smf, 0, soundfont_path(), role="bass")
    import bridge.ardour.writer as writer

    real = writer.check_writable

    def refuse(s, *unchanged):  # the last check before the rename (files placed by then) finds a change
        if unchanged:
            return real(s, *unchanged)
        raise SessionChangedOnDisk("Ardour saved it meanwhile")

    monkeypatch.setattr(writer, "check_writable", refuse)
    with pytest.raises(SessionChangedOnDisk):
        ed.commit()
    after = ardour_tools.folder_state(session)

    def kept(state: dict) -> set[str]:  # the bridge's own folder and the backup of the file as it was aside
        return {k for k in state if not k.startswith(".resonant") and not k.endswith(".ardour.bak")}

    assert kept(after) == kept(before)
    assert not (session / "plugins").exists() or not any((session / "plugins").iterdir())


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


# -- writers at the same time ----------------------------------------------------------------------

def test_edits_from_many_threads_take_turns_and_all_land(world) -> None:
    sessions, session, _ = world
    wav = write_wav(session / "in.wav", 0.5)
    errors: list[BaseException] = []

    def add(i: int) -> None:
        try:
            sessions.add_track(str(session), f"T{i}", str(wav), bar=1)
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    names = {t.name for t in read_session(session).tracks}
    assert {f"T{i}" for i in range(8)} <= names


def test_an_edit_that_meets_a_change_reads_again_and_lands(world, monkeypatch) -> None:
    sessions, session, _ = world
    file = session / f"{session.name}.ardour"
    import bridge.ardour.writer as writer

    real = writer.SessionEditor._commit_locked
    calls = {"n": 0}

    def touched_first(self):
        calls["n"] += 1
        if calls["n"] == 1:  # something else saves the session between our read and our rename
            data = file.read_bytes()
            file.write_bytes(data.replace(b"</Session>", b"<!-- saved by someone else -->\n</Session>"))
        return real(self)

    monkeypatch.setattr(writer.SessionEditor, "_commit_locked", touched_first)
    sessions.set_tracks(str(session), ["Drums"], locked=True)
    assert calls["n"] == 2 and read_session(session).track("Drums").locked
    assert b"saved by someone else" in file.read_bytes()  # their change kept, ours on top


# -- privacy ---------------------------------------------------------------------------------------

def test_the_lock_is_private_and_never_a_symlink(world) -> None:
    _, session, outside = world
    with session_lock(session):
        pass
    assert (session / ".resonant" / "lock").stat().st_mode & 0o777 == 0o600
    assert (session / ".resonant").stat().st_mode & 0o777 == 0o700


def test_mcp_tokens_that_are_weak_or_exposed_are_refused(tmp_path: Path, monkeypatch) -> None:
    from mcp_server.transports import mcp_token

    monkeypatch.delenv("RESONANT_MCP_TOKEN", raising=False)
    cfg = Config(data_dir=tmp_path / "d")
    token = mcp_token(cfg)
    path = tmp_path / "d" / "mcp-token"
    assert len(token) >= 32 and path.stat().st_mode & 0o777 == 0o600 and mcp_token(cfg) == token
    path.chmod(0o666)
    with pytest.raises(InvalidInput, match="only you can read"):
        mcp_token(cfg)
    path.write_text("weak\n")
    path.chmod(0o600)
    with pytest.raises(InvalidInput, match="too short"):
        mcp_token(cfg)
    path.unlink()
    path.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InvalidInput, match="symlink"):
        mcp_token(cfg)
    monkeypatch.setenv("RESONANT_MCP_TOKEN", "weak")
    with pytest.raises(InvalidInput, match="at least 32"):
        mcp_token(cfg)


# -- the daemon: who may talk to it, and what it leaves readable ----------------------------------

def _send_as_nobody(port: int, address: str, *args: object) -> tuple[str, list]:
    """One OSC request from a socket that another user owns (a forked child that became nobody)."""
    import pwd
    import socket

    from pythonosc.osc_message import OscMessage

    from bridge.frontends.osc import build

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(r)
            nobody = pwd.getpwnam("nobody")
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.settimeout(5)
            s.sendto(build(address, list(args)), ("127.0.0.1", port))
            m = OscMessage(s.recv(65536))
            os.write(w, json.dumps([m.address, list(m.params)]).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    os.waitpid(pid, 0)
    assert data, "the other user's request got no answer"
    address, params = json.loads(data)
    return address, params


def test_osc_from_another_user_is_refused_and_changes_nothing(world, tmp_path: Path) -> None:
    from tests.ardour_tools import folder_state
    from tests.daemon_tools import OscClient, start_daemon

    if os.geteuid() != 0:
        pytest.skip("needs root to send as another user (CI runs as root)")
    _, session, _ = world
    before = folder_state(session)
    proc, port = start_daemon(tmp_path / "data", env={"RESONANT_SESSION_ROOTS": str(session.parent)})
    try:
        for call in (("/resonant/track/lock", str(session), "Drums"), ("/resonant/session/describe", str(session)),
                     ("/resonant/generate", str(session), "bass")):
            address, args = _send_as_nobody(port, *call)
            assert address == "/resonant/error" and args[:2] == [call[0], "forbidden"], (address, args)
            assert "uid" in args[2]
        assert _send_as_nobody(port, "/resonant/ping")[0] == "/resonant/ping"  # open to anyone: says nothing
        assert folder_state(session) == before
        # the daemon's own user still gets through, and ping is open to anyone
        c = OscClient(port)
        try:
            reply = c.ask("/resonant/track/lock", str(session), "Drums")
            assert reply[0] == "/resonant/track/lock", reply
            assert read_session(session).track("Drums").locked
            assert c.ask("/resonant/ping")[0] == "/resonant/ping"
        finally:
            c.close()
    finally:
        proc.terminate()
        proc.wait(30)


def test_host_and_origin_are_checked_on_any_bind_and_the_data_folder_is_private(world, tmp_path: Path) -> None:
    import httpx2 as httpx

    from tests.daemon_tools import OscClient, free_port, start_daemon

    _, session, _ = world
    port = free_port()
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # made by someone else's umask: the daemon makes it private again
    proc, osc = start_daemon(data, "--bind", "127.0.0.2", "--mcp-port", str(port))
    try:
        token = (data / "mcp-token").read_text().strip()
        url = f"http://127.0.0.2:{port}/mcp"
        auth = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json"}
        hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
        evil_host = httpx.post(url, json=hello, headers={**auth, "Host": "evil.example"}, timeout=10)
        evil_origin = httpx.post(url, json=hello, headers={**auth, "Origin": "http://evil.example"}, timeout=10)
        good = httpx.post(url, json=hello, headers=auth, timeout=10)
        assert evil_host.status_code in (403, 421) and evil_origin.status_code in (403, 421)
        assert good.status_code == 200, good.text
        # a job's files, the job store and the token: the user's only
        c = OscClient(osc, timeout=10, host="127.0.0.2")
        _, (job,) = c.ask("/resonant/generate", "", "bass", "house", 1, 1, 1)
        for _ in range(600):
            _, st = c.ask("/resonant/job/status", job)
            if st[1] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert st[1] == "done", st
        stems = list((data / "jobs" / job).iterdir())
        assert stems and all(p.stat().st_mode & 0o077 == 0 for p in stems), [oct(p.stat().st_mode) for p in stems]
        assert (data / "jobs").stat().st_mode & 0o077 == 0
        assert data.stat().st_mode & 0o777 == 0o700
        for name in ("jobs.sqlite3", "mcp-token"):
            assert (data / name).stat().st_mode & 0o777 == 0o600, name
        for extra in data.glob("jobs.sqlite3-*"):
            assert extra.stat().st_mode & 0o077 == 0, extra
        c.close()
    finally:
        proc.terminate()
        proc.wait(30)


def test_loudness_of_long_audio_in_chunks_is_the_same_as_in_one_pass(monkeypatch) -> None:
    """Memory bounded for long renders: K-weighting a minute at a time (the filter state carried)
    gives the one-pass value, which the tests elsewhere check against pyloudnorm."""
    import numpy as np

    from bridge.audio import features

    rng = np.random.default_rng(1)
    n = int(150.3 * 48000)
    x = (rng.standard_normal((n, 2)) * np.linspace(0.01, 0.3, n)[:, None]).astype(np.float32)
    x[: n // 5] = 0
    chunked = features.integrated_loudness(x, 48000)
    monkeypatch.setattr(features, "LOUDNESS_CHUNK_S", 10 ** 6)
    assert abs(chunked - features.integrated_loudness(x, 48000)) < 1e-9


def test_long_audio_goes_to_the_analysis_rate_exactly_in_chunks() -> None:
    import numpy as np
    from scipy.signal import resample_poly

    from bridge.audio import features

    x = np.random.default_rng(0).standard_normal(48000 * 130 + 7).astype(np.float32)
    one = resample_poly(x.astype(np.float64), 1, 4)
    got = features.to_analysis_rate(x, 48000)
    assert got.shape == one.shape and float(np.max(np.abs(got - one))) == 0.0
    y = np.random.default_rng(1).standard_normal(44100 * 70 + 3).astype(np.float32)  # 44.1 kHz: 40/147
    assert np.array_equal(features.to_analysis_rate(y, 44100), resample_poly(y.astype(np.float64), 40, 147))
