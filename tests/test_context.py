"""New parts that fit the session they land in (issue 15), measured from the MIDI and audio the bridge
writes: the key from pitched music or the prompt (never from drums), regeneration against the whole
session, takes that keep their character, relative prompts, a melody clear of a locked one, and bar
ranges inside the song."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest

from bridge.ardour import read_session, takes
from bridge.audio.features import integrated_loudness
from bridge.audio.midi import read_smf
from bridge.audio.mixdown import render
from bridge.engines import GenerationRequest, get_engine
from bridge.engines.context import context_for
from bridge.frontends.cli.main import main as cli
from bridge.music.theory import MINOR_SCALE, parse_note
from tests.figures import figure
from tests.synth import drums
from tests.test_analysis import make_session

ENGINE = get_engine("arranger")
E_MINOR = {(parse_note("E") + s) % 12 for s in MINOR_SCALE}
RESONANT = str(Path(sys.executable).parent / "resonant")


def notes_of(midi: bytes) -> list[tuple[float, float, int, int]]:
    return read_smf(midi)


def test_drums_alone_and_a_prompt_key(tmp_path: Path) -> None:
    folder = make_session(tmp_path, 105.0, {"Drums": (drums(105.0, 8), "drums")})
    s = read_session(folder)
    req = GenerationRequest(roles=["bass", "harmony", "melody"], bars=8, prompt="funk in E minor", seed=3)
    stems = ENGINE.generate(req, context_for(s, req))
    for st in stems:
        pcs = [p % 12 for _, _, p, _ in notes_of(st.midi)]
        figure(f"drums locked + funk in E minor: {st.role} notes in E minor", sum(p in E_MINOR for p in pcs) / len(pcs),
               ">= 0.95")
        assert sum(p in E_MINOR for p in pcs) / len(pcs) >= 0.95, st.role
    decided = stems[0].metadata["plan"]["decided"]
    assert stems[0].metadata["plan"]["key"] == "E minor" and decided["key"] == "the prompt", decided
    # the analysis says why the drums gave no key
    from bridge.audio.analysis import analyze

    ctx = analyze(s)
    assert ctx.key is None and "drum" in ctx.unknown["key"]


def _regenerate(folder: Path, track: str, *args: str) -> dict:
    out = subprocess.run([RESONANT, "regenerate", str(folder), track, "--json", *args], capture_output=True,
                         text=True, timeout=300)
    job = json.loads(out.stdout)
    assert job["status"] == "done", (job.get("error"), out.stderr[-2000:])
    return job


def _take_notes(folder: Path, track: str) -> tuple[dict | None, list]:
    s = read_session(folder)
    t = s.track(track)
    names = [s.sources[i].name for r in s.regions_of(t) for i in r.source_ids]
    recipe, midi = takes.recall(folder, names, t.role)
    return recipe, notes_of(midi) if midi else []


def _chord_tones(harmony: list, q: float) -> set[int]:
    """The pitch classes the Harmony part plays over the first half of the bar at quarter ``q`` (a
    comping part need not strike on the downbeat; a push just before it counts)."""
    return {p % 12 for s, e, p, _ in harmony if q - 0.3 <= s < q + 2.0 or s <= q < e}


def _per_bar(notes: list, bars: range, bq: float = 4.0) -> float:
    return sum(1 for s, *_ in notes if bars.start <= s // bq + 1 < bars.stop) / len(bars)


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``resonant new``: nothing locked, funk in E minor, 8 bars."""
    folder = tmp_path_factory.mktemp("new") / "Groove"
    assert cli(["new", str(folder), "--prompt", "funk in E minor", "--bars", "8", "--seed", "2"]) == 0
    return folder


