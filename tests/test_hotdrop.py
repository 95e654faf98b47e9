"""Hot-drop against the real Ardour: the closed path (XML), the open path (inbox + the Lua hook in
Ardour's GUI under Xvfb), the hook in Ardour's own Lua, the installer's registration, and what
happens without the hook (timeout, files kept, XML untouched)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from lxml import etree

from bridge.ardour import read_session
from bridge.ardour.live import inbox
from bridge.ardour.live.client import ArdourOsc
from bridge.ardour.live.scripts import HOOK_ID, SCRIPTS, assembled, merge_hook, timer_ds_signals
from bridge.ardour.names import first_playlist_name, route_name
from bridge.ardour.programs import ArdourInstall
from bridge.ardour.writer import next_take_name
from bridge.frontends.cli.main import main as cli
from bridge.roles import COLOURS
from tests import ardour_tools, gui_tools
from tests.conftest import write_wav
from tests.daemon_tools import OscClient, start_daemon

pytestmark = pytest.mark.ardour
RATE = 48000


def _session_with_bass(tmp_path: Path, name: str = "Live", ardour: ArdourInstall | None = None) -> Path:
    """An Ardour-made session (120 BPM) with an unlocked Bass track playing 4 bars of a tone."""
    folder = ardour_tools.new_session(tmp_path, name, ardour=ardour)
    assert cli(["session", "add-track", "--role", "bass", str(folder), "Bass",
                str(write_wav(tmp_path / "bass.wav", 8.0, channels=2, freq=110, amp=0.3))]) == 0
    return folder


def _lua(script: str, tmp_path: Path, **env: str) -> str:
    return ardour_tools.lua_text(script, tmp_path, **env)


# -- the scripts in Ardour's own Lua ---------------------------------------------------------------

@pytest.mark.parametrize("ardour,major", ardour_tools.params())
def test_every_script_compiles_in_ardours_lua_and_has_a_header(ardour: ArdourInstall | None, major: int,
                                                                tmp_path: Path) -> None:
    a = ardour_tools.require(ardour, major)
    scripts = sorted(assembled(tmp_path / "scripts").values())  # as the installer writes them
    assert {p.name for p in scripts} >= {"resonant_inbox.lua", "resonant_generate.lua",
                                         "resonant_regenerate.lua", "resonant_lock.lua"}
    checks = "\n".join(f'local f, err = loadfile ({json.dumps(str(p))}); print ("LOAD|{p.name}|" .. tostring (err))'
                       for p in scripts)
    out = ardour_tools.lua_text(checks + '\nprint ("LUA-DONE")\nio.stdout:flush ()\nquit ()\n', tmp_path, a)
    for p in scripts:
        assert f"LOAD|{p.name}|nil" in out, out[-2000:]
        kind = re.search(r'\["type"\]\s*=\s*"(\w+)"', p.read_text())
        assert "@resonant-include" not in p.read_text(), p.name
        assert kind and kind.group(1) in ("EditorHook", "EditorAction"), p.name


def test_the_hook_reads_a_manifest_and_makes_tracks_and_takes_in_ardours_lua(tmp_path: Path) -> None:
    major = ardour_tools.require_ardour().major
    folder = _session_with_bass(tmp_path)
    next_take = next_take_name("Bass", {p.name for p in read_session(folder).playlists.values()})
    take = inbox.Drop(track="Bass", role="bass", file="", position=96000, first_bar=2, last_bar=5,
                      take=next_take, new_track=False, channels=2, frames=RATE * 8)
    new = inbox.Drop(track='Mélodie "1"', role="melody", file="", position=48000, first_bar=1, last_bar=4,
                     take="Mélodie.1", new_track=True, channels=2, frames=RATE * 8)
    tone = write_wav(tmp_path / "t.wav", 8.0, channels=2, freq=220, amp=0.3)
    inbox.post(folder, "job-probe-1", "generate", [(tone, take), (tone, new)], None)
    out = ardour_tools.run_lua(ardour_tools.LUA / "hook_probe.lua", folder, "Live",
                               HOOK=str(SCRIPTS / "resonant_inbox.lua"),
                               ACK=str(inbox.inbox_of(folder) / "job-probe-1.ack"))
    imports = [line.split("|")[1:] for line in out.splitlines() if line.startswith("IMPORT|")]
    # the stand-in Editor saw Ardour's real objects: the new take on Bass, the new track, the positions
    made = route_name('Mélodie "1"', major)  # what that Ardour calls the new track
    assert [(t, pl, int(pos), Path(f).parent.name, to_track) for t, pl, pos, f, to_track in imports] == [
        ("Bass", next_take, 96000, "job-probe-1", "true"),
        (made, first_playlist_name('Mélodie "1"', major), 48000, "job-probe-1", "true")]
    assert f"TRACK|{made}|" in out
    # a stand-in that imports nothing: the hook says so instead of claiming success
    ack = inbox.read_ack(folder, "job-probe-1")
    assert ack is not None and ack["status"] == "error" and "imported nothing" in ack["detail"]
    assert ack["placed"] == {} and sorted(ack["failed"]) == [0, 1]


def test_installer_registers_the_hook_the_way_ardour_restores_it(tmp_path: Path) -> None:
    ardour_tools.require_ardour()
    theirs = (b'<?xml version="1.0"?><UIScripts><ActionScript lua="Lua 5.3">AAAA</ActionScript><ActionHooks>'
              b'<LuaCallback lua="Lua 5.3" id="77" name="theirs" signals="1">QUJD</LuaCallback></ActionHooks>'
              b'</UIScripts>')
    source = (SCRIPTS / "resonant_inbox.lua").read_text()
    merged = merge_hook(merge_hook(theirs, source), source)  # twice: replaced, not duplicated
    root = etree.fromstring(merged)
    assert root.find("ActionScript").text == "AAAA"
    hooks = root.find("ActionHooks").findall("LuaCallback")
    assert [h.get("id") for h in hooks] == ["77", HOOK_ID]
    ours = hooks[1]
    # Ardour reads signals as a std::bitset: bit 47 (rightmost character = bit 0) is LuaTimerDS
    assert ours.get("signals") == timer_ds_signals(7) and timer_ds_signals(7)[::-1].index("1") == 47
    assert timer_ds_signals(9)[::-1].index("1") == 49  # 9 has two more signals before the timers
    state = tmp_path / "state.lua"
    state.write_bytes(base64.b64decode(ours.text))
    # what LuaCallback's restore does with it (gtk2_ardour/luainstance.cc), in Ardour's Lua 5.3
    out = _lua(f"""
        local text = io.open ({json.dumps(str(state))}):read ("a")
        load (text) ()
        local f = load (s['f'])
        local instance = load (string.dump (f, true), nil, nil, _ENV) (s['a'])
        local source = io.open ({json.dumps(str(SCRIPTS / "resonant_inbox.lua"))}):read ("a")
        print ("RESTORED|" .. s['n'] .. "|" .. type (instance) .. "|" .. tostring (s['s'] == source))
        print ("LUA-DONE")
        io.stdout:flush ()
        quit ()
    """, tmp_path)
    assert "RESTORED|Resonant: import delivered stems|function|true" in out, out[-2000:]


# -- closed session ------------------------------------------------------------------------------------

def test_closed_session_regenerate_writes_a_take_that_ardour_plays_where_it_belongs(tmp_path: Path) -> None:
    ardour_tools.require_ardour()
    folder = _session_with_bass(tmp_path)
    before = read_session(folder)
    old_take = before.playlist_of(before.track("Bass")).name
    new_take = next_take_name("Bass", {p.name for p in before.playlists.values()})
    out = subprocess.run([str(Path(os.sys.executable).parent / "resonant"), "regenerate", str(folder), "Bass",
                          "--bars", "2-3", "--seed", "5", "--json"], capture_output=True, text=True, timeout=300)
    job = json.loads(out.stdout)
    assert job["status"] == "done" and job["delivery"]["method"] == "session", out.stderr[-2000:]
    tracks = ardour_tools.dump(folder, "Live", save=True)  # Ardour loads it, and saves it as it sees it
    s = read_session(folder)
    bass = s.track("Bass")
    assert [r["playlist"] for r in tracks["Bass"]] and {r["playlist"] for r in tracks["Bass"]} == {new_take}
    assert {p.name for p in s.takes_of(bass)} == {old_take, new_take}  # the previous take is kept
    stem, _ = sf.read(job["delivery"]["files"][0], always_2d=True)  # the copy inside the session
    start = job["stems"][0]["start"]
    mix, rate = ardour_tools.export(folder, "Live", tmp_path / "mix.wav")
    assert rate == RATE
    # where the stem plays, the export is the stem (through the fader at 0 dB and the master bus)
    a, b = start + 4096, start + len(stem) - 4096
    seg, ref = mix[a:b, 0], stem[a - start:b - start, 0]
    corr = float(np.dot(seg, ref) / (np.linalg.norm(seg) * np.linalg.norm(ref) + 1e-12))
    assert corr > 0.99, corr


# -- open session: the GUI with the hook ---------------------------------------------------------------

@pytest.mark.parametrize("ardour,major", ardour_tools.params())
def test_open_session_gets_the_stems_through_ardours_hook(ardour: ArdourInstall | None, major: int,
                                                          tmp_path: Path) -> None:
    a = gui_tools.require_gui(ardour_tools.require(ardour, major))
    folder = _session_with_bass(tmp_path, ardour=a)
    assert cli(["session", "lock", str(folder), "Bass"]) == 0  # context for the new melody
    from bridge.ardour import SessionEditor

    ed = SessionEditor(read_session(folder))
    ed.set_control_protocol("Open Sound Control (OSC)", True)
    ed.commit()
    proc, port = start_daemon(tmp_path / "data", env={"RESONANT_ACK_TIMEOUT_S": "120"})
    c = OscClient(port, timeout=10)
    try:
        with gui_tools.ardour_gui(folder / "Live.ardour", tmp_path, ardour=a):
            before = (folder / "Live.ardour").read_bytes()
            # locking and unlocking while Ardour has it open goes beside the XML, not into it
            assert c.ask("/resonant/track/toggle_lock", str(folder), "Bass")[1] == ["Bass", "bass", 0]
            assert (folder / "Live.ardour").read_bytes() == before
            _, (gen,) = c.ask("/resonant/generate", str(folder), "melody", "lo-fi", 2, 1, 3)
            _, (regen,) = c.ask("/resonant/regenerate", str(folder), "Bass", "2-3", "", 4)
            jobs = {}
            deadline = time.monotonic() + 240
            while len(jobs) < 2 and time.monotonic() < deadline:
                for j in (gen, regen):
                    _, st = c.ask("/resonant/job/status", j)
                    if st[1] in ("done", "failed", "cancelled"):
                        jobs[j] = st
                time.sleep(0.5)
            assert jobs[gen][1] == "done" and jobs[regen][1] == "done", (jobs, proc.log_path.read_text()[-3000:])
            assert (folder / "Live.ardour").read_bytes() == before  # the bridge never wrote it
            assert inbox.waiting(folder / inbox.INBOX_DIR) == []  # acknowledged drops are cleared
            # the take Ardour imported (and renamed) is found again with its notes and its recipe: a
            # second regeneration with no prompt starts from it
            with ArdourOsc() as ardour:
                mtime = (folder / "Live.ardour").stat().st_mtime_ns
                ardour.save_state()  # so that the daemon reads the take Ardour made
                for _ in range(100):
                    if (folder / "Live.ardour").stat().st_mtime_ns != mtime:
                        break
                    time.sleep(0.1)
            _, (again,) = c.ask("/resonant/regenerate", str(folder), "Bass", "3-3", "", 6)
            for _ in range(240):
                _, st = c.ask("/resonant/job/status", again)
                if st[1] in ("done", "failed"):
                    break
                time.sleep(0.5)
            assert st[1] == "done", st
            meta = read_job(tmp_path, port, again)["stems"][0]["metadata"]
            assert meta["previous_notes"] and meta["previous_recipe"], meta
            assert meta["plan"]["decided"]["prompt"] == "empty: as before"
            assert meta["plan"]["decided"]["style"] == "the previous take"
            with ArdourOsc() as ardour:
                mtime = (folder / "Live.ardour").stat().st_mtime_ns
                ardour.save_state()
                for _ in range(100):
                    if (folder / "Live.ardour").stat().st_mtime_ns != mtime:
                        break
                    time.sleep(0.1)
            time.sleep(1.0)
        s = read_session(folder)
        details = {j: json.loads(json.dumps(read_job(tmp_path, port, j))) for j in (gen, regen)}
    finally:
        c.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    melody = s.track("Melody")
    assert melody.role == "melody" and not melody.locked  # the role comes from the name Ardour keeps
    tree = etree.parse(str(folder / "Live.ardour"))
    (info,) = tree.xpath("//Routes/Route[@name='Melody']/PresentationInfo")
    assert int(info.get("color")) == COLOURS["melody"]  # the hook gave the new track its role's colour
    (m_region,) = s.regions_of(melody)
    assert m_region.position == details[gen]["stems"][0]["start"]
    bass = s.track("Bass")
    assert not bass.locked  # the toggle made while open still applies
    # the XML gave Bass its first playlist as that Ardour names it (7: Bass, 8/9: Bass.1): the takes follow
    assert s.playlist_of(bass).name == ("Bass.2" if major < 8 else "Bass.3") and len(s.takes_of(bass)) == 3
    (b_region,) = s.regions_of(bass)
    assert b_region.position == details[regen]["stems"][0]["start"]
    assert b_region.length == sf.info(details[regen]["stems"][0]["wav"]).frames
    for j in (gen, regen):
        assert details[j]["delivery"]["method"] == "ardour"


def read_job(tmp_path: Path, port: int, job_id: str) -> dict:
    """A job's full record from the daemon's store (the SQLite file is shared with the daemon)."""
    import asyncio

    from bridge.jobs.store import JobStore

    async def get() -> dict:
        store = await JobStore(tmp_path / "data" / "jobs.sqlite3").open()
        try:
            return (await store.get(job_id)).to_dict()
        finally:
            await store.close()

    return asyncio.run(get())


# -- open session without the hook ----------------------------------------------------------------------

def test_without_the_hook_the_job_fails_after_the_timeout_and_the_files_wait(tmp_path: Path) -> None:
    ardour_tools.require_ardour()
    folder = _session_with_bass(tmp_path)
    with ardour_tools.hold_open(folder, "Live"):
        _without_the_hook(tmp_path, folder)


def _without_the_hook(tmp_path: Path, folder: Path) -> None:
    proc, port = start_daemon(tmp_path / "data", env={"RESONANT_ACK_TIMEOUT_S": "2"})
    c = OscClient(port, timeout=10)
    try:
        xml = (folder / "Live.ardour").read_bytes()
        _, (job,) = c.ask("/resonant/regenerate", str(folder), "Bass", "", "", 2)
        st = None
        for _ in range(240):
            _, st = c.ask("/resonant/job/status", job)
            if st[1] in ("done", "failed"):
                break
            time.sleep(0.5)
        assert st[1] == "failed" and "did not import the stems within 2 s" in st[4], st
        assert "install-scripts" in st[4]
        assert (folder / "Live.ardour").read_bytes() == xml
        box = inbox.inbox_of(folder)
        assert inbox.waiting(box) == [job]  # still offered to the hook
        manifest = json.loads((box / f"{job}.json").read_text())
        assert manifest["drops"][0]["track"] == "Bass" and Path(manifest["drops"][0]["file"]).is_file()
        # an ack for nobody, and a bad one, are answered, and the daemon keeps going
        assert c.ask("/resonant/ack", "no-such-job", "ok")[1] == ["no-such-job", 0]
        assert c.ask("/resonant/ack", job, "maybe")[1][:2] == ["/resonant/ack", "invalid_input"]
        assert c.ask("/resonant/ping")[1][0] == "pong"
    finally:
        c.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_a_partial_import_is_reported_as_partial(tmp_path: Path) -> None:
    """Ardour's hook places the drums and fails on the melody: the job fails, and its error, its
    delivery and the MCP hint say that the drums are in the session."""
    from mcp_server.server import _job

    ardour_tools.require_ardour()
    folder = _session_with_bass(tmp_path)
    assert cli(["session", "add-track", str(folder), "Source", str(write_wav(tmp_path / "s.wav", 2.0, channels=2,
                                                                              amp=0.3)), "--role", "other"]) == 0
    proc, port = start_daemon(tmp_path / "data", env={"RESONANT_ACK_TIMEOUT_S": "120"})
    c = OscClient(port, timeout=10)
    try:
        with ardour_tools.hold_open(folder, "Live"):  # Ardour has it open: the stems go to the inbox
            _, (job,) = c.ask("/resonant/generate", str(folder), "drums,melody", "funk", 2, 1, 3)
            box = inbox.inbox_of(folder)
            for _ in range(240):
                if inbox.waiting(box) == [job]:
                    break
                time.sleep(0.25)
            assert inbox.waiting(box) == [job], proc.log_path.read_text()[-3000:]
            out = ardour_tools.run_lua(ardour_tools.LUA / "hook_probe.lua", folder, "Live",
                                       HOOK=str(SCRIPTS / "resonant_inbox.lua"), REGION_FROM="Source",
                                       # the file is named by its take: Melody-JOB in 7, Melody.1-JOB in 8/9
                                       FAIL_FILE="/Melody", ACK=str(box / f"{job}.ack"))
            assert "ACK|partial" in out, out[-3000:]
            for _ in range(120):
                _, st = c.ask("/resonant/job/status", job)
                if st[1] in ("done", "failed"):
                    break
                time.sleep(0.25)
        assert st[1] == "failed" and "Drums" in st[4] and "Melody did not" in st[4], st
        j = read_job(tmp_path, port, job)
        assert j["stage"] == "partial" and [t["track"] for t in j["delivery"]["tracks"]] == ["Drums"]
        hint = _job(j).hint
        assert "Drums reached the session" in hint and "Nothing was written" not in hint
    finally:
        c.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


# -- the action scripts, in Ardour's own Lua, sending real OSC ---------------------------------------

def _action(tmp_path: Path, folder: Path, script: str, a: ArdourInstall | None = None, snapshot: str = "Live",
            **env: str) -> tuple[str, list[tuple[str, list]]]:
    import socket

    from pythonosc.osc_message import OscMessage

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    try:
        out = ardour_tools.run_lua(ardour_tools.LUA / "action_probe.lua", folder, snapshot, a,
                                   ACTION=str(assembled(tmp_path / "scripts")[script]), URI=f"osc.udp://127.0.0.1:{sock.getsockname()[1]}",
                                   **env)
        got = []
        while True:
            try:
                m = OscMessage(sock.recv(65536))
            except TimeoutError:
                break
            got.append((m.address, list(m.params)))
    finally:
        sock.close()
    assert "LUA-DONE" in out, out[-2000:]
    return out, got


@pytest.mark.parametrize("ardour,major", ardour_tools.params())
def test_action_scripts_send_what_the_daemon_expects(ardour: ArdourInstall | None, major: int,
                                                     tmp_path: Path) -> None:
    a = ardour_tools.require(ardour, major)
    folder = _session_with_bass(tmp_path, ardour=a)
    file = str(folder / "Live.ardour")
    bar = 2 * RATE  # 120 BPM, 4/4
    down = "MESSAGE|Nothing answered at osc.udp://127.0.0.1:"  # nothing but this test listens there

    def request_id(args: list, at: int = -1) -> str:  # each request carries a fresh id for the daemon's notices
        assert re.fullmatch(r"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+(-\d+)?", args[at]), args
        return args[at]

    # generate: bars from the selected range (bars 3-4), roles and prompt from the dialog
    out, got = _action(tmp_path, folder, a=a, script="resonant_generate.lua", RANGE=f"{2 * bar}-{4 * bar}",
                       DIALOG="prompt=funk;melody=true")
    assert "FIELD|first|3" in out and "FIELD|bars|2" in out
    assert [(m, args[:-2] + args[-1:]) for m, args in got] == [
        ("/resonant/generate", [file, "bass,melody", "funk", 2, 3, 0, 0, ""])]  # deliver: the daemon's setting
    first = request_id(got[0][1], -2)
    assert down in out  # no daemon answered within 3 s: the musician is told so in Ardour
    # regenerate: the selected track, the selected bars
    out, got = _action(tmp_path, folder, a=a, script="resonant_regenerate.lua", SELECT="Bass",
                       RANGE=f"{bar}-{3 * bar}", DIALOG="prompt=busier;seed=9")
    assert [(m, args[:-2] + args[-1:]) for m, args in got] == [
        ("/resonant/regenerate", [file, "Bass", "2-3", "busier", 9, 0, ""])]  # the track's own kind of take
    assert request_id(got[0][1], -2) != first and down in out
    # asked for a MIDI track too: "both"
    _, got = _action(tmp_path, folder, a=a, script="resonant_generate.lua", DIALOG="deliver=both")
    assert got[0][1][-1] == "both"
    _, got = _action(tmp_path, folder, a=a, script="resonant_regenerate.lua", SELECT="Bass", DIALOG="both=true")
    assert got[0][1][-1] == "both"
    # lock: one message per selected track; with nothing selected, a message to the user and no OSC
    _, got = _action(tmp_path, folder, a=a, script="resonant_lock.lua", SELECT="Bass")
    assert [(m, args[:-1]) for m, args in got] == [("/resonant/track/toggle_lock", [file, "Bass"])]
    request_id(got[0][1])
    out, got = _action(tmp_path, folder, a=a, script="resonant_lock.lua")
    assert got == [] and "MESSAGE|Select the tracks" in out and down not in out
    # with Lua sandboxed the request still goes, and the musician is told its answer cannot be shown
    out, got = _action(tmp_path, folder, a=a, script="resonant_lock.lua", SELECT="Bass", SANDBOX="1")
    assert len(got) == 1 and "MESSAGE|Lua scripts are sandboxed" in out and down not in out
    # every action saved the session first: Ardour wrote it, so it is still Ardour-readable
    assert read_session(folder).track("Bass").role == "bass"
    # after "save as snapshot and switch", the actions name the snapshot in use, not the session's name
    shutil.copy(folder / "Live.ardour", folder / "Alt.ardour")
    _, got = _action(tmp_path, folder, a=a, script="resonant_lock.lua", snapshot="Alt", SELECT="Bass")
    assert [(m, args[:-1]) for m, args in got] == [("/resonant/track/toggle_lock", [str(folder / "Alt.ardour"),
                                                                                    "Bass"])]


def test_ardours_own_osc_passes_the_daemons_sender_check(tmp_path: Path) -> None:
    """The daemon answers only its own user (bridge/frontends/peer.py): Ardour's Lua, running as that
    user, must get through — the lock action toggles the lock for real."""
    a = ardour_tools.require_ardour()
    folder = _session_with_bass(tmp_path, ardour=a)
    proc, port = start_daemon(tmp_path / "data")
    try:
        out = ardour_tools.run_lua(ardour_tools.LUA / "action_probe.lua", folder, "Live", a,
                                   ACTION=str(assembled(tmp_path / "scripts")["resonant_lock.lua"]), URI=f"osc.udp://127.0.0.1:{port}",
                                   SELECT="Bass")
        assert "LUA-DONE" in out, out[-2000:]
        assert "MESSAGE|" not in out, out[-2000:]  # the daemon's notice came: no "not answering" dialog
        # and the action showed the daemon's confirmation, then closed its window
        assert "PROGRESS|Resonant: lock Bass|Bass is locked: new parts fit it" in out, out[-2000:]
        assert "PROGRESS-DONE|Resonant: lock Bass" in out
        c = OscClient(port, timeout=10)
        try:
            for _ in range(100):  # the action's datagram is handled by the daemon in its own time
                _, args = c.ask("/resonant/session/describe", str(folder))
                if read_session(folder).track("Bass").locked:
                    break
                time.sleep(0.1)
        finally:
            c.close()
        log = proc.log_path.read_text()
        assert read_session(folder).track("Bass").locked, log[-3000:]
        assert "refused" not in log
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
