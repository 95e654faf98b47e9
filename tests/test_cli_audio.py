"""`resonant analyze` and `resonant mixdown` from the command line, good and bad arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from bridge.frontends.cli.main import main as cli
from tests.ardour_tools import folder_state
from tests.synth import bass_and_chords, drums
from tests.test_analysis import make_session


@pytest.fixture
def song(tmp_path: Path) -> Path:
    bass, keys = bass_and_chords(97.0, 4)
    return make_session(tmp_path, 97.0, {"Drums": (drums(97.0, 4), "drums"), "Bass": (bass, "bass"),
                                         "Keys": (keys, "harmony")})


def test_analyze_json(song: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["analyze", str(song), "--bars", "1-4", "--json"]) == 0
    ctx = json.loads(capsys.readouterr().out)
    assert ctx["key"] == "F# minor" and [b["chord"] for b in ctx["bars"]] == ["F#m", "D", "A", "E"]
    assert ctx["first_bar"] == 1 and ctx["last_bar"] == 4 and ctx["tracks"] == ["Drums", "Bass", "Keys"]
    assert cli(["analyze", str(song), "--tracks", "Keys"]) == 0
    assert "F# minor" in capsys.readouterr().out


def test_mixdown_writes_the_bars_asked_for(song: Path, tmp_path: Path) -> None:
    out = tmp_path / "mix.wav"
    assert cli(["mixdown", str(song), str(out), "--bars", "2-3", "--tracks", "Bass,Keys"]) == 0
    info = sf.info(str(out))
    bar = 4 * 60 / 97 * 48000
    assert info.samplerate == 48000 and info.channels == 2
    assert abs(info.frames - 2 * bar) <= 1


@pytest.mark.parametrize("args,code", [
    (["analyze", "{s}", "--bars", "x-y"], "invalid_input"),
    (["analyze", "{s}", "--bars", "5-2"], "invalid_input"),
    (["analyze", "{s}", "--bars", "0-2"], "invalid_input"),
    (["analyze", "{s}", "--tracks", "Nobody"], "unknown_track"),
    (["mixdown", "{s}", "{o}", "--tracks", "Nobody"], "unknown_track"),
    (["mixdown", "{s}", "{exists}"], "invalid_input"),
    (["mixdown", "{s}", "{notwav}"], "invalid_input"),
])
def test_bad_arguments(song: Path, tmp_path: Path, args: list[str], code: str,
                       capsys: pytest.CaptureFixture[str]) -> None:
    exists = tmp_path / "exists.wav"
    exists.write_bytes(b"keep me")
    before = folder_state(song)
    argv = [a.format(s=song, o=tmp_path / "o.wav", exists=exists, notwav=tmp_path / "x.mp3") for a in args]
    assert cli(argv) == 1
    assert f"[{code}]" in capsys.readouterr().err
    assert folder_state(song) == before and exists.read_bytes() == b"keep me"
    assert not (tmp_path / "o.wav").exists()
