"""Songs, not loops (issue 16): form, transitions, comping and bass variety, motifs, style and swing,
measured from the MIDI and audio the arranger renders over 32 bars, for several styles."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from bridge.audio.midi import read_smf
from bridge.engines import GenerationRequest, get_engine
from bridge.music.styles import CRASH, CRASH2, SNARE, SPLASH, STYLES, TOMS
from tests.figures import figure

ENGINE = get_engine("arranger")
STYLE4 = ("techno", "lo-fi", "metal", "jazz")
SONG_STYLES = (*STYLE4, "rock", "house", "funk")
BARS = 32


@pytest.fixture(scope="module")
def songs() -> dict:
    out = {}
    for style in SONG_STYLES:
        req = GenerationRequest(roles=["drums", "bass", "harmony", "melody"], bars=BARS, prompt=f"{style} 120 bpm",
                                seed=1)
        stems = {st.role: st for st in ENGINE.generate(req, None)}
        out[style] = stems
    return out


def notes(st) -> list[tuple[float, float, int, int]]:
    return read_smf(st.midi)


def sections(st) -> list[dict]:
    return st.metadata["plan"]["form"]


def _q(x: float, grid: float = 1 / 12) -> float:
    """Onset positions to a grid fine enough for triplets and swing (humanised timing rounds away)."""
    return round(round(x / grid) * grid, 4)


def bar_rhythms(ns, bq: float = 4.0) -> list[tuple]:
    bars: dict[int, list[float]] = {}
    for s, *_ in ns:
        b = int((s + 0.04) // bq)
        bars.setdefault(b, []).append(_q(s - b * bq))
    return [tuple(sorted(set(bars.get(b, [])))) for b in range(BARS)]


@pytest.mark.parametrize("style", SONG_STYLES)
def test_sections_differ_in_energy(songs, style: str) -> None:
    stems = songs[style]
    mix = sum(st.audio.astype(np.float64) for st in stems.values())
    per_bar = mix.shape[0] / BARS
    levels = []
    for sec in sections(stems["drums"]):
        a, b = int((sec["bars"][0] - 1) * per_bar), int(sec["bars"][1] * per_bar)
        levels.append(10 * np.log10(np.mean(mix[a:b] ** 2)))
    assert len(levels) >= 2
    figure(f"{style}: section level range (dB)", max(levels) - min(levels), ">= 3")
    assert max(levels) - min(levels) >= 3.0, (style, [s["section"] for s in sections(stems["drums"])], levels)


@pytest.mark.parametrize("style", SONG_STYLES)
def test_every_section_boundary_has_a_transition(songs, style: str) -> None:
    drums = notes(songs[style]["drums"])
    cymbals = {CRASH, CRASH2, SPLASH}
    fill = {SNARE, 39, *TOMS}
    for sec in sections(songs[style]["drums"])[1:]:
        q = (sec["bars"][0] - 1) * 4.0
        crash = any(abs(s - q) < 0.05 and p in cymbals for s, _, p, _ in drums)
        lead_in = [p for s, _, p, _ in drums if q - 2.0 <= s < q - 0.04 and p in fill]
        assert crash or len(lead_in) >= 3, (style, sec["section"], lead_in)


@pytest.mark.parametrize("style", SONG_STYLES)
def test_comping_and_bass_vary(songs, style: str) -> None:
    harmony = {r for r in bar_rhythms(notes(songs[style]["harmony"])) if r}
    bass = {r for r in bar_rhythms(notes(songs[style]["bass"])) if r}
    figure(f"{style}: comping rhythms / bass bar rhythms", f"{len(harmony)} / {len(bass)}", ">= 2 / >= 3")
    assert len(harmony) >= 2, (style, harmony)
    assert len(bass) >= 3, (style, bass)


def _bar_motifs(ns, bq: float = 4.0) -> list[tuple]:
    """Per bar: its rhythm and its intervals (what a listener recognises as the same figure)."""
    bars: dict[int, list[tuple[float, int]]] = {}
    for s, _, p, _ in ns:
        b = int((s + 0.04) // bq)
        bars.setdefault(b, []).append((_q(s - b * bq), p))
    out = []
    for b in range(BARS):
        row = sorted(bars.get(b, []))
        out.append((tuple(x for x, _ in row), tuple(row[i + 1][1] - row[i][1] for i in range(len(row) - 1))))
    return out


def _scale_run(row: list[int]) -> bool:
    steps = [b - a for a, b in itertools.pairwise(row)]
    return len(row) >= 4 and all(1 <= abs(d) <= 2 for d in steps) and len({d > 0 for d in steps}) == 1


@pytest.mark.parametrize("style", SONG_STYLES)
def test_the_melody_has_a_motif_that_returns_and_few_scale_runs(songs, style: str) -> None:
    ns = notes(songs[style]["melody"])
    motifs = _bar_motifs(ns)
    # a one- or two-bar figure (same rhythm, same intervals) heard at least three times
    one = [m for m in motifs if len(m[0]) >= 3]
    two = [(motifs[i], motifs[i + 1]) for i in range(BARS - 1) if len(motifs[i][0]) + len(motifs[i + 1][0]) >= 4]
    best = max([one.count(m) for m in one] + [two.count(m) for m in two], default=0)
    figure(f"{style}: melody motif returns (times heard)", best, ">= 3")
    assert best >= 3, (style, best)
    pitches: dict[int, list[int]] = {}
    for s, _, p, _ in ns:
        pitches.setdefault(int((s + 0.04) // 4), []).append(p)
    runs = sum(_scale_run(row) for row in pitches.values())
    figure(f"{style}: melody bars that are scale runs", runs / max(1, len(pitches)), "<= 0.5")
    assert runs <= 0.5 * len(pitches), (style, runs, len(pitches))


def test_styles_differ_in_melody_rhythm(songs) -> None:
    sets = {s: set(r for r in bar_rhythms(notes(songs[s]["melody"])) if r) for s in STYLE4}
    for a, b in itertools.combinations(STYLE4, 2):
        jaccard = len(sets[a] & sets[b]) / len(sets[a] | sets[b])
        figure(f"melody onsets Jaccard {a}/{b}", jaccard, "< 0.6")
        assert jaccard < 0.6, (a, b, jaccard)


def _swing_ratio(onsets: list[float], unit: int) -> float | None:
    """Long:short of swung pairs: where the off-beats (odd 16ths, or off-beat 8ths) fall inside their
    pair, averaged (2:1 is a triplet feel, 1:1 straight)."""
    span = 0.5 if unit == 8 else 0.25  # quarters per swung note
    fracs = []
    for s in onsets:
        pos = (s % (2 * span)) / span  # 0..2 inside the pair
        if 0.6 < pos < 1.6:
            fracs.append(pos)
    if len(fracs) < 8:
        return None
    d = float(np.median(fracs))
    return d / (2 - d)


@pytest.mark.parametrize("style", ["lo-fi", "jazz", "hip hop"])
def test_swing_is_the_same_in_drums_and_melody(style: str) -> None:
    req = GenerationRequest(roles=["drums", "melody"], bars=BARS, prompt=f"{style} 100 bpm", seed=3)
    stems = {st.role: st for st in ENGINE.generate(req, None)}
    unit = STYLES[style].swing_unit
    hats = [s for s, _, p, _ in notes(stems["drums"]) if p in (42, 44, 46, 51)]
    mel = [s for s, *_ in notes(stems["melody"])]
    a, b = _swing_ratio(hats, unit), _swing_ratio(mel, unit)
    assert a is not None and b is not None, (style, a, b)
    figure(f"{style}: swing ratio drums / melody", f"{a:.2f} / {b:.2f}", "within 10%")
    assert a > 1.15 and abs(a - b) / a <= 0.10, (style, a, b)


def test_markers_give_the_sections(tmp_path: Path) -> None:
    from bridge.ardour import read_session
    from bridge.engines.context import context_for
    from tests.conftest import FIXTURES

    folder = tmp_path / "Song"
    folder.mkdir()
    xml = (FIXTURES / "empty-ardour-7.3.ardour").read_text()
    # location markers as Ardour writes them (seen from Ardour 7.3's OSC /add_marker, then /save_state)
    bar = 2 * 48000 * 5880  # superclock of a bar at 120 BPM
    marks = "".join(f'<Location id="{900 + i}" name="{name}" start="a{(b - 1) * bar}" end="a{(b - 1) * bar}" '
                    f'flags="IsMark" locked="0" timestamp="1796113352" cue="0"/>'
                    for i, (name, b) in enumerate([("Verse", 1), ("Chorus", 9), ("Verse 2", 17), ("Chorus 2", 25)]))
    xml = xml.replace("<Locations/>", f"<Locations>{marks}</Locations>") if "<Locations/>" in xml else \
        xml.replace("<Locations>", f"<Locations>{marks}", 1)
    (folder / "Song.ardour").write_text(xml)
    s = read_session(folder)
    assert [m.name for m in s.markers] == ["Verse", "Chorus", "Verse 2", "Chorus 2"]
    req = GenerationRequest(roles=["drums", "melody"], bars=32, prompt="rock", seed=1)
    stems = ENGINE.generate(req, context_for(s, req))
    form = stems[0].metadata["plan"]["form"]
    assert [(f["kind"], f["bars"]) for f in form] == [("verse", [1, 8]), ("chorus", [9, 16]), ("verse", [17, 24]),
                                                      ("chorus", [25, 32])]
    assert stems[0].metadata["plan"]["decided"]["form"] == "the session's markers"
    # the hook returns: the two choruses' melodies are the same notes
    mel = notes(stems[1])
    c1 = [(_q(s - 32), p) for s, _, p, _ in mel if 32 - 0.05 <= s < 64 - 0.05]
    c2 = [(_q(s - 96), p) for s, _, p, _ in mel if 96 - 0.05 <= s < 128 - 0.05]
    assert c1 and len(set(c1) & set(c2)) >= 0.8 * len(c1)


FLUID = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def test_with_debians_soundfont_the_bass_has_weight_and_stems_are_stereo() -> None:
    if not FLUID.is_file():
        msg = "Debian's fluid-soundfont-gm is not installed (scripts/setup installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    from bridge.audio.synth import soundfont_path

    assert soundfont_path() == FLUID.resolve() or os.environ.get("RESONANT_SOUNDFONT")
    req = GenerationRequest(roles=["bass", "harmony", "melody"], bars=8, prompt="lo-fi", seed=1)
    stems = {st.role: st for st in ENGINE.generate(req, None)}
    bass = stems["bass"].audio.mean(axis=1).astype(np.float64)
    low = sosfilt(butter(8, 120.0, "lowpass", fs=48000, output="sos"), bass)
    share = float(np.sum(low ** 2) / np.sum(bass ** 2))
    figure("lo-fi bass energy below 120 Hz (FluidR3)", share, ">= 0.5")
    assert share >= 0.5, share
    for role, st in stems.items():
        side = st.audio[:, 0].astype(np.float64) - st.audio[:, 1]
        mid = st.audio[:, 0].astype(np.float64) + st.audio[:, 1]
        figure(f"lo-fi {role}: side/mid RMS", float(np.sqrt(np.mean(side ** 2)) / np.sqrt(np.mean(mid ** 2))), "> 0.02")
        assert np.sqrt(np.mean(side ** 2)) / np.sqrt(np.mean(mid ** 2)) > 0.02, role
