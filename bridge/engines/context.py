"""What a new part must fit, built from the session: the whole song around the bars being written.

Every other track, locked or not, is the music the part lands in ("locked" means never changed, not
"the only context"), and so is the track's own previous take: the key is read from all of it over
the whole song, the chords from the bars themselves, the form from the session's markers, the
groove from its drums. Pitched notes the bridge knows (MIDI tracks, and the takes it wrote itself)
let the part keep clear of the other parts' registers and notes.
"""

from __future__ import annotations

import numpy as np

from bridge.ardour import takes
from bridge.ardour.model import Session, Track
from bridge.ardour.partners import partner
from bridge.audio import harmony
from bridge.audio.analysis import MusicalContext, analyze
from bridge.audio.midi import read_smf, track_notes
from bridge.audio.mixdown import render
from bridge.engines.base import GenerationContext, GenerationRequest
from bridge.errors import BridgeError, InvalidInput
from bridge.music.plan import LockedNote, SongInfo
from bridge.music.theory import Key, parse_note


def song_bars(session: Session) -> int:
    """The song's length in whole bars (the session range, else the end of its material)."""
    tm = session.tempo_map
    end = session.session_range[1] if session.session_range else session.end_sample()
    if end <= 0:
        return 0
    return tm.bars_spanning(0, end, sliver=0.02)[1]


def check_bars(session: Session, first: int, last: int, extend: bool) -> None:
    """Bars past the song's end are refused unless the caller asks to extend the song (then the
    session range grows to cover the new bars)."""
    total = song_bars(session)
    if total and last > total and not extend:
        raise InvalidInput(f"bars {first}-{last} go past the end of the song, which has {total} bars (1-{total}):"
                           f" ask for bars within 1-{total}, or make the song longer (CLI --extend, MCP/OSC"
                           f" extend=1, in Ardour's generate dialog \"Make the song longer\")")


def _key(ctx: MusicalContext) -> Key | None:
    return Key(ctx.key_tonic, ctx.mode) if ctx.key_tonic is not None and ctx.mode else None


def _bar_of(session: Session, sample: int) -> int:
    return session.tempo_map.bar_containing(sample)


def written_chords(session: Session, tracks: list[Track], first_bar: int, bars: int) -> list[list[str | None]]:
    """The chords the bridge wrote the current takes of these tracks on (their recipes), per bar:
    exact where a reading of audio or notes is a guess. Harmony takes first."""
    grid: list[list[str | None]] = [[None] for _ in range(bars)]
    for t in sorted(tracks, key=lambda t: t.role != "harmony"):
        regions = session.regions_of(t)
        names = [session.sources[s].name for r in regions for s in r.source_ids if s in session.sources]
        recipe, _ = takes.recall(session.folder, names, t.role) if names else (None, None)
        chords = (recipe or {}).get("chords")
        if not isinstance(chords, list) or not isinstance((recipe or {}).get("first_bar"), int):
            continue
        for i, cell in enumerate(chords):
            b = recipe["first_bar"] + i - first_bar
            if 0 <= b < bars and grid[b] == [None] and isinstance(cell, str) and cell:
                grid[b] = cell.split("/")[:2]
    return grid


def known_notes(session: Session, tracks: list[Track], first_q: float) -> list[LockedNote]:
    """Pitched notes of these tracks: their MIDI, or the notes of the take the bridge wrote."""
    tm = session.tempo_map
    out: list[LockedNote] = []
    for t in tracks:
        if t.role == "drums":
            continue
        role = t.role or "other"
        if t.kind == "midi":
            for n in track_notes(session, t):
                out.append(LockedNote(tm.quarters_at_samples(n.start) - first_q,
                                      tm.quarters_at_samples(n.end) - first_q, n.pitch, role))
            continue
        regions = session.regions_of(t)
        if not regions:
            continue
        names = [session.sources[s].name for r in regions for s in r.source_ids if s in session.sources]
        recipe, midi = takes.recall(session.folder, names, t.role)
        if not midi:
            continue
        start = (recipe or {}).get("start", min(r.position for r in regions))
        q0 = tm.quarters_at_samples(int(start)) - first_q
        try:
            notes = read_smf(midi)
        except (BridgeError, ValueError, OSError):
            continue
        out += [LockedNote(q0 + s, q0 + e, p, role) for s, e, p, _ in notes]
    return out


