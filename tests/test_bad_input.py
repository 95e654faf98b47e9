"""The bad-input corpus: every case gives its own typed error, and the session folder is
byte-for-byte what it was (DESIGN invariant 5)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge.frontends.cli.main import main as cli
from tests.ardour_tools import folder_state
from tests.conftest import write_wav

NAME = "Handmade7003"


def _edit_xml(old: str, new: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        f = folder / f"{NAME}.ardour"
        text = f.read_text()
        assert old in text, old
        f.write_text(text.replace(old, new, 1))

    return edit


def _truncate(folder: Path) -> None:
    f = folder / f"{NAME}.ardour"
    f.write_bytes(f.read_bytes()[:3000])


def _second_interchange(folder: Path) -> None:
    (folder / "interchange" / "Other").mkdir()


def _missing_source(folder: Path) -> None:
    (folder / "interchange" / NAME / "audiofiles" / "drums.wav").unlink()


def _pending(folder: Path) -> None:
    (folder / f"{NAME}.pending").write_text("<Session/>")


def _no_routes(folder: Path) -> None:
    _edit_xml("<Routes>", "<Nowhere>")(folder)
    _edit_xml("</Routes>", "</Nowhere>")(folder)


def _nothing(folder: Path) -> None:
    pass


WAV = "{wav}"
CASES = [
    # (id, prepare the session, CLI args after the session path, expected error code)
    ("truncated", _truncate, ["show"], "malformed_session"),
    ("wrong-root", _edit_xml("<Session version", "<Sessio version"), ["show"], "malformed_session"),
    ("unknown-version-8000", _edit_xml('version="7003" name', 'version="8000" name'), ["show"], "unsupported_version"),
    ("unknown-version-3002", _edit_xml('version="7003" name', 'version="3002" name'), ["show"], "unsupported_version"),
    ("version-not-a-number", _edit_xml('version="7003" name', 'version="seven" name'), ["show"],
     "unsupported_version"),
    ("length-without-at", _edit_xml('length="a1128960000@a0"', 'length="a1128960000"'), ["show"],
     "malformed_session"),
    ("bad-time-value", _edit_xml('start="a28224000"', 'start="a28x24000"'), ["show"], "malformed_session"),
    ("region-without-name", _edit_xml('<Region name="drums.3" ', '<Region '), ["show"], "malformed_session"),
    ("missing-section", _no_routes, ["show"], "malformed_session"),
    ("zero-sample-rate", _edit_xml('sample-rate="48000"', 'sample-rate="0"'), ["show"], "malformed_session"),
    ("second-interchange-folder", _second_interchange, ["show"], "tainted_interchange"),
    ("missing-source-file", _missing_source, ["add-track", "New", WAV], "missing_source"),
    ("duplicate-name", _nothing, ["add-track", "Drums", WAV], "duplicate_name"),
    ("duplicate-name-other-case", _nothing, ["add-track", "drums", WAV], "duplicate_name"),
    ("master-name", _nothing, ["add-track", "Master", WAV], "duplicate_name"),
    ("dotdot-in-name", _nothing, ["add-track", "../evil", WAV], "unsafe_name"),
    ("slash-in-name", _nothing, ["add-track", "a/b", WAV], "unsafe_name"),
    ("colon-in-name", _nothing, ["add-track", "a:b", WAV], "unsafe_name"),
    ("control-char-in-name", _nothing, ["add-track", "a\x07b", WAV], "unsafe_name"),
    ("empty-name", _nothing, ["add-track", " ", WAV], "unsafe_name"),
    ("unknown-track", _nothing, ["lock", "Nobody"], "unknown_track"),
    ("bar-zero", _nothing, ["add-track", "New", WAV, "--bar", "0"], "invalid_input"),
    ("pending-file", _pending, ["add-track", "New", WAV], "pending_state"),
    ("wav-24k-into-48k", _nothing, ["add-track", "New", "{wav24k}"], "sample_rate_mismatch"),
    ("not-audio", _nothing, ["add-track", "New", "{notaudio}"], "audio_file"),
    ("nan-audio", _nothing, ["add-track", "New", "{nan}"], "audio_file"),
    ("three-channels", _nothing, ["add-track", "New", "{three}"], "audio_file"),
    ("no-such-wav", _nothing, ["add-track", "New", "/nonexistent/x.wav"], "audio_file"),
    ("take-on-unknown-track", _nothing, ["add-take", "Nobody", WAV], "unknown_track"),
    ("take-on-midi-track", _nothing, ["add-take", "Keys", WAV], "invalid_input"),
    ("unknown-take", _nothing, ["use-take", "Drums", "Drums.9"], "invalid_input"),
]


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, str]:
    d = tmp_path / "inputs"
    nan = np.zeros((4800, 1), dtype=np.float32)
    nan[100] = np.nan
    d.mkdir()
    sf.write(str(d / "nan.wav"), nan, 48000, subtype="FLOAT")
    sf.write(str(d / "three.wav"), np.zeros((4800, 3)), 48000)
    (d / "notaudio.wav").write_bytes(b"RIFF....this is not a wave file")
    return {"wav": str(write_wav(d / "ok.wav", 0.5)), "wav24k": str(write_wav(d / "low.wav", 0.5, rate=24000)),
            "notaudio": str(d / "notaudio.wav"), "nan": str(d / "nan.wav"), "three": str(d / "three.wav")}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case: tuple, handmade: Callable[[str], Path], inputs: dict[str, str],
                   capsys: pytest.CaptureFixture[str]) -> None:
    _, prepare, args, code = case
    folder = handmade("7003")
    prepare(folder)
    before = folder_state(folder)
    action, *rest = args
    argv = ["session", action, str(folder), *[a.format(**inputs) for a in rest], "--json"]
    if action == "show":
        argv = ["session", "show", str(folder), "--json"]
    rc = cli(argv)
    out = capsys.readouterr()
    assert rc in (1, 3)
    reply = json.loads(out.out.strip().splitlines()[-1])
    assert reply["ok"] is False and reply["error"] == code, reply
    assert reply["message"] and f"[{code}]" in out.err
    assert folder_state(folder) == before


def test_session_outside_roots(handmade: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = handmade("6000")
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    monkeypatch.setenv("RESONANT_SESSION_ROOTS", str(allowed))
    assert cli(["session", "show", str(folder), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "unsafe_path"
    # traversal out of an allowed root is resolved before the check
    assert cli(["session", "show", str(allowed / ".." / folder.name), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "unsafe_path"
    inside = allowed / "Song"
    shutil.copytree(folder, inside)
    assert cli(["session", "show", str(inside), "--json"]) == 0


def test_missing_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["session", "show", str(tmp_path / "nope"), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "session_not_found"
    (tmp_path / "x.txt").write_text("hi")
    assert cli(["session", "show", str(tmp_path / "x.txt"), "--json"]) == 1


def test_entities_are_not_expanded(handmade: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    folder = handmade("6000")
    f = folder / "Handmade6000.ardour"
    text = f.read_text().replace('<?xml version="1.0" encoding="UTF-8"?>',
                                 '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    f.write_text(text.replace('name="Handmade6000"', 'name="&x;"'))
    assert cli(["session", "show", str(folder), "--json"]) == 1
    out = capsys.readouterr().out
    assert json.loads(out)["error"] == "malformed_session" and "root:" not in out
