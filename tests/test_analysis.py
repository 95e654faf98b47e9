"""Analysis of locked material with known answers (synthesised here), and of bad material."""

from __future__ import annotations

import shutil
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf

from bridge.ardour import Clip, SessionEditor, read_session
from bridge.audio.analysis import analyze
from bridge.errors import AudioFileError, MissingSource
from tests.conftest import EMPTY_SMF, FIXTURES
from tests.synth import FSHARP_MINOR_PROGRESSION, RATE, bass_and_chords, drums

EXPECTED = [c for c, _, _ in FSHARP_MINOR_PROGRESSION]


def make_session(tmp_path: Path, bpm: float | None, tracks: dict[str, tuple[np.ndarray, str]],
                 name: str = "Song") -> Path:
    """An Ardour-made empty session (tests/fixtures/empty-ardour-7.3.ardour) at ``bpm``, with a locked
    track per entry, each starting at bar 1."""
    folder = tmp_path / name
    folder.mkdir(parents=True)
    xml = (FIXTURES / "empty-ardour-7.3.ardour").read_text()
    if bpm is not None:
        xml = xml.replace('npm="120" enpm="120"', f'npm="{bpm}" enpm="{bpm}"')
    (folder / f"{name}.ardour").write_text(xml)
    ed = SessionEditor(read_session(folder))
    for track, (audio, role) in tracks.items():
        wav = tmp_path / f"{track}.wav"
        sf.write(str(wav), np.stack([audio, audio], 1) if audio.ndim == 1 else audio, RATE, subtype="FLOAT")
        ed.add_audio_track(track, [Clip(wav, 0)], role=role, locked=True)
    ed.commit()
    return folder


