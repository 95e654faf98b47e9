"""Hearing key and chords on scores with known answers, rendered to audio here: harmony that moves
every two beats, a pickup bar, a relative-minor song that reads as its major, drums with no key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.ardour import read_session
from bridge.audio.analysis import analyze
from tests.figures import figure
from tests.synth import drums, render_score
from tests.test_analysis import make_session

PIECES = {
    # two chords per bar in most bars, in C major
    "halves": ("C major", [["C", "G"], ["Am", "F"], ["C"], ["F", "G"], ["C", "Am"], ["Dm", "G"], ["C", "F"], ["C"]],
               ()),
    # a pickup: bar 1 holds only two melody notes, the song starts on bar 2 (D minor)
    "pickup": ("D minor", [[None], ["Dm"], ["A#"], ["F"], ["C"], ["Dm"], ["A#"], ["C"], ["Dm"]], (0,)),
    # A minor with the chords of C major: easy to read as C
    "relative": ("A minor", [["Am"], ["F"], ["C"], ["G"], ["Am"], ["F"], ["G"], ["Am"]], ()),
    # E minor, with a melody over it
    "melody": ("E minor", [["Em"], ["C"], ["G"], ["D"], ["Em"], ["C"], ["D", "B"], ["Em"]], ()),
}


def _session(tmp_path: Path, name: str) -> tuple[Path, list[list[str | None]]]:
    key, grid, quiet = PIECES[name]
    melody = []
    if name == "pickup":
        melody = [(3.0, 0.5, 69), (3.5, 0.5, 72)]  # A4 C5 leading into bar 2
    if name == "melody":
        line = [71, 74, 76, 74, 72, 71, 67, 71, 74, 79, 78, 76, 74, 71, 69, 71]
        melody = [(i * 2.0, 1.8, p) for i, p in enumerate(line)]
    parts = render_score(100.0, grid, melody, quiet_bars=quiet)
    tracks = {"Keys": (parts["Keys"], "harmony"), "Bass": (parts["Bass"], "bass")}
    if melody:
        tracks["Lead"] = (parts["Lead"], "melody")
    tracks["Drums"] = (drums(100.0, len(grid)), "drums")
    return make_session(tmp_path, 100.0, tracks, name=name.capitalize()), grid


def _half_bars(grid: list[list[str | None]]) -> list[str | None]:
    return [row[min(len(row) - 1, h)] for row in grid for h in (0, 1)]


@pytest.mark.parametrize("name", sorted(PIECES))
def test_key_and_chords_per_half_bar(name: str, tmp_path: Path) -> None:
    folder, grid = _session(tmp_path, name)
    ctx = analyze(read_session(folder))
    assert ctx.key == PIECES[name][0], (ctx.key, ctx.key_confidence, ctx.unknown)
    assert "Drums" not in ctx.key_from and ctx.not_pitched["Drums"].startswith("a drum track")
    got, want = _half_bars(ctx.grid), _half_bars(grid)
    right = sum(g == w for g, w in zip(got, want, strict=True)) / len(want)
    figure(f"chords per half bar right, {name}", right, ">= 0.9")
    assert right >= 0.9, list(zip(want, got, strict=True))
    if name == "pickup":
        assert ctx.bars[0].chords == [None]  # a pickup bar has no chord of its own


def test_drums_give_no_key_and_say_why(tmp_path: Path) -> None:
    folder = make_session(tmp_path, 100.0, {"Drums": (drums(100.0, 8), "drums")})
    ctx = analyze(read_session(folder))
    assert ctx.key is None and "a drum track" in ctx.unknown["key"]
    # untagged, they are judged by their sound
    folder = make_session(tmp_path / "b", 100.0, {"Loop 1": (drums(100.0, 8), "other")})
    ctx = analyze(read_session(folder))
    assert ctx.key is None and "percussive" in ctx.not_pitched["Loop 1"], (ctx.key, ctx.not_pitched)
