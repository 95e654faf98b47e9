"""`resonant new` from the shipped band template, judged by Ardour itself; the template in Ardour."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from bridge.ardour import read_session
from bridge.audio.mixdown import render
from bridge.frontends.cli.main import main as cli
from tests.ardour_tools import dump, export, folder_state, require_ardour, run


@pytest.mark.ardour
def test_new_session_loads_plays_and_is_balanced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_ardour()
    folder = tmp_path / "Groove"
    assert cli(["new", str(folder), "--template", "band", "--prompt", "funk in E minor", "--bars", "8",
                "--loudness", "-16", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["key"] == "E minor" and summary["tempo_bpm"] == 105
    theirs = dump(folder, "Groove")
    assert sorted(theirs) == ["Bass", "Drums", "Harmony", "Melody"]
    assert all(len(regions) == 1 and regions[0]["position"] == 0 for regions in theirs.values())
    s = read_session(folder)
    assert [(t.name, t.role) for t in s.tracks] == [("Drums", "drums"), ("Bass", "bass"), ("Harmony", "harmony"),
                                                    ("Melody", "melody")]
    assert s.session_range == (0, s.tempo_map.samples_at_bar(9))
    mix, rate = export(folder, "Groove", tmp_path / "mix.wav")
    body = mix[4096:]  # past the export's transport declick
    assert abs(pyloudnorm.Meter(rate).integrated_loudness(body) - (-16.0)) <= 2.0
    # each stem is audible in Ardour's mix: without it, what remains of the export is well above silence
    total = np.sum(body ** 2)
    for t in s.tracks:
        others = render(s, [x for x in s.tracks if x is not t])[4096:len(mix)]
        share = np.sum((body - others) ** 2) / total
        assert share > 10 ** (-25 / 10), (t.name, share)


@pytest.mark.ardour
def test_ardour_accepts_the_template(tmp_path: Path) -> None:
    a = require_ardour()
    config = tmp_path / "xdg"
    assert cli(["ardour", "install-templates", "--dir", str(config / a.config_name / "templates")]) == 0
    env = {"XDG_CONFIG_HOME": str(config)}
    listed = run(a, [a.tool("new_session"), "-L"], env, done=lambda p: "band" in p.stdout + p.stderr)
    assert "band" in listed
    song = tmp_path / "FromTemplate"
    run(a, [a.tool("new_session"), "-t", "band", str(song), "Song"], env,
        done=lambda _: (song / "Song.ardour").is_file())
    theirs = dump(tmp_path / "FromTemplate", "Song")
    assert sorted(theirs) == ["Bass", "Drums", "Harmony", "Melody"]
    s = read_session(tmp_path / "FromTemplate")
    assert {t.name: t.role for t in s.tracks} == {"Drums": "drums", "Bass": "bass", "Harmony": "harmony",
                                                  "Melody": "melody"}
    assert all(not t.role_guessed for t in s.tracks)


def test_new_refuses_what_it_should(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    before = folder_state(taken)
    for argv, code in [
        (["new", str(taken)], "invalid_input"),  # not empty
        (["new", str(taken), "--force"], "invalid_input"),  # --force only replaces what new made
        (["new", str(tmp_path / "a"), "--template", "orchestra"], "invalid_input"),
        (["new", str(tmp_path / "b"), "--template", "../band"], "invalid_input"),
        (["new", str(tmp_path / "c"), "--bars", "0"], "invalid_input"),
        (["new", str(tmp_path / "d"), "--loudness", "3"], "invalid_input"),
    ]:
        assert cli(argv) == 1, argv
        assert f"[{code}]" in capsys.readouterr().err
    assert folder_state(taken) == before
    assert not any((tmp_path / x).exists() for x in "abcd")


def test_force_replaces_its_own_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "Again"
    assert cli(["new", str(folder), "--bars", "1", "--seed", "1"]) == 0
    first = (folder / "Again.ardour").read_bytes()
    assert cli(["new", str(folder), "--bars", "1", "--seed", "1"]) == 1
    assert cli(["new", str(folder), "--bars", "2", "--seed", "2", "--force"]) == 0
    assert (folder / "Again.ardour").read_bytes() != first
    assert len(read_session(folder).regions_of(read_session(folder).track("Bass"))) == 1
