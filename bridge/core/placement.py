"""Where each finished stem goes in a closed session, as audio, as MIDI, or both (``deliver``).

A new part becomes a new track per kind: ``Bass`` (audio), ``Bass`` (MIDI, when only MIDI is asked
for) or ``Bass`` and ``Bass MIDI`` (both). A regeneration makes a new take on the track of each kind
asked for: the track itself when it is of that kind, else its partner (``Bass`` <-> ``Bass MIDI``, the
pair ``both`` makes), a new partner track when there is none. The take names and file names carry the
job id: the take's recipe is found again by it (``bridge.ardour.takes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import soundfile as sf

from bridge.ardour import Clip, SessionEditor
from bridge.ardour.model import Session, Track
from bridge.ardour.names import first_playlist_name
from bridge.ardour.writer import next_take_name
from bridge.core.config import DELIVER
from bridge.errors import InvalidInput, UnknownTrack

MIDI_SUFFIX = " MIDI"


def kinds(deliver: str) -> list[str]:
    if deliver not in DELIVER:
        raise InvalidInput(f"deliver must be one of {', '.join(DELIVER)}, not {deliver!r}")
    return ["audio", "midi"] if deliver == "both" else [deliver]


def unique_track_name(session: Session, name: str) -> str:
    taken = {t.name.lower() for t in session.tracks} | {b.name.lower() for b in session.busses}
    n, out = 2, name
    while out.lower() in taken:
        out, n = f"{name} {n}", n + 1
    return out


def partner(session: Session, track: Track) -> Track | None:
    """The track of the other kind that carries the same part: ``Bass`` and ``Bass MIDI``."""
    if track.kind == "audio":
        want, kind = track.name + MIDI_SUFFIX, "midi"
    elif track.name.endswith(MIDI_SUFFIX):
        want, kind = track.name[: -len(MIDI_SUFFIX)], "audio"
    else:
        return None
    try:
        other = session.track(want)
    except UnknownTrack:
        return None
    return other if other.kind == kind and other.role == track.role else None


def soundfont_of(stem: dict) -> Path:
    """The SoundFont the stem was rendered with (the MIDI track's synth loads the same one)."""
    sf2 = (stem.get("metadata") or {}).get("soundfont")
    if sf2:
        return Path(sf2)
    from bridge.audio.synth import soundfont_path

    return soundfont_path()


@dataclass
class Placement:
    """What one delivery put where: the tracks (as the job reports them) and, per stem, the names of
    the files its take plays (the recipe index keys them)."""

    tracks: list[dict[str, Any]] = field(default_factory=list)
    sources: list[list[str]] = field(default_factory=list)


def place(ed: SessionEditor, job: Any, stems: list[dict], extra: dict[str, Any]) -> Placement:
    """Stage every stem into ``ed`` (nothing is written before ``ed.commit()``)."""
    s = ed.session
    deliver = (job.request or {}).get("deliver") or ("midi" if job.kind == "regenerate"
                                                       and s.track(job.track).kind == "midi" else "audio")
    out = Placement()
    taken = {p.name for p in s.playlists.values()}

    def where(st: dict) -> dict:  # the same fields as a delivery through Ardour's hook
        start = int(st["start"])
        first, last = s.tempo_map.bars_spanning(start, _end(st))
        return {"role": st["role"], "position": start, "bars": [first, last], **extra}

    for st, name in zip(stems, _names(s, job, stems), strict=True):
        files: list[str] = []
        for kind in kinds(deliver):
            before = len(ed.planned_files)
            if kind == "midi" and not st.get("mid"):
                raise InvalidInput(f"the engine wrote no notes for {st['role']}: deliver audio")
            target, new = _target(s, job, name, kind, deliver)
            if new:
                _new_track(ed, target, kind, st, job)
                entry = {"track": ed.result.names.get(target, target), "take": first_playlist_name(target, ed.major)}
            else:
                take = next_take_name(target, taken)
                taken.add(take)
                stem = f"{take}-{job.id[:8]}"
                if kind == "audio":
                    entry = {"track": target, "take": take,
                             "playlist": ed.add_take(target, [Clip(Path(st["wav"]), st["start"], file_stem=stem)])}
                else:
                    entry = {"track": target, "take": take,
                             "playlist": ed.add_midi_take(target, Path(st["mid"]), int(st["start"]), _end(st), take,
                                                          file_stem=stem)}
            files += [p.name for p in ed.planned_files[before:] if p.suffix.lower() in (".wav", ".mid")]
            out.tracks.append({**entry, **({"kind": "midi"} if kind == "midi" else {}), **where(st)})
        out.sources.append(files)
    return out


def _end(st: dict) -> int:
    frames = st.get("frames")
    return int(st["start"]) + int(frames if frames is not None else sf.info(st["wav"]).frames)


def _names(s: Session, job: Any, stems: list[dict]) -> list[str]:
    if job.kind == "regenerate":
        return [s.track(job.track).name]
    from bridge.core.delivery import new_track_names

    return new_track_names(s, [st["role"] for st in stems])


def _target(s: Session, job: Any, name: str, kind: str, deliver: str) -> tuple[str, bool]:
    """The track a stem of ``kind`` goes to, and whether it is a new one."""
    if job.kind != "regenerate":
        return (unique_track_name(s, name + MIDI_SUFFIX) if kind == "midi" and deliver == "both" else name), True
    track = s.track(name)
    if track.kind == kind:
        return track.name, False
    other = partner(s, track)
    if other is not None:
        return other.name, False
    base = track.name + MIDI_SUFFIX if kind == "midi" else track.name[: -len(MIDI_SUFFIX)]
    return unique_track_name(s, base), True


def _new_track(ed: SessionEditor, name: str, kind: str, st: dict, job: Any) -> None:
    """A new track of ``kind`` playing the stem."""
    stem = f"{name}-{job.id[:8]}"
    if kind == "audio":
        ed.add_audio_track(name, [Clip(Path(st["wav"]), st["start"], file_stem=stem)], role=st["role"])
    else:
        ed.add_midi_track(name, Path(st["mid"]), int(st["start"]), soundfont_of(st), role=st["role"], end=_end(st),
                          file_stem=stem)