def test_regenerating_bars_fits_the_song_and_keeps_the_take(song: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "Groove"
    shutil.copytree(song, folder)
    before_recipe, _ = _take_notes(folder, "Bass")
    s0 = read_session(folder)
    old_audio = render(s0, [s0.track("Bass")])
    harmony_recipe, harmony = _take_notes(folder, "Harmony")
    assert before_recipe["style"] == "funk" and harmony
    _, old_notes = _take_notes(folder, "Bass")
    job = _regenerate(folder, "Bass", "--bars", "3-4", "--seed", "9")
    meta = job["stems"][0]["metadata"]
    assert meta["plan"]["decided"]["prompt"] == "empty: as before"
    assert meta["plan"]["style"] == "funk" and meta["program"] == before_recipe["program"]
    # the new take's notes (kept with it, the whole take from bar 1): bars 3-4 are new, the rest as before
    _, take = _take_notes(folder, "Bass")
    new = [n for n in take if 8.0 <= n[0] < 16.0]
    assert len(new) >= 4
    assert [n for n in take if not 8.0 <= n[0] < 16.0] == [n for n in old_notes if not 8.0 <= n[0] < 16.0]
    figure("new + regenerate Bass 3-4: notes in key", sum(p % 12 in E_MINOR for _, _, p, _ in new) / len(new),
           ">= 0.95")
    assert sum(p % 12 in E_MINOR for _, _, p, _ in new) / len(new) >= 0.95
    # the note on each bar's first beat is a tone of the chord the Harmony track plays there
    hits = 0
    for bar in (3, 4):
        q = (bar - 1) * 4.0
        downbeat = [p for s, _, p, _ in new if abs(s - q) < 0.06]
        hits += bool(downbeat) and downbeat[0] % 12 in _chord_tones(harmony, q)
    assert hits == 2
    # the new take as a whole keeps the old one's level (within 0.5 LU)
    s1 = read_session(folder)
    new_audio = render(s1, [s1.track("Bass")])
    figure("regenerate Bass 3-4, empty prompt: loudness change (LU)",
           abs(integrated_loudness(new_audio, 48000) - integrated_loudness(old_audio, 48000)), "<= 0.5")
    assert abs(integrated_loudness(new_audio, 48000) - integrated_loudness(old_audio, 48000)) <= 0.5
    recipe, _ = _take_notes(folder, "Bass")
    assert recipe["job"] == job["id"] and recipe["style"] == "funk" and recipe["program"] == before_recipe["program"]


def test_the_whole_take_follows_the_harmony_track(song: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "Groove"
    shutil.copytree(song, folder)
    _, harmony = _take_notes(folder, "Harmony")
    _regenerate(folder, "Bass", "--seed", "4")
    _, new = _take_notes(folder, "Bass")
    hits = 0
    for bar in range(1, 9):
        q = (bar - 1) * 4.0
        downbeat = [p for s, _, p, _ in new if abs(s - q) < 0.06]
        hits += bool(downbeat) and downbeat[0] % 12 in _chord_tones(harmony, q)
    figure("whole Bass take: beat-1 notes on the Harmony's chord tones", hits / 8, ">= 0.9")
    assert hits / 8 >= 0.9, hits


@pytest.mark.parametrize("prompt,low,high", [("busier bass", 1.3, 99.0), ("fewer notes", 0.0, 0.7)])
def test_relative_prompts_change_the_take(song: Path, tmp_path: Path, prompt: str, low: float, high: float) -> None:
    import shutil

    folder = tmp_path / "Groove"
    shutil.copytree(song, folder)
    _, before = _take_notes(folder, "Bass")
    job = _regenerate(folder, "Bass", "--prompt", prompt, "--seed", "7", "--loyalty", "0")
    _, after = _take_notes(folder, "Bass")
    ratio = _per_bar(after, range(1, 9)) / _per_bar(before, range(1, 9))
    figure(f"{prompt!r}: notes per bar, new / previous take", ratio, f"{low}..{high}")
    assert low <= ratio <= high, (prompt, ratio)
    assert "density" in job["stems"][0]["metadata"]["plan"]["decided"]


def test_what_is_not_understood_is_said(song: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "Groove"
    shutil.copytree(song, folder)
    out = subprocess.run([RESONANT, "regenerate", str(folder), "Bass", "--prompt", "make the bass more aggressive "
                          "with glitter"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "energy:" in out.stdout and "not understood: 'glitter'" in out.stdout, out.stdout


def test_a_new_melody_keeps_clear_of_a_locked_one(tmp_path: Path) -> None:
    """A locked MIDI melody: the new one takes another register, and on strong beats never sits a
    semitone from a sounding locked note."""
    from tests.conftest import FIXTURES

    folder = tmp_path / "Song"
    folder.mkdir()
    (folder / "Song.ardour").write_text((FIXTURES / "empty-ardour-7.3.ardour").read_text())
    locked = [(q * 1.0, q + 0.9, p) for q, p in enumerate([69, 72, 74, 76, 74, 72, 71, 69] * 4)]
    mid = _smf(locked)
    s = read_session(folder)
    req = GenerationRequest(roles=["melody"], bars=8, prompt="pop in A minor", seed=5)
    ctx = context_for(s, req)
    from bridge.music.plan import LockedNote

    ctx.song.notes = [LockedNote(a, b, p, "melody") for a, b, p in locked]
    (st,) = ENGINE.generate(req, ctx)
    new = notes_of(st.midi)
    clashes = strong = 0
    for s0, _, p, _ in new:
        if abs(s0 - round(s0)) > 0.06:
            continue
        strong += 1
        sounding = [lp for a, b, lp in locked if a <= s0 < b]
        clashes += any((p - lp) % 12 in (1, 11) for lp in sounding)
    figure("melody vs locked melody: semitone clashes on strong beats", clashes / max(1, strong), "<= 0.05")
    assert strong >= 8 and clashes / strong <= 0.05, (clashes, strong)
    assert np.median([p for *_, p, _ in new]) > max(lp for *_, lp in locked)  # above it: there is room
    assert mid  # the locked melody is a real MIDI file as a user would have


def _smf(notes: list[tuple[float, float, int]]) -> bytes:
    mf = mido.MidiFile(ticks_per_beat=960)
    tr = mido.MidiTrack()
    mf.tracks.append(tr)
    events = sorted([(int(a * 960), 1, p) for a, _, p in notes] + [(int(b * 960), 0, p) for _, b, p in notes])
    last = 0
    for t, on, p in events:
        tr.append(mido.Message("note_on" if on else "note_off", note=p, velocity=80 if on else 0, time=t - last))
        last = t
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def test_bars_past_the_end_are_refused_unless_extended(song: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    folder = tmp_path / "Groove"
    shutil.copytree(song, folder)
    before = (folder / "Groove.ardour").read_bytes()
    out = subprocess.run([RESONANT, "regenerate", str(folder), "Bass", "--bars", "7-12", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and "the song, which has 8 bars (1-8)" in out.stderr, out.stderr
    assert json.loads(out.stdout)["error"] == "invalid_input"
    assert (folder / "Groove.ardour").read_bytes() == before
    job = _regenerate(folder, "Bass", "--bars", "7-12", "--extend")
    s = read_session(folder)
    assert s.session_range[1] >= s.tempo_map.samples_at_bar(13) - 1
    assert job["stems"][0]["metadata"]["bars"] == 6
