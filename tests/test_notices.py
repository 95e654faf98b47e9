"""Notices: the answers Ardour's buttons read beside the session (bridge/ardour/live/notices.py), made
by the real service with its real worker, and sent the way the buttons send (OSC with a request id).
The GUI side (the buttons showing them) is tests/test_gui_buttons.py."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import re
import time
from pathlib import Path

import pytest
from lxml import etree

from bridge.ardour.live import notices
from bridge.ardour.live.scripts import ACTIONS, SCRIPTS, action_name, assemble, merge_actions
from bridge.core.service import BridgeService
from bridge.errors import BridgeError, InvalidInput
from tests.daemon_tools import OscClient, start_daemon
from tests.test_service import config, new_session, running, wait  # noqa: F401 (config is a fixture)


def _states(folder: Path, request: str, seen: list[str]) -> None:
    n = notices.read(folder, request)
    if n is not None and (not seen or seen[-1] != n.state):
        seen.append(n.state)


def test_notice_files_round_trip_and_refuse_bad_ids(tmp_path: Path) -> None:
    folder = new_session(tmp_path)
    n = notices.Notice("running", 0.42, "Resonant: regenerate Bass, bars 3-4", "Rendering bass\u2026", "job-1")
    notices.write(folder, "abc-1", n)
    assert notices.read(folder, "abc-1") == n
    assert notices.listed(folder) == ["abc-1"]
    for bad in ("", "../x", "a/b", "x" * 49, "-lead", "a b"):
        with pytest.raises(InvalidInput):
            notices.write(folder, bad, n)
    assert notices.listed(folder) == ["abc-1"]
    # the index keeps the newest KEEP_MAX; the ones dropped lose their files (and marks)
    (folder / notices.NOTICES_DIR / "abc-1.seen").write_text("done\n")
    for i in range(notices.KEEP_MAX + 3):
        notices.write(folder, f"r-{i}", notices.Notice("done", 1.0, "t", "m"))
    ids = notices.listed(folder)
    assert len(ids) == notices.KEEP_MAX and ids[-1] == f"r-{notices.KEEP_MAX + 2}" and "abc-1" not in ids
    assert not (folder / notices.NOTICES_DIR / "abc-1").exists()
    assert not (folder / notices.NOTICES_DIR / "abc-1.seen").exists()


def test_requests_from_ardour_leave_notices_of_each_step(tmp_path: Path, config) -> None:  # noqa: F811
    song = new_session(tmp_path)

    async def go() -> None:
        async with running(config) as svc:
            job = await svc.generate(str(song), ["bass"], bars=2, seed=1, request="g-1")
            seen: list[str] = []
            for _ in range(600):
                _states(song, "g-1", seen)
                if seen and seen[-1] in notices.FINAL:
                    break
                await asyncio.sleep(0.02)
            assert (await wait(svc, job["id"]))["status"] == "done"
            assert seen[0] in ("received", "queued") and seen[-1] == "done", seen
            done = notices.read(song, "g-1")
            assert done.job == job["id"] and done.progress == 1.0
            assert done.title == "Resonant: generate bass" and done.message == "New track \u201cBass\u201d, bars 1-2"
            # a lock: received, then done with the new state in words
            await svc.toggle_lock(str(song), "Bass", request="l-1")
            assert notices.read(song, "l-1").message == "Bass is locked: new parts fit it"
            assert (song / notices.LOCKS_FILE).read_text() == "Bass\tbass\t1\n"
            # a refusal: the reason, for the musician, where Ardour shows it
            with pytest.raises(BridgeError, match="locked"):
                await svc.regenerate(str(song), "Bass", bars="1-2", request="r-1")
            refused = notices.read(song, "r-1")
            assert refused.state == "error" and "unlock it" in refused.message
            assert refused.title == "Resonant: regenerate Bass, bars 1-2"
            with pytest.raises(BridgeError, match="A-B"):
                await svc.regenerate(str(song), "Bass", bars="two", request="r-2")
            assert notices.read(song, "r-2").state == "error"
            # a session outside the roots: refused, and nothing written beside it
            roots = BridgeService(dataclasses.replace(config, session_roots=[tmp_path / "elsewhere"]))
            with pytest.raises(BridgeError):
                await roots.toggle_lock(str(song), "Bass", request="o-1")
            assert notices.read(song, "o-1") is None
            # without a request id (MCP, CLI): no notice at all
            before = notices.listed(song)
            await svc.toggle_lock(str(song), "Bass")
            assert notices.listed(song) == before

    asyncio.run(go())


def test_the_daemon_answers_an_osc_request_with_a_notice_at_once(tmp_path: Path) -> None:
    song = new_session(tmp_path)
    proc, port = start_daemon(tmp_path / "data")
    c = OscClient(port, timeout=10)
    try:
        t0 = time.monotonic()
        c.send("/resonant/regenerate", str(song / "Song.ardour"), "Nothing", "", "", 0, 0, "osc-1")
        while notices.read(song, "osc-1") is None and time.monotonic() - t0 < 5:
            time.sleep(0.01)
        n = notices.read(song, "osc-1")
        assert n is not None and time.monotonic() - t0 < 3  # the buttons wait 3 s before "not answering"
        for _ in range(100):
            if notices.read(song, "osc-1").state == "error":
                break
            time.sleep(0.02)
        n = notices.read(song, "osc-1")
        assert n.state == "error" and "Nothing" in n.message, n
        assert proc.poll() is None
    finally:
        c.close()
        proc.terminate()
        proc.wait(30)


def test_the_buttons_go_into_free_slots_and_keep_the_users_own() -> None:
    sources = [assemble(a) for a in ACTIONS]
    theirs_state = ("scripts = {} scripts[1] = {} scripts[1]['n'] = \"Mixer Screenshot\" scripts[1]['s'] = \"x\" "
                    "scripts[1]['f'] = \"y\" scripts[3] = {} scripts[3]['n'] = \"List Plugins\" "
                    "scripts[3]['s'] = \"z\" ")

    ui = (b'<?xml version="1.0"?><UIScripts><ActionScript lua="Lua 5.3">' + base64.b64encode(theirs_state.encode())
          + b"</ActionScript><ActionHooks/></UIScripts>")
    once = merge_actions(ui, sources, "osc.udp://127.0.0.1:9200")
    twice = merge_actions(once, sources, "osc.udp://127.0.0.1:9200")
    assert once == twice  # installing again replaces the bridge's buttons, in the same slots
    state = base64.b64decode(etree.fromstring(twice).find("ActionScript").text).decode()
    names = {action_name(s) for s in sources}
    slots = {int(m.group(1)): m.group(2) for m in re.finditer(
        r"scripts\[(\d+)\]\['n'\] = (?:\[=*\[\n)?\"?([^\"\]\n]+)", state)}
    assert slots[1] == "Mixer Screenshot" and slots[3] == "List Plugins"
    assert {slots[2], slots[4], slots[5]} == names
    assert state.count("osc.udp://127.0.0.1:9200") == 3
    assert "scripts[1]['f'] = \"y\"" in state  # the user's own buttons untouched


def test_eased_progress_moves_between_steps_and_never_back() -> None:
    from bridge.core.progress import Eased

    e = Eased(now=0.0)
    assert 0 < e.value(now=2.0) < 0.1  # before the job says anything it still creeps
    e.report(0.25, now=5.0)  # a quarter in 5 s
    shown = [e.value(now=5.0 + k * 0.5) for k in range(40)]
    assert shown == sorted(shown) and shown[0] >= 0.25 and shown[-1] < 0.99
    assert shown[10] - shown[0] > 0.1  # it kept moving over the next 5 s at about the pace so far
    e.report(0.2, now=30.0)  # a lower report (a retry, a second stage) does not move it back
    assert e.value(now=30.0) >= shown[-1]
    e.report(1.0, now=31.0)
    assert e.value(now=31.0) == 1.0


def test_install_scripts_refuses_while_an_ardour_gui_runs(tmp_path: Path, capsys) -> None:
    """A running Ardour rewrites ui_scripts when it saves: installing under it would be undone silently."""
    import shutil
    import subprocess

    from bridge.frontends.cli.main import main as cli

    fake = tmp_path / "ardour-7.3.0"  # the name Debian's Ardour GUI runs under
    shutil.copy(shutil.which("sleep"), fake)
    gui = subprocess.Popen([str(fake), "30"])
    try:
        for _ in range(50):
            if Path(f"/proc/{gui.pid}/comm").read_text().strip() == "ardour-7.3.0":
                break
            time.sleep(0.02)
        assert cli(["ardour", "install-scripts", "--config-home", str(tmp_path / "cfg"), "--major", "7"]) == 1
        err = capsys.readouterr().err
        assert f"ardour-7.3.0 pid {gui.pid}" in err and "Quit Ardour" in err
        assert not (tmp_path / "cfg").exists()  # nothing written
        cfg = ["--config-home", str(tmp_path / "cfg"), "--major", "7"]
        assert cli(["ardour", "install-scripts", *cfg, "--force"]) == 0
        assert (tmp_path / "cfg" / "ardour7" / "ui_scripts").is_file()
    finally:
        gui.kill()
        gui.wait()
    assert cli(["ardour", "install-scripts", "--config-home", str(tmp_path / "cfg2"), "--major", "7"]) == 0


def test_the_buttons_share_one_helper_which_the_installer_puts_into_each(tmp_path: Path) -> None:
    """One source for the buttons' helper (daw_templates/lua/follow.lua); each installed action holds it
    once, with nothing left to include (Ardour loads every script on its own)."""
    from bridge.ardour.live.scripts import PARTS, install

    for a in ACTIONS:
        assert "local function follow" not in (SCRIPTS / a).read_text()
    assert (PARTS / "follow.lua").read_text().count("local function follow") == 1
    done = install(tmp_path / "cfg", (7,), buttons=False)
    for a in ACTIONS:
        text = next(Path(p) for p in done.scripts if p.endswith(a)).read_text()
        assert text.count("local function follow") == 1 and "@resonant-include" not in text, a
