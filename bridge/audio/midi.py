"""Notes of MIDI regions, placed on the session timeline through the tempo map (§7.2, §8.3)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bridge.ardour.model import Region, Session, Track
from bridge.errors import AudioFileError, MissingSource


@dataclass(frozen=True, slots=True)
class Note:
    pitch: int
    velocity: int
    start: int  # samples on the timeline
    end: int
    start_quarters: float  # quarter notes on the timeline
    end_quarters: float


def read_smf(source: Path | bytes) -> list[tuple[float, float, int, int]]:
    """(start, end) in quarter notes from the file's start, pitch, velocity; the file's own PPQN.
    ``source`` is a file, or the file's bytes."""
    import io

    import mido

    try:
        mf = mido.MidiFile(file=io.BytesIO(source)) if isinstance(source, bytes) else mido.MidiFile(str(source))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as e:
        what = "MIDI data" if isinstance(source, bytes) else f"MIDI file {source.name}"
        raise AudioFileError(f"cannot read {what}: {e}") from None
    ppq = mf.ticks_per_beat or 480
    notes: list[tuple[float, float, int, int]] = []
    for tr in mf.tracks:
        t = 0
        open_notes: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for msg in tr:
            t += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                open_notes.setdefault((msg.channel, msg.note), []).append((t, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                stack = open_notes.get((msg.channel, msg.note))
                if stack:
                    t0, vel = stack.pop(0)
                    notes.append((t0 / ppq, t / ppq, msg.note, vel))
    return sorted(notes)


def region_notes(session: Session, region: Region) -> list[Note]:
    src = session.sources.get(region.source_ids[0]) if region.source_ids else None
    if src is None or src.path is None:
        raise MissingSource(f"MIDI region {region.name!r} reads a file that is not on disk")
    tm = session.tempo_map
    pos_q = (int(region.position_text[1:]) / 1920 if region.position_text.startswith("b")
             else tm.quarters_at_samples(region.position))
    start_q = region.start_quarters or 0.0
    length_q = region.length_quarters
    if length_q is None:
        length_q = tm.quarters_at_samples(region.end) - pos_q
    out = []
    for s, e, pitch, vel in read_smf(src.path):
        if e <= start_q or s >= start_q + length_q:
            continue
        s, e = max(s, start_q), min(e, start_q + length_q)
        a, b = pos_q + s - start_q, pos_q + e - start_q
        out.append(Note(pitch, vel, tm.samples_at_quarters(a), tm.samples_at_quarters(b), a, b))
    return out


def track_notes(session: Session, track: Track) -> list[Note]:
    """Notes the track's active playlist plays (muted regions left out)."""
    notes: list[Note] = []
    for r in session.regions_of(track):
        if r.type == "midi" and not r.muted:
            notes += region_notes(session, r)
    return sorted(notes, key=lambda n: (n.start, n.pitch))
