"""The bridge's buttons in the real Ardour GUI, clicked (xdotool, under Xvfb) as a musician clicks them:
the toolbar shows three distinct icons; the lock button locks the selected track and Ardour shows it;
regenerating a locked track shows the daemon's error in Ardour; a regeneration shows its progress, then
a confirmation, and the new take joins the older ones in the track's playlist (P) menu; generate with
the dialog's defaults adds a track in its role's colour; with the daemon stopped, a button says within
seconds that nothing answers.

With RESONANT_SCREENSHOTS=DIR the test also saves a screenshot of each state there (scripts/screenshots
writes docs/gui/ that way).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from lxml import etree

from bridge.ardour import SessionEditor, read_session
from bridge.ardour.live import notices
from bridge.ardour.live.client import ArdourOsc
from bridge.ardour.programs import ArdourInstall
from bridge.frontends.cli.main import main as cli
from bridge.roles import COLOURS
from tests import ardour_tools, gui_tools
from tests.conftest import write_wav
from tests.daemon_tools import OscClient, start_daemon
from tests.screen import ICONS, LOCK_GROUP, Screen

pytestmark = pytest.mark.ardour


def _notice(folder: Path, state: str, timeout: float = 60.0) -> tuple[str, str]:
    """The newest request's notice once the hook has shown it in ``state``: (request, what was shown)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = notices.listed(folder)
        if ids:
            seen = folder / notices.NOTICES_DIR / f"{ids[-1]}.seen"
            if seen.is_file() and seen.read_text().startswith(state):
                return ids[-1], seen.read_text()
        time.sleep(0.1)
    raise AssertionError(f"no {state} notice shown in Ardour within {timeout:g} s: {notices.listed(folder)}")


def _save(folder: Path) -> None:
    file = folder / "Live.ardour"
    mtime = file.stat().st_mtime_ns
    with ArdourOsc() as a:
        a.save_state()
    for _ in range(100):
        if file.stat().st_mtime_ns != mtime:
            return
        time.sleep(0.1)


def _row_has_group_tab(img, row: tuple[int, int], edge: int) -> bool:
    """The "Locked" group's tab: its colour in the track's header row (left of the canvas)."""
    found = Screen.find(img, LOCK_GROUP, tol=6, box=(0, row[0], edge, row[1] + 1))
    return found is not None and found[2] >= 50


def _click_ok(scr: Screen, w) -> None:
    scr.click(w.x + w.width - 60, w.y + w.height - 28)  # the dialog's bottom-right button


@pytest.mark.parametrize("ardour,major", ardour_tools.params())
def test_the_buttons_answer_in_ardour(ardour: ArdourInstall | None, major: int, tmp_path: Path) -> None:
    a = gui_tools.require_gui(ardour_tools.require(ardour, major))
    folder = ardour_tools.new_session(tmp_path, "Live", ardour=a)
    assert cli(["session", "add-track", "--role", "bass", str(folder), "Bass",
                str(write_wav(tmp_path / "bass.wav", 8.0, channels=2, freq=110, amp=0.3))]) == 0
    ed = SessionEditor(read_session(folder))
    ed.set_control_protocol("Open Sound Control (OSC)", True)
    ed.commit()
    shots = Path(os.environ["RESONANT_SCREENSHOTS"]) / f"ardour{major}" if os.environ.get("RESONANT_SCREENSHOTS") \
        else None
    proc, port = start_daemon(tmp_path / "data")
    try:
        with gui_tools.ardour_gui(folder / "Live.ardour", tmp_path, ardour=a, uri=f"osc.udp://127.0.0.1:{port}") as gui:
            scr = Screen(gui.display, shots)
            try:
                _walk(scr, folder, proc, port)
            except AssertionError:
                scr.shot(tmp_path / "failure.png")  # what the screen showed, to look at
                raise
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


