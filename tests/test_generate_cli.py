"""`resonant generate` with and without a session, and its bad arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from bridge.frontends.cli.main import main as cli
from bridge.music.prompt import parse_prompt
from tests.ardour_tools import folder_state
from tests.synth import bass_and_chords
from tests.test_analysis import make_session


def test_generate_without_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "stems"
    assert cli(["generate", "--prompt", "lo-fi hip hop in E minor 84 bpm, rhodes", "--roles", "drums,harmony",
                "--bars", "4", "--out", str(out), "--seed", "7", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [s["role"] for s in summary["stems"]] == ["drums", "harmony"]
    info = sf.info(str(out / "harmony.wav"))
    assert (info.samplerate, info.channels, info.frames) == (48000, 2, round(4 * 4 * 60 / 84 * 48000))
    assert (out / "harmony.mid").read_bytes()[:4] == b"MThd"
    meta = summary["stems"][1]["metadata"]
    assert meta["understood"]["style"] == "lo-fi" and meta["plan"]["key"] == "E minor"
    assert meta["program"] == 4  # the Rhodes asked for
    # a second run refuses to overwrite without --force
    before = folder_state(out)
    assert cli(["generate", "--roles", "drums", "--bars", "4", "--out", str(out)]) == 1
    assert folder_state(out) == before
    assert cli(["generate", "--roles", "drums", "--bars", "4", "--out", str(out), "--force"]) == 0


def test_generate_fits_a_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, keys = bass_and_chords(97.0, 4)
    session = make_session(tmp_path, 97.0, {"Keys": (keys, "harmony")})
    before = folder_state(session)
    out = tmp_path / "fit"
    assert cli(["generate", "--session", str(session), "--roles", "bass", "--bars", "4", "--out", str(out),
                "--prompt", "funk in C major", "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)["stems"][0]["metadata"]
    assert meta["plan"]["key"] == "F# minor" and meta["plan"]["chords"] == ["F#m", "D", "A", "E"]
    assert folder_state(session) == before  # generating alone never writes the session


@pytest.mark.parametrize("args", [
    ["--roles", "vocals"], ["--bars", "0"], ["--bars", "9999"], ["--temperature", "3"], ["--swing", "-1"],
    ["--seed", "-5"], ["--engine", "nope"], ["--sample-rate", "12"], ["--loudness", "5"],
    ["--session", "/nonexistent/session"],
])
def test_generate_bad_arguments(tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert cli(["generate", "--out", str(out), *args]) == 1
    assert "resonant: error [" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("prompt,expect", [
    ("dark techno in A minor 130 bpm with strings", {"style": "techno", "key": "A minor", "bpm": 130.0,
                                                     "mood": "dark", "instruments": {"harmony": 48}}),
    ("lo-fi hip hop, Rhodes, chill", {"style": "lo-fi", "instruments": {"harmony": 4}, "mood": "chill"}),
    ("drum and bass Bbm 174bpm", {"style": "drum and bass", "key": "A# minor", "bpm": 174.0}),
    ("uplifting house in e flat major", {"style": "house", "key": "D# major", "mode": "major"}),
    ("I am happy", {"key": None, "mode": "major", "mood": "happy"}),
    ("epic orchestral score, high energy", {"style": "orchestral", "energy": 0.9}),
    ("chiptune", {"style": "chiptune"}), ("jazz", {"style": "jazz"}), ("metal", {"style": "metal"}),
    ("funk", {"style": "funk"}), ("ambient", {"style": "ambient"}), ("trap", {"style": "trap"}),
    ("rock", {"style": "rock"}), ("", {"style": None, "key": None, "bpm": None}),
    ("999 bpm", {"bpm": None}),
])
def test_prompt_reading(prompt: str, expect: dict) -> None:
    got = parse_prompt(prompt).understood()
    assert {k: got[k] for k in expect} == expect
