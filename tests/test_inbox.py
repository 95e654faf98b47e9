"""The inbox protocol and the open-session overlay, on real files (no Ardour needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
from lxml import etree

from bridge.ardour import read_session
from bridge.ardour.live import inbox, overlay
from bridge.frontends.cli.main import main as cli
from tests.test_service import new_session


def _drop(**kw) -> inbox.Drop:
    d = {"track": "Bass", "role": "bass", "file": "", "position": 96000, "first_bar": 2, "last_bar": 3,
         "take": "Bass.1", "new_track": False, "channels": 2, "frames": 4800}
    return inbox.Drop(**{**d, **kw})


def test_post_publishes_files_then_manifest_then_index(tmp_path: Path) -> None:
    wav = tmp_path / "s.wav"
    sf.write(str(wav), np.zeros((4800, 2)), 48000)
    folder = tmp_path / "S"
    folder.mkdir()
    manifest = inbox.post(folder, "j1", "regenerate", [(wav, _drop(take='Bass "x"/1'))], "osc.udp://127.0.0.1:9")
    m = json.loads(manifest.read_text())
    assert m["job"] == "j1" and m["reply"] == "osc.udp://127.0.0.1:9" and m["version"] == inbox.MANIFEST_VERSION
    (d,) = m["drops"]
    assert Path(d["file"]).parent == (folder / inbox.INBOX_DIR / "j1").resolve() and Path(d["file"]).is_file()
    assert "/" not in Path(d["file"]).name.replace("-j1", "") and d["position"] == 96000
    assert inbox.waiting(folder / inbox.INBOX_DIR) == ["j1"]
    inbox.post(folder, "j2", "generate", [(wav, _drop(new_track=True))], None)
    inbox.post(folder, "j2", "generate", [(wav, _drop(new_track=True))], None)  # again: listed once
    assert inbox.waiting(folder / inbox.INBOX_DIR) == ["j1", "j2"]
    assert not list((folder / inbox.INBOX_DIR).rglob("*.part")) and not list(folder.rglob("*resonant-tmp"))


def test_acks_are_read_only_when_whole_and_withdraw_cleans_up(tmp_path: Path) -> None:
    wav = tmp_path / "s.wav"
    sf.write(str(wav), np.zeros((480, 2)), 48000)
    inbox.post(tmp_path, "j1", "regenerate", [(wav, _drop())], None)
    box = inbox.inbox_of(tmp_path)
    assert inbox.read_ack(tmp_path, "j1") is None
    for text in ("", "o", "maybe\nwhat", "\x00\xff"):
        (box / "j1.ack").write_text(text, errors="replace")
        assert inbox.read_ack(tmp_path, "j1") is None, text
    (box / "j1.ack").write_text("error\nno track named Bass\nfailed\t1\tno track named Bass\n")
    assert inbox.read_ack(tmp_path, "j1") == {"status": "error", "detail": "no track named Bass", "placed": {},
                                              "failed": {0: "no track named Bass"}}
    (box / "j1.ack").write_text("ok\nBass (Bass.1)@96000\nplaced\t1\tBass\tBass.1\tBass.1-j1%L.wav\n")
    assert inbox.read_ack(tmp_path, "j1") == {"status": "ok", "detail": "Bass (Bass.1)@96000", "failed": {},
                                              "placed": {0: {"track": "Bass", "take": "Bass.1",
                                                             "source": "Bass.1-j1%L.wav"}}}
    # what Ardour 8/9 really made (a renamed track), and a partial import: both read as written
    (box / "j1.ack").write_text("partial\nMel _1_ (Mel _1_)@0; no track named X\n"
                                "placed\t1\tMel _1_\tMel _1_\t\nfailed\t2\tno track named X\n")
    ack = inbox.read_ack(tmp_path, "j1")
    assert ack["status"] == "partial" and ack["placed"][0]["track"] == "Mel _1_" and ack["failed"] == {
        1: "no track named X"}
    inbox.withdraw(tmp_path, "j1", keep_files=True)
    assert inbox.waiting(box) == [] and (box / "j1.json").is_file()
    inbox.withdraw(tmp_path, "j1")
    assert sorted(p.name for p in box.iterdir()) == ["index"]


def test_overlay_applies_over_the_xml_and_ignores_junk(tmp_path: Path) -> None:
    song = new_session(tmp_path)
    wav = tmp_path / "d.wav"
    sf.write(str(wav), np.zeros((4800, 2)), 48000)
    assert cli(["session", "add-track", str(song), "Drums", str(wav)]) == 0
    s = read_session(song)
    drums = s.track("Drums")
    xml = s.file.read_bytes()
    overlay.set_entries(song, {drums.id: {"locked": True}})
    overlay.set_entries(song, {drums.id: {"role": "harmony"}})
    t = read_session(song).track("Drums")
    assert t.locked and t.role == "harmony" and not t.role_guessed
    assert s.file.read_bytes() == xml
    for junk in ("{", "[]", json.dumps({drums.id: {"locked": "yes", "role": "kazoo"}})):
        (song / overlay.OVERLAY).write_text(junk)
        t = read_session(song).track("Drums")
        assert (t.locked, t.role) == (drums.locked, drums.role), junk
    overlay.set_entries(song, {drums.id: {"locked": True}})
    overlay.drop(song, [drums.id])
    assert read_session(song).track("Drums").locked == drums.locked


def test_a_closed_session_write_folds_the_overlay_into_the_xml(tmp_path: Path) -> None:
    song = new_session(tmp_path)
    wav = tmp_path / "d.wav"
    sf.write(str(wav), np.zeros((4800, 2)), 48000)
    assert cli(["session", "add-track", str(song), "Keys", str(wav)]) == 0
    keys = read_session(song).track("Keys")
    overlay.set_entries(song, {keys.id: {"locked": True, "role": "melody"}})  # set while Ardour had it open
    assert cli(["session", "unlock", str(song), "Keys"]) == 0  # closed now: the CLI writes the XML
    t = read_session(song).track("Keys")
    assert (t.locked, t.role) == (False, "melody")  # the unlock wins, the role set while open is kept
    assert overlay.load(song) == {}
    root = etree.fromstring((song / "Song.ardour").read_bytes())
    res = next(r for r in root.iter("Route") if r.get("name") == "Keys").find("Extra/Resonant")
    assert (res.get("role"), res.get("locked")) == ("melody", "0")