def _walk(scr: Screen, folder: Path, proc, port: int) -> None:
    time.sleep(2)  # the editor finishes drawing after OSC answers
    img = scr.shot()
    # three buttons, each its own icon, on the toolbar
    icons = {k: Screen.find(img, rgb, box=(0, 0, img.shape[1], 140)) for k, rgb in ICONS.items()}
    assert all(v and v[2] >= 20 for v in icons.values()), icons
    spots = {(x // 10, y // 10) for x, y, _ in icons.values()}
    assert len(spots) == 3, icons
    gx, gy, _ = icons["generate"]
    scr.save("buttons", (gx - 40, max(0, gy - 30), 120, 90))
    # select Bass (the second route row: Master first) by clicking its header
    edge, rows = Screen.rows(img)
    assert len(rows) == 2, rows  # Master, Bass
    bass = rows[1]
    x, y = Screen.header_spot(img, edge, bass)
    before = tuple(img[y, x])
    scr.click(x, y)
    time.sleep(0.5)
    assert tuple(scr.shot()[y, x]) != before, "clicking the header did not select Bass"

    # lock: a confirmation, and the track shows it is locked
    scr.click(*icons["lock"][:2], away=True)
    scr.wait_window("Resonant: lock Bass", exact=True)  # the button's progress window, then its confirmation
    _, shown = _notice(folder, "done")
    assert "Bass is locked" in shown
    time.sleep(0.5)
    assert _row_has_group_tab(scr.shot(), bass, edge), "no Locked tab beside Bass"
    assert read_session(folder).track("Bass").locked
    scr.save("locked")

    # regenerate a locked track: the daemon's refusal is shown in Ardour
    scr.wait_gone("Resonant: lock Bass")  # the confirmation closes by itself
    scr.click(*icons["regenerate"][:2], away=True)
    dialog = scr.wait_window("Resonant: regenerate Bass")
    _click_ok(scr, dialog)
    _, shown = _notice(folder, "error")
    assert "locked" in shown and "unlock" in shown, shown
    error = scr.wait_window("Resonant: regenerate Bass")
    scr.wait_drawn(error)
    scr.save("error-locked", (error.x - 10, error.y - 10, error.width + 20, error.height + 20))
    _click_ok(scr, error)  # Close
    scr.wait_gone("Resonant: regenerate Bass")

    # unlock: the tab goes
    scr.click(*icons["lock"][:2], away=True)
    _, shown = _notice(folder, "done")
    assert "Bass is unlocked" in shown
    time.sleep(0.5)
    assert not _row_has_group_tab(scr.shot(), bass, edge)
    scr.wait_gone("Resonant: lock Bass")

    # regenerate bars 2-3: progress while it runs, then a confirmation naming the new take
    scr.click(*icons["regenerate"][:2], away=True)
    dialog = scr.wait_window("Resonant: regenerate Bass")
    scr.wait_drawn(dialog)
    scr.save("regenerate-dialog", (dialog.x - 10, dialog.y - 10, dialog.width + 20, dialog.height + 20))
    scr.click(dialog.x + dialog.width - 80, dialog.y + int(dialog.height * 0.28))  # the bars entry (2nd of 4 rows)
    scr.type("2-3")
    _click_ok(scr, dialog)
    progress = scr.wait_window("Resonant: regenerate Bass, bars 2-3", exact=True)
    scr.wait_drawn(progress)
    scr.save("progress", (progress.x - 10, progress.y - 10, progress.width + 20, progress.height + 20))
    _, shown = _notice(folder, "done", timeout=120)
    assert "New take" in shown and "bars 2-3" in shown, shown
    landed = scr.wait_window("Resonant: regenerate Bass, bars 2-3", exact=True)  # now the confirmation
    scr.wait_drawn(landed)
    scr.save("landed", (landed.x - 10, landed.y - 10, landed.width + 20, landed.height + 20))

    # every take is in the P menu: Ardour lists a track's playlists by their orig-track-id
    # (SessionPlaylists::playlists_for_track); what Ardour saved says which it will list
    _save(folder)
    s = read_session(folder)
    track = s.track("Bass")
    takes = s.takes_of(track)
    assert len(takes) == 2, [p.name for p in takes]
    assert all(p.orig_track_id == track.id for p in takes), [(p.name, p.orig_track_id) for p in takes]
    scr.wait_gone("Resonant: regenerate Bass, bars 2-3")
    buttons = Screen.row_buttons(scr.shot(), bass, x1=edge)
    assert buttons, "no P button found in Bass's header"
    scr.click(*buttons[0], away=True)  # P: the playlist menu, every take in it
    time.sleep(0.8)
    scr.save("takes", (0, bass[0] - 10, 520, 330))
    scr.key("Escape")  # closes the menu, and in Ardour 8 and 9 clears the selection too
    scr.click(x, y)  # Bass again

    # generate with the dialog's defaults: the song's bars (1-4 here, never past its end), a bass part as a
    # new track in the bass colour
    scr.click(*icons["generate"][:2], away=True)
    dialog = scr.wait_window("Resonant: generate", exact=True)
    scr.wait_drawn(dialog)
    scr.save("generate-dialog", (dialog.x - 10, dialog.y - 10, dialog.width + 20, dialog.height + 20))
    _click_ok(scr, dialog)
    _, shown = _notice(folder, "done", timeout=120)
    assert shown.startswith("done\nNew track") and "bars 1-4" in shown, shown
    scr.wait_gone("Resonant: generate bass")
    _save(folder)
    routes = {r.get("name"): r for r in etree.parse(str(folder / "Live.ardour")).iter("Route")}
    new = [n for n in routes if n not in ("Master", "Bass")]
    assert len(new) == 1, list(routes)
    assert int(routes[new[0]].find("PresentationInfo").get("color")) == COLOURS["bass"]
    assert len(Screen.rows(scr.shot())[1]) == 3  # the editor shows it: Master, Bass and the new one
    scr.save("generated")

    # generate again, each part as a MIDI track: the dropdown opened with a click, its first entry (Ardour
    # sorts them: "a MIDI track (editable notes, ACE Fluid Synth)") chosen with the keys
    scr.click(*icons["generate"][:2], away=True)
    dialog = scr.wait_window("Resonant: generate", exact=True)
    scr.wait_drawn(dialog)
    scr.click(dialog.x + int(dialog.width * 0.7), dialog.y + dialog.height - 60)  # "Each part as", the row above OK
    time.sleep(0.7)
    scr.save("generate-choices", (dialog.x - 10, dialog.y - 10, dialog.width + 20, dialog.height + 20))
    scr.key("Home")
    scr.key("Return")
    time.sleep(0.5)
    scr.save("generate-midi", (dialog.x - 10, dialog.y - 10, dialog.width + 20, dialog.height + 20))
    _click_ok(scr, dialog)
    _, shown = _notice(folder, "done", timeout=120)
    assert shown.startswith("done\nNew MIDI track"), shown
    scr.wait_gone("Resonant: generate bass")
    _save(folder)
    midi = [r for r in etree.parse(str(folder / "Live.ardour")).iter("Route") if r.get("default-type") == "midi"]
    assert len(midi) == 1 and "ACE Fluid Synth" in [p.get("name") for p in midi[0].iter("Processor")]
    assert read_session(folder).track(midi[0].get("name")).role == "bass"
    time.sleep(0.5)
    scr.save("midi-track")  # the new MIDI track under the others, its notes drawn in the region

    # a request no button watches (made from a script here, or one whose window was cancelled): the hook
    # shows how it ended
    c = OscClient(port)
    try:
        # asked, not sent and closed: the daemon checks who sent it by the socket's owner, which must live
        assert c.ask("/resonant/track/toggle_lock", str(folder / "Live.ardour"), "Bass",
                     "from-a-script-1")[1] == ["Bass", "bass", 1]
    finally:
        c.close()
    told = scr.wait_window("Resonant: lock Bass", exact=True)
    _, shown = _notice(folder, "done")
    assert "Bass is locked" in shown
    scr.wait_drawn(told)
    scr.save("unwatched", (told.x - 10, told.y - 10, told.width + 20, told.height + 20))
    _click_ok(scr, told)  # Close
    scr.wait_gone("Resonant: lock Bass")

    # the daemon stopped: the button says so within seconds
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    scr.click(x, y)  # Bass selected (a new track may have taken the selection)
    time.sleep(0.3)
    t0 = time.monotonic()
    scr.click(*icons["lock"][:2], away=True)
    down = scr.wait_window("Resonant: the daemon does not answer", timeout=15)
    assert time.monotonic() - t0 < 8
    scr.wait_drawn(down)
    scr.save("daemon-down", (down.x - 10, down.y - 10, down.width + 20, down.height + 20))
    _click_ok(scr, down)
