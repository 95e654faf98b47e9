"""What the locked tracks establish, as one ``MusicalContext``: bar grid and tempo (the session's,
cross-checked against the audio), key, chord per bar, groove per 16th, energy, loudness.

Anything that cannot be determined is ``None`` with a reason in ``unknown``; nothing here raises
for silent or odd material. Files that cannot be read at all raise the session's typed errors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from bridge.ardour.model import Session, Track
from bridge.audio import features, harmony
from bridge.audio.midi import Note, track_notes
from bridge.audio.mixdown import render
from bridge.errors import InvalidInput
from bridge.music.theory import NOTE_NAMES

STEPS_PER_BEAT = 4  # 16ths in 4/4
SILENCE = 1e-5  # peak below -100 dBFS counts as silence
TEMPO_TOLERANCE = 0.02  # onsets and session within 2% agree
MIN_PULSE = 0.3  # autocorrelation at the beat below this: no clear pulse to measure


@dataclass
class BarInfo:
    bar: int
    start: int  # samples
    end: int
    chord: str | None = None  # the chord the bar starts on
    chord_confidence: float = 0.0
    energy_db: float | None = None
    chords: list[str | None] = field(default_factory=list)  # one per bar, or one per half where it moves


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
    key_guess: str | None = None  # the best reading even when it is too weak to be the key
    chords_from: str | None = None  # "midi" or "audio"
    key_from: list[str] = field(default_factory=list)  # the pitched tracks the key and chords come from
    not_pitched: dict[str, str] = field(default_factory=dict)  # tracks left out of key and chords, and why
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

    @property
    def grid(self) -> list[list[str | None]]:
        """Chords per bar: one, or two (the bar's halves) where the harmony moves."""
        return [b.chords or [b.chord] for b in self.bars]

    def to_dict(self) -> dict:
        return asdict(self)


def bar_range(session: Session, bars: tuple[int, int] | None) -> tuple[int, int, int, int]:
    """(start, end) samples and first/last bar (inclusive) for ``bars`` or the whole session."""
    tm = session.tempo_map
    if bars is None:
        rng = session.session_range or (0, session.end_sample())
        if rng[1] <= rng[0]:
            raise InvalidInput("the session has no material to analyse (empty session range)")
        # a sliver (under 2% of a bar) past the last bar line is rounding, not another bar
        first, last = tm.bars_spanning(rng[0], rng[1], sliver=0.02)
    else:
        first, last = bars
        if first < 1 or last < first:
            raise InvalidInput(f"bars {first}-{last}: give A-B with 1 <= A <= B")
    return tm.samples_at_bar(first), tm.samples_at_bar(last + 1), first, last


def analyze(session: Session, tracks: list[Track] | None = None,
            bars: tuple[int, int] | None = None) -> MusicalContext:
    """Analyse ``tracks`` (default: every track of the session) over ``bars`` (default: the session).

    Tempo and groove come from all of them; key and chords from the pitched ones only (see
    ``bridge.audio.harmony``)."""
    if tracks is None:
        tracks = list(session.tracks)
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
    midi_tracks = [t for t in tracks if t.kind == "midi"]
    midi: list[Note] = []
    for t in midi_tracks:
        if t.role == "drums":
            ctx.not_pitched[t.name] = "a drum track"
            continue
        notes = [n for n in track_notes(session, t) if n.end > start and n.start < end]
        if notes:
            midi += notes
            ctx.key_from.append(t.name)
    # one track at a time, keeping only the sums: memory stays that of two tracks whatever their number
    stereo = np.zeros((end - start, 2), np.float32)
    pitched_x: np.ndarray | None = None
    for t in audio_tracks:
        audio = render(session, [t], start, end)
        stereo += audio
        if float(np.max(np.abs(audio), initial=0.0)) < SILENCE:
            continue
        if t.role == "drums":
            ctx.not_pitched[t.name] = "a drum track" + (" (by its name)" if t.role_guessed else "")
            continue
        x = features.to_analysis_rate(audio.mean(axis=1), session.sample_rate)
        del audio
        if not (t.role in ("bass", "harmony", "melody") and not t.role_guessed):
            share = harmony.pitched_share(x)
            if share < harmony.PITCHED_SHARE:
                ctx.not_pitched[t.name] = f"percussive by its sound (harmonic share {share:.2f})"
                continue
        pitched_x = x if pitched_x is None else pitched_x + x
        ctx.key_from.append(t.name)
    analyze_audio(ctx, session, stereo, midi, pitched_x)
    return ctx


def _unknown_all(ctx: MusicalContext, reason: str) -> None:
    for k in ("tempo", "key", "chords", "groove", "loudness"):
        ctx.unknown.setdefault(k, reason)


def analyze_audio(ctx: MusicalContext, session: Session, stereo: np.ndarray, midi: list[Note],
                  pitched_x: np.ndarray | None = None) -> None:
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

    if midi:
        ctx.chords_from = "midi"
        halves = _midi_halves(ctx, midi)
    elif pitched_x is not None:
        ctx.chords_from = "audio"
        halves = _audio_halves(ctx, pitched_x)
    else:
        ctx.unknown["key"] = ctx.unknown["chords"] = (
            "no pitched material: " + "; ".join(f"{k} is {v}" for k, v in ctx.not_pitched.items())
            if ctx.not_pitched else "no pitched material")
        return
    _key_and_chords(ctx, halves)


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


def _audio_halves(ctx: MusicalContext, x: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    ch = harmony.chroma_of(x)
    fr, rate = ch.frame_rate, ctx.sample_rate
    out = []
    for b in ctx.bars:
        a = int((b.start - ctx.start) / rate * fr)
        z = max(a + 2, int((b.end - ctx.start) / rate * fr))
        m = (a + z) // 2
        out.append((ch.chroma[a:m].sum(axis=0), ch.chroma[m:z].sum(axis=0), ch.bass[a:m].sum(axis=0),
                    ch.bass[m:z].sum(axis=0)))
    return out


def _midi_halves(ctx: MusicalContext, notes: list[Note]) -> list[tuple[np.ndarray, ...]]:
    out = []
    low = min(n.pitch for n in notes) if notes else 0
    for b in ctx.bars:
        mid = (b.start + b.end) // 2
        parts = []
        for lo, hi in ((b.start, mid), (mid, b.end)):
            c, bass = np.zeros(12), np.zeros(12)
            for n in notes:
                overlap = min(n.end, hi) - max(n.start, lo)
                if overlap > 0:
                    c[n.pitch % 12] += overlap
                    if n.pitch < low + 12:
                        bass[n.pitch % 12] += overlap
            parts.append((c, bass))
        out.append((parts[0][0], parts[1][0], parts[0][1], parts[1][1]))
    return out


def _key_and_chords(ctx: MusicalContext, halves: list[tuple[np.ndarray, ...]]) -> None:
    total = sum(a + b for a, b, _, _ in halves)
    bass_total = sum(c + d for _, _, c, d in halves)
    first_pass = harmony.bar_chords(halves, None)
    guess, _, _ = harmony.best_key(total, [row[0] for row, _ in first_pass], bass_total)
    key, conf, why = harmony.key_reading(total, [row[0] for row, _ in first_pass], bass_total)
    ctx.key_confidence = round(conf, 3)
    ctx.key_guess = guess.name if guess else None
    if key is None:
        ctx.unknown["key"] = why
    else:
        ctx.key, ctx.key_tonic, ctx.mode = key.name, key.tonic, key.mode
    for b, (row, c) in zip(ctx.bars, harmony.bar_chords(halves, key), strict=True):
        audible = ctx.chords_from == "midi" or b.energy_db is not None
        names = [ch.name if ch else None for ch in row] if audible else [None]
        b.chords = names
        b.chord = names[0]
        b.chord_confidence = round(c, 3) if b.chord else 0.0
    if all(b.chord is None for b in ctx.bars):
        ctx.unknown["chords"] = "no pitched material in any bar"


def describe(ctx: MusicalContext) -> str:
    """A readable summary for the CLI."""
    lines = [f"Bars {ctx.first_bar}-{ctx.last_bar} of {', '.join(ctx.tracks) or 'no tracks'}",
             f"  tempo {ctx.tempo_bpm:g} BPM (session), {ctx.meter}"
             + (f"; audio says {ctx.detected_bpm:g} BPM" if ctx.detected_bpm else ""),
             f"  key {ctx.key or 'unknown'}" + (f" (confidence {ctx.key_confidence:.2f}, from "
                                                 f"{', '.join(ctx.key_from)})" if ctx.key else ""),
             f"  loudness {ctx.loudness_lufs:.1f} LUFS" if ctx.loudness_lufs is not None else "  loudness unknown"]
    if ctx.groove:
        lines.append("  groove  " + " ".join(f"{v:.1f}" for v in ctx.groove))
        lines.append("  kick    " + " ".join(f"{v:.1f}" for v in ctx.kick_groove))
    lines.append(f"  chords (from {ctx.chords_from or '-'}):")
    for b in ctx.bars:
        energy = f"{b.energy_db:6.1f} dB" if b.energy_db is not None else "   silent"
        chords = " | ".join(c or "-" for c in (b.chords or [b.chord]))
        lines.append(f"    bar {b.bar:>3}  {chords:<11} {energy}")
    for k, v in ctx.unknown.items():
        lines.append(f"  ? {k}: {v}")
    for w in ctx.warnings:
        lines.append(f"  ! {w}")
    return "\n".join(lines)


__all__ = ["BarInfo", "MusicalContext", "NOTE_NAMES", "analyze", "bar_range", "describe"]
