"""Where each finished stem goes, as audio, as MIDI, or both (``deliver``): staged into a closed
session's XML (``place``), or planned as the drops Ardour's hook makes in an open one (``plan_drops``).

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

from bridge.ardour import Clip, SessionEditor, miditrack
from bridge.ardour.live import inbox
from bridge.ardour.model import Session
from bridge.ardour.names import file_stem_for, first_playlist_name, session_major
from bridge.ardour.partners import MIDI_SUFFIX, partner
from bridge.ardour.writer import next_take_name
from bridge.core.config import DELIVER
from bridge.errors import InvalidInput
from bridge.roles import COLOURS, TRACK_NAMES


def _taken_names(session: Session) -> set[str]:
    return {t.name.lower() for t in session.tracks} | {b.name.lower() for b in session.busses}


def _free_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base 2``, ``base 3``... : the first that no track or bus has (case aside)."""
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base} {n}"
    return name


def new_track_names(session: Session, roles: list[str]) -> list[str]:
    """Track names for new stems: ``Bass``, or ``Bass 2`` when the session has a Bass already."""
    taken = _taken_names(session)
    out = []
    for role in roles:
        out.append(_free_name(TRACK_NAMES[role], taken))
        taken.add(out[-1].lower())
    return out


def kinds(deliver: str) -> list[str]:
    if deliver not in DELIVER:
        raise InvalidInput(f"deliver must be one of {', '.join(DELIVER)}, not {deliver!r}")
    return ["audio", "midi"] if deliver == "both" else [deliver]


def unique_track_name(session: Session, name: str) -> str:
    return _free_name(name, _taken_names(session))


def soundfont_of(stem: dict) -> Path:
    """The SoundFont the stem was rendered with (the MIDI track's synth loads the same one)."""
    sf2 = (stem.get("metadata") or {}).get("soundfont")
    if sf2:
        return Path(sf2)
    from bridge.audio.synth import soundfont_path

    return soundfont_path()


def synth_level(stem: dict) -> float:
    """The gain the stem's render got (the MIDI track's synth plays at it), 0 when unknown."""
    level = (stem.get("metadata") or {}).get("synth_level_db")
    return float(level) if isinstance(level, int | float) else 0.0


@dataclass
class Placement:
    """What one delivery put where: the tracks (as the job reports them) and, per stem, the names of
    the files its take plays (the recipe index keys them)."""

    tracks: list[dict[str, Any]] = field(default_factory=list)
    sources: list[list[str]] = field(default_factory=list)


def place(ed: SessionEditor, job: Any, stems: list[dict], extra: dict[str, Any]) -> Placement:
    """Stage every stem into ``ed`` (nothing is written before ``ed.commit()``)."""
    s = ed.session
    deliver = _deliver(s, job)
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


def _deliver(s: Session, job: Any) -> str:
    return (job.request or {}).get("deliver") or ("midi" if job.kind == "regenerate"
                                                  and s.track(job.track).kind == "midi" else "audio")


@dataclass
class Drops:
    """An open session's delivery as the hook takes it: the drops, the file each one imports, and more
    files for them (a new MIDI track's route template and its synth's state) by path in the job's folder."""

    drops: list[inbox.Drop] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    extra: dict[str, bytes] = field(default_factory=dict)
    stem_of: list[int] = field(default_factory=list)  # each drop's stem (both: two drops a stem)


def plan_drops(s: Session, job: Any, stems: list[dict]) -> Drops:
    """What the hook is asked to make: per stem and kind, a new track or a new take, as in ``place``."""
    tm = s.tempo_map
    major = session_major(s)
    taken = {p.name for p in s.playlists.values()}
    folder = inbox.drop_folder(s.folder, job.id)
    out = Drops()
    ids = iter(range(1_000_000_000, 2_000_000_000))  # the template's own ids: Ardour gives the track new ones
    deliver = _deliver(s, job)
    for n, (st, name) in enumerate(zip(stems, _names(s, job, stems), strict=True)):
        info = sf.info(st["wav"])
        first_bar, last_bar = tm.bars_spanning(int(st["start"]), int(st["start"]) + info.frames)
        for kind in kinds(deliver):
            if kind == "midi" and not st.get("mid"):
                raise InvalidInput(f"the engine wrote no notes for {st['role']}: deliver audio")
            target, new = _target(s, job, name, kind, deliver)
            take = first_playlist_name(target, major) if new else next_take_name(target, taken)
            taken.add(take)
            drop = inbox.Drop(track=target, role=st["role"], file="", position=int(st["start"]),
                              first_bar=first_bar, last_bar=last_bar, take=take, new_track=new,
                              channels=info.channels if kind == "audio" else 1, frames=info.frames,
                              color=COLOURS.get(st["role"], 0) if new else 0, kind=kind)
            if kind == "midi" and new:
                master = s.master
                base = f"{file_stem_for(target)}-{len(out.drops) + 1}"
                xml, state = miditrack.route_template(major, target, master.name if master else "Master",
                                                      COLOURS.get(st["role"], 0), soundfont_of(st), folder / base,
                                                      s.version, lambda: str(next(ids)), synth_level(st),
                                                      (job.request or {}).get("midi_synth") or "fluidsynth")
                out.extra[f"{base}.template"] = xml
                out.extra.update({f"{base}/{rel}": body for rel, body in state.items()})
                drop.template = str(folder / f"{base}.template")
            out.drops.append(drop)
            out.stem_of.append(n)
            out.files.append(Path(st["mid"] if kind == "midi" else st["wav"]))
    return out


def _end(st: dict) -> int:
    frames = st.get("frames")
    return int(st["start"]) + int(frames if frames is not None else sf.info(st["wav"]).frames)


def _names(s: Session, job: Any, stems: list[dict]) -> list[str]:
    if job.kind == "regenerate":
        return [s.track(job.track).name]
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
                          file_stem=stem, level_db=synth_level(st), synth=(job.request or {}).get("midi_synth")
                          or "fluidsynth")