_ROLE_WEIGHT = {"harmony": 1.0, "bass": 0.6, "melody": 0.25, "other": 0.5}


def chords_from_notes(notes: list[LockedNote], bars: int, bar_quarters: float, key: Key | None
                      ) -> list[list[str | None]]:
    """Chords per bar (or half bar) from known notes: the harmony parts count most, the bass gives the
    root, a melody a little; bars where none of them sound stay empty."""
    spans = []
    for b in range(bars):
        a0, a1 = b * bar_quarters, (b + 0.5) * bar_quarters
        parts = []
        for lo, hi in ((a0, a1), (a1, (b + 1) * bar_quarters)):
            c, bass = np.zeros(12), np.zeros(12)
            for n in notes:
                overlap = min(n.end, hi) - max(n.start, lo)
                if overlap > 0:
                    c[n.pitch % 12] += overlap * _ROLE_WEIGHT.get(n.role, 0.5)
                    if n.role == "bass":
                        bass[n.pitch % 12] += overlap
            parts.append((c, bass))
        spans.append((parts[0][0], parts[1][0], parts[0][1], parts[1][1]))
    if not any(a.any() or b.any() for a, b, _, _ in spans):
        return [[None] for _ in range(bars)]
    return [[ch.name if ch else None for ch in row] for row, _ in harmony.bar_chords(spans, key)]


def context_for(session: Session, request: GenerationRequest, target: str | None = None) -> GenerationContext:
    """The song around the bars ``request`` writes; ``target`` is the track being regenerated (its
    own take counts for key and chords, but not as another part to keep clear of)."""
    tm = session.tempo_map
    total = song_bars(session)
    tracks = [t for t in session.tracks if session.regions_of(t)]
    song = SongInfo(first_bar=request.first_bar, total_bars=total,
                    markers=[(m.name, _bar_of(session, m.start)) for m in session.markers])
    musical = None
    if tracks and total > 0:
        musical = analyze(session, tracks, None)
        key = _key(musical)
        if key is not None:
            song.key, song.key_confidence = key, musical.key_confidence
            song.key_why = "pitched tracks (" + ", ".join(musical.key_from) + ")"
        elif musical.key_guess:
            # a weak reading: passed on with its confidence, so that the prompt wins and says why
            tonic, mode = musical.key_guess.split()
            song.key, song.key_confidence = Key(parse_note(tonic), mode), musical.key_confidence
            song.key_why = "pitched tracks"
        by_bar = {b.bar: (b.chords or [b.chord]) for b in musical.bars}
        song.grid = [by_bar.get(request.first_bar + i, [None]) for i in range(request.bars)]
    first_q = tm.quarters_at_bbt(request.first_bar)
    # the track's partner (Bass MIDI for Bass) plays the same part: not another part either
    mate = partner(session, session.track(target)) if target else None
    others = [t for t in tracks if t.name != target and (mate is None or t.name != mate.name)]
    song.notes = known_notes(session, others, first_q)
    heard = chords_from_notes(song.notes, request.bars, tm.meter_at_quarters(first_q).bar_quarters, song.key)
    written = written_chords(session, [t for t in others if t.role != "drums"],
                             request.first_bar, request.bars)
    for layer in (heard, written):  # later layers win: written chords over notes over the audio's reading
        if any(any(row) for row in layer):
            song.grid = [h if any(h) else (song.grid[i] if i < len(song.grid) else [None])
                         for i, h in enumerate(layer)]
    drums = [t for t in others if t.role == "drums"]
    if drums:
        last = min(request.last_bar, max(total, request.first_bar))
        if last >= request.first_bar and request.first_bar <= total:
            groove = analyze(session, drums, (request.first_bar, last))
            song.kick_groove, song.locked_drums = groove.kick_groove, bool(groove.kick_groove)
    audio_tracks = [t for t in session.locked_tracks() if t.kind == "audio"]

    def locked_audio(start: int, end: int) -> np.ndarray:
        """Rendered on demand: the arranger never asks, an audio model asks once or twice."""
        out = np.zeros((max(0, end - start), 2), dtype=np.float32)
        lo = max(0, start)
        if end > lo:
            out[lo - start:] = render(session, audio_tracks, lo, end)
        return out

    return GenerationContext(session.tempo_map, musical, [t.role or "other" for t in session.locked_tracks()],
                             [n.pitch for n in song.notes], source="session",
                             locked_audio=locked_audio if audio_tracks else None, song=song)