@pytest.fixture(scope="module")
def band(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("band")
    bass, keys = bass_and_chords(97.0, 8)
    tracks = {"Drums": (drums(97.0, 8), "drums"), "Bass": (bass, "bass"), "Keys": (keys, "harmony")}
    return {"at97": make_session(tmp / "a", 97.0, tracks), "at120": make_session(tmp / "b", None, tracks)}


def test_tempo_key_chords_on_a_band_at_97(band: dict[str, Path]) -> None:
    ctx = analyze(read_session(band["at97"]), bars=(1, 8))
    assert ctx.tempo_bpm == pytest.approx(97.0)
    assert ctx.detected_bpm == pytest.approx(97.0, abs=0.5)
    assert ctx.tempo_agrees and not ctx.warnings
    assert (ctx.key, ctx.mode, ctx.key_tonic) == ("F# minor", "minor", 6)
    right = sum(c == EXPECTED[i % 4] for i, c in enumerate(ctx.chords))
    assert right / len(ctx.chords) >= 0.8, ctx.chords
    assert ctx.chords_from == "audio" and len(ctx.bars) == 8
    # groove: kicks on beats 1 and 3 (steps 0 and 8), snares on 2 and 4
    assert ctx.kick_groove[0] > 0.5 and ctx.kick_groove[8] > 0.5 and ctx.kick_groove[4] < ctx.kick_groove[0]
    assert min(ctx.groove[i] for i in (0, 4, 8, 12)) > max(ctx.groove[i] for i in (1, 3, 5, 7))
    assert ctx.loudness_lufs is not None and -40 < ctx.loudness_lufs < 0
    assert all(b.energy_db is not None for b in ctx.bars)


def test_tempo_disagreement_is_reported(band: dict[str, Path]) -> None:
    ctx = analyze(read_session(band["at120"]))
    assert ctx.tempo_bpm == 120
    assert ctx.detected_bpm == pytest.approx(97.0, abs=0.5)
    assert ctx.tempo_agrees is False and any("97" in w for w in ctx.warnings)


def test_drums_alone_have_a_tempo_but_no_key(tmp_path: Path) -> None:
    folder = make_session(tmp_path, 97.0, {"Drums": (drums(97.0, 8), "drums")})
    ctx = analyze(read_session(folder))
    assert ctx.detected_bpm == pytest.approx(97.0, abs=0.5)


def _write_chords_smf(path: Path) -> None:
    mf = mido.MidiFile(ticks_per_beat=960)
    tr = mido.MidiTrack()
    mf.tracks.append(tr)
    last = 0
    for i in range(4):
        _, root, triad = FSHARP_MINOR_PROGRESSION[i]
        pitches = [*triad, root + 12]
        t0, t1 = i * 4 * 960, (i + 1) * 4 * 960 - 10
        for k, p in enumerate(pitches):
            tr.append(mido.Message("note_on", note=p, velocity=90, time=(t0 - last) if k == 0 else 0))
            last = t0
        for k, p in enumerate(pitches):
            tr.append(mido.Message("note_off", note=p, velocity=0, time=(t1 - last) if k == 0 else 0))
            last = t1
    mf.save(str(path))


def test_chords_from_locked_midi_are_exact(handmade, tmp_path: Path) -> None:
    folder = handmade("7003")
    f = folder / "Handmade7003.ardour"
    # the MIDI region covers bars 1-4 (16 quarters at 120 BPM) and the Keys track is locked
    f.write_text(f.read_text().replace('length="b7680@b7680"', 'length="b30720@b0"'))
    _write_chords_smf(folder / "interchange" / "Handmade7003" / "midifiles" / "keys.mid")
    s = read_session(folder)
    ctx = analyze(s, [s.track("Keys")], bars=(1, 4))
    assert ctx.chords_from == "midi"
    assert ctx.chords == EXPECTED
    assert ctx.key == "F# minor"
    assert "tempo" in ctx.unknown  # MIDI alone has no audio to measure


def test_silence_gives_unknown_with_reasons(tmp_path: Path) -> None:
    folder = make_session(tmp_path, 120.0, {"Quiet": (np.zeros(RATE * 4), "other")})
    ctx = analyze(read_session(folder))
    assert ctx.key is None and ctx.detected_bpm is None
    assert set(ctx.unknown) >= {"key", "tempo", "chords", "loudness"}
    assert all("silent" in v for v in ctx.unknown.values())


def test_missing_unreadable_nan_and_channel_errors(tmp_path: Path) -> None:
    bass, _ = bass_and_chords(120.0, 2)
    folder = make_session(tmp_path, 120.0, {"Bass": (bass, "bass")})
    audio = next((folder / "interchange").iterdir()) / "audiofiles" / "Bass.wav"
    keep = tmp_path / "keep.wav"
    shutil.copy(audio, keep)

    audio.unlink()
    with pytest.raises(MissingSource):
        analyze(read_session(folder))
    audio.write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage")
    with pytest.raises(AudioFileError, match="cannot read"):
        analyze(read_session(folder))
    data, _ = sf.read(str(keep), always_2d=True)
    data[1000, 0] = np.nan
    sf.write(str(audio), data, RATE, subtype="FLOAT")
    with pytest.raises(AudioFileError, match="NaN"):
        analyze(read_session(folder))
    sf.write(str(audio), np.full((len(data), 1), 0.1), RATE, subtype="FLOAT")  # mono; the session reads ch. 2
    with pytest.raises(AudioFileError, match="channel"):
        analyze(read_session(folder))


def test_no_tracks_and_bad_bars(handmade) -> None:
    s = read_session(handmade("6000"))
    ctx = analyze(s, [], bars=(1, 2))
    assert ctx.key is None and "key" in ctx.unknown
    with pytest.raises(Exception, match="bars"):
        analyze(s, bars=(3, 2))


def test_empty_smf_is_silence_not_an_error(handmade) -> None:
    folder = handmade("7003")
    assert (folder / "interchange" / "Handmade7003" / "midifiles" / "keys.mid").read_bytes() == EMPTY_SMF
    s = read_session(folder)
    ctx = analyze(s, [s.track("Keys")], bars=(1, 4))
    assert ctx.key is None and ctx.chords == [None] * 4


def test_sustained_chords_have_no_measurable_pulse(tmp_path: Path) -> None:
    _, keys = bass_and_chords(97.0, 8)
    ctx = analyze(read_session(make_session(tmp_path, 97.0, {"Keys": (keys, "harmony")})))
    assert ctx.detected_bpm is None and "pulse" in ctx.unknown["tempo"]
    assert ctx.key == "F# minor" and ctx.tempo_bpm == 97.0
