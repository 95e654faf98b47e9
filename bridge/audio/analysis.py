"""What the locked tracks establish, as one ``MusicalContext``: bar grid and tempo (the session's,
cross-checked against the audio), key, chord per bar, groove per 16th, energy, loudness.

Anything that cannot be determined is ``None`` with a reason in ``unknown``; nothing here raises
for silent or odd material. Files that cannot be read at all raise the session's typed errors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from bridge.ardour.model import Session, Track
from bridge.audio import features
from bridge.audio.midi import Note, track_notes
from bridge.audio.mixdown import render
from bridge.errors import InvalidInput
from bridge.music.theory import NOTE_NAMES, Key, best_chord, key_scores

STEPS_PER_BEAT = 4  # 16ths in 4/4
SILENCE = 1e-5  # peak below -100 dBFS counts as silence
TEMPO_TOLERANCE = 0.02  # onsets and session within 2% agree
MIN_PULSE = 0.3  # autocorrelation at the beat below this: no clear pulse to measure


@dataclass
class BarInfo:
    bar: int
    start: int  # samples
    end: int
    chord: str | None = None
    chord_confidence: float = 0.0
    energy_db: float | None = None


@dataclass
class MusicalContext:
    sample_rate: int
    start: int
    end: int
    first_bar: int
    last_bar: int  # inclusive
    tempo_bpm: float  # the session's tempo at the start (quarter notes per minute)
    meter: str
    tempo_map: dict
    detected_bpm: float | None = None
    tempo_confidence: float = 0.0
    tempo_agrees: bool | None = None
    key: str | None = None
    key_tonic: int | None = None
    mode: str | None = None
    key_confidence: float = 0.0
    chords_from: str | None = None  # "midi" or "audio"
    bars: list[BarInfo] = field(default_factory=list)
    groove: list[float] = field(default_factory=list)  # onset strength per step of a bar, 0..1
    kick_groove: list[float] = field(default_factory=list)
    loudness_lufs: float | None = None
    tracks: list[str] = field(default_factory=list)
    unknown: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def chords(self) -> list[str | None]:
        return [b.chord for b in self.bars]

    def to_dict(self) -> dict:
        return asdict(self)


def bar_range(session: Session, bars: tuple[int, int] | None) -> tuple[int, int, int, int]:
    """(start, end) samples and first/last bar (inclusive) for ``bars`` or the whole session."""
    tm = session.tempo_map
    if bars is None:
        rng = session.session_range or (0, session.end_sample())
        if rng[1] <= rng[0]:
            raise InvalidInput("the session has no material to analyse (empty session range)")
        first = max(1, int(tm.bar_at_samples(rng[0]) + 1e-9))
        # a sliver (under 2% of a bar) past the last bar line is rounding, not another bar
        last = max(first, int(np.ceil(tm.bar_at_samples(rng[1]) - 0.02)) - 1)
    else:
        first, last = bars
        if first < 1 or last < first:
            raise InvalidInput(f"bars {first}-{last}: give A-B with 1 <= A <= B")
    return tm.samples_at_bar(first), tm.samples_at_bar(last + 1), first, last


def analyze(session: Session, tracks: list[Track] | None = None,
            bars: tuple[int, int] | None = None) -> MusicalContext:
    """Analyse ``tracks`` (default: the locked ones, else all) over ``bars`` (default: the session)."""
    if tracks is None:
        tracks = session.locked_tracks() or list(session.tracks)
    start, end, first, last = bar_range(session, bars)
    tm = session.tempo_map
    meter = tm.meter_at_quarters(tm.quarters_at_samples(start))
    ctx = MusicalContext(
        sample_rate=session.sample_rate, start=start, end=end, first_bar=first, last_bar=last,
        tempo_bpm=round(tm.bpm_at_samples(start), 3), meter=f"{meter.divisions_per_bar:g}/{meter.note_value}",
        tempo_map=tm.to_dict(), tracks=[t.name for t in tracks],
        bars=[BarInfo(b, tm.samples_at_bar(b), tm.samples_at_bar(b + 1)) for b in range(first, last + 1)],
    )
    if not tracks:
        _unknown_all(ctx, "no tracks to analyse")
        return ctx
    audio_tracks = [t for t in tracks if t.kind == "audio"]
    midi = [n for t in tracks if t.kind == "midi" for n in track_notes(session, t)]
    midi = [n for n in midi if n.end > start and n.start < end]
    stereo = render(session, audio_tracks, start, end) if audio_tracks else np.zeros((end - start, 2), np.float32)
    analyze_audio(ctx, session, stereo, midi)
    return ctx


def _unknown_all(ctx: MusicalContext, reason: str) -> None:
    for k in ("tempo", "key", "chords", "groove", "loudness"):
        ctx.unknown.setdefault(k, reason)


def analyze_audio(ctx: MusicalContext, session: Session, stereo: np.ndarray, midi: list[Note]) -> None:
    tm = session.tempo_map
    rate = session.sample_rate
    peak = float(np.max(np.abs(stereo))) if stereo.size else 0.0
    silent = peak < SILENCE
    if silent and not midi:
        _unknown_all(ctx, "the analysed tracks are silent in this range")
        return
    mono = stereo.mean(axis=1) if stereo.size else np.zeros(0)
    ctx.loudness_lufs = None if silent else features.integrated_loudness(stereo, rate)
    if ctx.loudness_lufs is None:
        ctx.unknown["loudness"] = "silent or shorter than 400 ms"
    else:
        ctx.loudness_lufs = round(ctx.loudness_lufs, 2)
    for b in ctx.bars:
        seg = mono[b.start - ctx.start:b.end - ctx.start]
        rms = float(np.sqrt(np.mean(seg.astype(np.float64) ** 2))) if seg.size else 0.0
        b.energy_db = round(20 * np.log10(rms), 2) if rms > SILENCE else None

    x = features.to_analysis_rate(mono, rate) if not silent else None
    if x is not None:
        _tempo_and_groove(ctx, tm, x)
    else:
        ctx.unknown["tempo"] = ctx.unknown["groove"] = "no audio, only MIDI"

    bar_chroma = _midi_chroma(ctx, midi) if midi else None
    ctx.chords_from = "midi" if midi else "audio"
    if bar_chroma is None:
        if x is None:
            ctx.unknown["chords"] = ctx.unknown["key"] = "silent"
            return
        chroma, fr = features.chroma_frames(x)
        bar_chroma = []
        for b in ctx.bars:
            a = int((b.start - ctx.start) / rate * fr)
            z = max(a + 1, int((b.end - ctx.start) / rate * fr))
            bar_chroma.append(chroma[a:z].sum(axis=0))
        bar_chroma = np.array(bar_chroma)
    _key_and_chords(ctx, bar_chroma)


def _tempo_and_groove(ctx: MusicalContext, tm, x: np.ndarray) -> None:
    on = features.onset_envelope(x)
    bpm, conf = features.tempo_from_onsets(on.full, on.frame_rate, prior=ctx.tempo_bpm)
    ctx.tempo_confidence = round(conf, 3)
    if bpm is None:
        ctx.unknown["tempo"] = "too short or no onsets to measure a tempo from"
    elif conf < MIN_PULSE:
        ctx.unknown["tempo"] = f"no clear pulse in the audio (confidence {conf:.2f}); the session's tempo is used"
    else:
        ctx.detected_bpm = round(bpm, 2)
        session_bpm = ctx.tempo_bpm
        ratios = [bpm / session_bpm * m for m in (1.0, 2.0, 0.5)]
        ctx.tempo_agrees = any(abs(r - 1.0) <= TEMPO_TOLERANCE for r in ratios)
        if not ctx.tempo_agrees:
            ctx.warnings.append(
                f"the audio plays at about {bpm:.1f} BPM but the session's tempo map says {session_bpm:g} BPM:"
                " set the session tempo (or the bar grid will not fit the locked material)")
    # Groove: onset strength at each 16th of the session's grid, averaged over the bars.
    meter = tm.meter_at_quarters(tm.quarters_at_samples(ctx.start))
    steps = int(round(meter.divisions_per_bar * STEPS_PER_BEAT * 4 / meter.note_value))
    grid_full, grid_low = np.zeros(steps), np.zeros(steps)
    half = max(1, int(0.015 * on.frame_rate))
    for b in ctx.bars:
        q0 = tm.quarters_at_samples(b.start)
        for s in range(steps):
            t = tm.samples_at_quarters(q0 + s / STEPS_PER_BEAT) - ctx.start
            f = int(round(t / ctx.sample_rate * on.frame_rate))
            lo, hi = max(0, f - half), min(on.full.size, f + half + 1)
            if hi > lo:
                grid_full[s] += on.full[lo:hi].max()
                grid_low[s] += on.low[lo:hi].max()
    for name, g in (("groove", grid_full), ("kick_groove", grid_low)):
        top = g.max()
        setattr(ctx, name, [round(float(v / top), 3) for v in g] if top > 0 else [0.0] * steps)


def _midi_chroma(ctx: MusicalContext, notes: list[Note]) -> np.ndarray:
    out = np.zeros((len(ctx.bars), 12))
    for i, b in enumerate(ctx.bars):
        for n in notes:
            overlap = min(n.end, b.end) - max(n.start, b.start)
            if overlap > 0:
                out[i, n.pitch % 12] += overlap
    return out


def _key_and_chords(ctx: MusicalContext, bar_chroma: np.ndarray) -> None:
    total = bar_chroma.sum(axis=0)
    scores = key_scores(total)
    if not scores:
        ctx.unknown["key"] = "no pitched material"
        ctx.unknown["chords"] = "no pitched material"
        return
    key = scores[0][1]
    chords = [best_chord(c)[0] if c.sum() > 0 else None for c in bar_chroma]
    # Relative keys share every note; prefer the one whose tonic triad the music actually rests on.
    rel = key.relative()
    rel_score = next(r for r, k in scores if k == rel)
    if scores[0][0] - rel_score < 0.15:
        def weight(k: Key) -> float:
            hits = [i for i, c in enumerate(chords) if c == k.tonic_chord]
            return len(hits) + (0.5 if 0 in hits else 0.0) + (0.25 if len(chords) - 1 in hits else 0.0)

        if weight(rel) > weight(key):
            key = rel
    ctx.key, ctx.key_tonic, ctx.mode = key.name, key.tonic, key.mode
    ctx.key_confidence = round(max(0.0, scores[0][0]), 3)
    for b, c in zip(ctx.bars, bar_chroma, strict=True):
        audible = ctx.chords_from == "midi" or b.energy_db is not None
        chord, conf = best_chord(c, key) if c.sum() > 0 and audible else (None, 0.0)
        b.chord = chord.name if chord else None
        b.chord_confidence = round(conf, 3)
    if all(b.chord is None for b in ctx.bars):
        ctx.unknown["chords"] = "no pitched material in any bar"


def describe(ctx: MusicalContext) -> str:
    """A readable summary for the CLI."""
    lines = [f"Bars {ctx.first_bar}-{ctx.last_bar} of {', '.join(ctx.tracks) or 'no tracks'}",
             f"  tempo {ctx.tempo_bpm:g} BPM (session), {ctx.meter}"
             + (f"; audio says {ctx.detected_bpm:g} BPM" if ctx.detected_bpm else ""),
             f"  key {ctx.key or 'unknown'}" + (f" (confidence {ctx.key_confidence:.2f})" if ctx.key else ""),
             f"  loudness {ctx.loudness_lufs:.1f} LUFS" if ctx.loudness_lufs is not None else "  loudness unknown"]
    if ctx.groove:
        lines.append("  groove  " + " ".join(f"{v:.1f}" for v in ctx.groove))
        lines.append("  kick    " + " ".join(f"{v:.1f}" for v in ctx.kick_groove))
    lines.append(f"  chords (from {ctx.chords_from or '-'}):")
    for b in ctx.bars:
        energy = f"{b.energy_db:6.1f} dB" if b.energy_db is not None else "   silent"
        lines.append(f"    bar {b.bar:>3}  {b.chord or '-':<5} {energy}")
    for k, v in ctx.unknown.items():
        lines.append(f"  ? {k}: {v}")
    for w in ctx.warnings:
        lines.append(f"  ! {w}")
    return "\n".join(lines)


__all__ = ["BarInfo", "MusicalContext", "NOTE_NAMES", "analyze", "bar_range", "describe"]
