"""Plain dataclasses for an Ardour session as the bridge sees it.

Every time value is kept in samples at the session rate (what playback and analysis need)
next to the text the file used (so a writer or a debugger can see the original encoding).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.ardour.tempo import TempoMap
from bridge.errors import MissingSource, UnknownTrack, UnsafePath

DEFAULT_FADE_SAMPLES = 64  # Ardour's default region fade (§8.2)


@dataclass(slots=True)
class Source:
    id: str
    name: str
    type: str  # "audio" or "midi"
    channel: int = 0
    origin: str = ""
    gain: float = 1.0
    path: Path | None = None  # resolved file, None when not found
    ambiguous: list[Path] = field(default_factory=list)  # more than one match in the search path
    nested: bool = False  # a compound region's playlist source (§7.3)
    outside: bool = False  # its file would be outside the session roots: never read

    @property
    def missing(self) -> bool:
        return self.path is None and not self.nested


@dataclass(frozen=True, slots=True)
class Curve:
    """A gain curve (envelope, fade) as (sample offset, linear gain) points.

    ``default`` means the file said ``default="yes"``: Ardour builds the curve itself
    (flat 1.0 for an envelope; a 64-sample fade with the user's default shape)."""

    points: tuple[tuple[int, float], ...] = ()
    default: bool = True
    interpolation: str = ""  # the list's interpolation-style (Curved, Exponential, Linear, ...)

    @property
    def length(self) -> int:
        return self.points[-1][0] if self.points else 0


DEFAULT_CURVE = Curve()


@dataclass(frozen=True, slots=True)
class Fade:
    curve: Curve = DEFAULT_CURVE
    inverse: Curve | None = None
    active: bool = True

    @property
    def length(self) -> int:
        return DEFAULT_FADE_SAMPLES if self.curve.default else self.curve.length


# Shared by every region whose fades are Ardour's defaults (most of them): no object per region.
DEFAULT_FADE = Fade()
INACTIVE_DEFAULT_FADE = Fade(active=False)


@dataclass(slots=True)
class Region:
    id: str
    name: str
    type: str  # "audio" or "midi"
    position: int  # samples on the timeline
    start: int  # samples into the source (for MIDI: Ardour's conversion of the beat offset)
    length: int  # samples
    position_text: str  # the file's own encoding
    start_text: str
    length_text: str
    source_ids: list[str] = field(default_factory=list)
    channels: int = 1
    scale_amplitude: float = 1.0
    envelope_active: bool = False
    envelope: Curve = DEFAULT_CURVE
    fade_in: Fade = DEFAULT_FADE
    fade_out: Fade = DEFAULT_FADE
    muted: bool = False
    opaque: bool = True
    layering_index: int = 0
    layer: int = 0  # computed like Ardour's Playlist::relayer (§9.2); higher plays on top
    start_quarters: float | None = None  # MIDI: beat offset into the source
    length_quarters: float | None = None

    @property
    def end(self) -> int:
        """One past the last sample."""
        return self.position + self.length


@dataclass(slots=True)
class Playlist:
    id: str
    name: str
    type: str
    orig_track_id: str = ""
    regions: list[Region] = field(default_factory=list)
    unused: bool = False  # stored in <UnusedPlaylists>


@dataclass(slots=True)
class Track:
    id: str
    name: str
    kind: str  # "audio" or "midi"
    order: int
    playlist_id: str
    role: str | None = None
    locked: bool = False
    role_guessed: bool = False  # the role comes from the name, not from <Extra><Resonant>
    active: bool = True
    muted: bool = False
    gain: float = 1.0
    trim: float = 1.0
    pan_azimuth: float = 0.5  # 0 left, 1 right
    n_inputs: int = 1
    n_outputs: int = 2
    hidden: bool = False


@dataclass(slots=True)
class Bus:
    id: str
    name: str
    n_inputs: int
    master: bool = False
    gain: float = 1.0  # fader times trim


@dataclass(slots=True)
class Fingerprint:
    """What the file looked like when it was read, to detect changes before writing."""

    sha256: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, data: bytes, st: os.stat_result) -> Fingerprint:
        return cls(hashlib.sha256(data).hexdigest(), st.st_size, st.st_mtime_ns)


@dataclass(slots=True)
class Marker:
    """A location marker (``IsMark``, also Ardour 8's arrangement sections) or range (``IsRangeMarker``)."""

    name: str
    start: int  # samples
    end: int
    flags: str


@dataclass(slots=True)
class Session:
    file: Path
    name: str
    version: int
    sample_rate: int
    tempo_map: TempoMap
    id_counter: int
    tracks: list[Track]
    busses: list[Bus]
    playlists: dict[str, Playlist]
    sources: dict[str, Source]
    session_range: tuple[int, int] | None
    interchange: Path  # interchange/<name>, existing or the one Ardour would create
    use_region_fades: bool = True
    program_version: str = ""
    markers: list[Marker] = field(default_factory=list)  # location markers and ranges, by position
    fingerprint: Fingerprint | None = None
    warnings: list[str] = field(default_factory=list)
    # The parsed XML and the bytes it came from, kept for the writer (bridge.ardour.writer).
    document: Any = field(default=None, repr=False, compare=False)

    @property
    def folder(self) -> Path:
        return self.file.parent

    @property
    def snapshot(self) -> str:
        return self.file.stem

    @property
    def master(self) -> Bus | None:
        return next((b for b in self.busses if b.master), None)

    @property
    def audio_dir(self) -> Path:
        return self.interchange / "audiofiles"

    def track(self, name_or_id: str) -> Track:
        for t in self.tracks:
            if t.name == name_or_id or t.id == name_or_id:
                return t
        names = ", ".join(repr(t.name) for t in self.tracks) or "none"
        raise UnknownTrack(f"no track named {name_or_id!r} in session {self.name!r} (tracks: {names})")

    def playlist_of(self, track: Track) -> Playlist | None:
        return self.playlists.get(track.playlist_id)

    def regions_of(self, track: Track) -> list[Region]:
        pl = self.playlist_of(track)
        return list(pl.regions) if pl else []

    def takes_of(self, track: Track) -> list[Playlist]:
        """Every playlist that belongs to the track, the active one included (Ardour's takes)."""
        takes = [p for p in self.playlists.values()
                 if p.orig_track_id == track.id or p.id == track.playlist_id]
        return sorted(takes, key=lambda p: int(p.id) if p.id.isdigit() else 0)  # oldest first

    def locked_tracks(self) -> list[Track]:
        return [t for t in self.tracks if t.locked]

    def missing_sources(self, tracks: list[Track] | None = None) -> list[Source]:
        """Sources that regions on the tracks' active playlists use but that are not on disk."""
        used: dict[str, Source] = {}
        for t in tracks if tracks is not None else self.tracks:
            for r in self.regions_of(t):
                for sid in r.source_ids:
                    src = self.sources.get(sid)
                    if src is not None and src.missing:
                        used[sid] = src
        return list(used.values())

    def require_sources(self, tracks: list[Track] | None = None) -> None:
        missing = self.missing_sources(tracks)
        outside = sorted({s.name for s in missing if s.outside})
        if outside:
            raise UnsafePath(
                f"session {self.name!r} uses audio/MIDI files outside the allowed session roots: {', '.join(outside)}."
                " The bridge reads nothing outside the roots: copy the files into the session (Ardour:"
                " Session > Clean-up, or import them again with 'copy files to session'), or add their folder"
                " to [sessions] roots")
        if missing:
            names = ", ".join(sorted({s.name for s in missing}))
            raise MissingSource(
                f"session {self.name!r} refers to audio/MIDI files that are not on disk: {names}"
                " (Ardour would play silence there; restore the files first)")

    def end_sample(self) -> int:
        """The end of the last region on any track, or of the session range."""
        end = self.session_range[1] if self.session_range else 0
        for t in self.tracks:
            for r in self.regions_of(t):
                end = max(end, r.end)
        return end

    def to_dict(self, regions: bool = True) -> dict[str, Any]:
        """Everything, as JSON-ready data; without ``regions`` each track gives only how many it has
        (what a summary needs: describing 90,000 regions one by one is most of the time spent)."""
        known: dict[str, dict[str, Any]] = {}  # a source is named by many regions: described once

        def source(sid: str) -> dict[str, Any]:
            d = known.get(sid)
            if d is None:
                d = known[sid] = self._source_dict(sid)
            return d

        def region(r: Region) -> dict[str, Any]:
            return {
                "id": r.id, "name": r.name, "type": r.type, "position": r.position, "start": r.start,
                "length": r.length, "encoding": {"position": r.position_text, "start": r.start_text,
                                                 "length": r.length_text},
                "bar": round(self.tempo_map.bar_at_samples(r.position), 3),
                "gain": r.scale_amplitude, "muted": r.muted, "opaque": r.opaque,
                "layering_index": r.layering_index, "layer": r.layer, "envelope_active": r.envelope_active,
                "fade_in": {"active": r.fade_in.active, "length": r.fade_in.length},
                "fade_out": {"active": r.fade_out.active, "length": r.fade_out.length},
                "sources": [source(s) for s in r.source_ids],
            }

        return {
            "name": self.name, "file": str(self.file), "version": self.version,
            "sample_rate": self.sample_rate, "program_version": self.program_version,
            "tempo_map": self.tempo_map.to_dict(),
            "session_range": list(self.session_range) if self.session_range else None,
            "length_bars": round(self.tempo_map.bar_at_samples(self.session_range[1]) - 1, 2)
            if self.session_range else 0.0,
            "master": {"id": self.master.id, "inputs": self.master.n_inputs} if self.master else None,
            "tracks": [
                {"id": t.id, "name": t.name, "kind": t.kind, "order": t.order, "role": t.role,
                 "role_guessed": t.role_guessed, "locked": t.locked, "active": t.active,
                 "muted": t.muted, "gain": t.gain, "inputs": t.n_inputs, "playlist": t.playlist_id,
                 "take": self.playlist_of(t).name if self.playlist_of(t) else None,
                 "takes": [p.name for p in self.takes_of(t)],
                 "bars": self._bars_of(t), "region_count": len(self.regions_of(t)),
                 **({"regions": [region(r) for r in self.regions_of(t)]} if regions else {})}
                for t in self.tracks
            ],
            "warnings": list(self.warnings),
        }

    def _bars_of(self, track: Track) -> list[int] | None:
        """First and last bar (inclusive) that the track's current take sounds in."""
        regions = [r for r in self.regions_of(track) if r.length > 0]
        if not regions:
            return None
        first, _ = self.tempo_map.bars_spanning(min(r.position for r in regions), min(r.end for r in regions))
        _, last = self.tempo_map.bars_spanning(max(r.position for r in regions), max(r.end for r in regions))
        return [first, last]

    def _source_dict(self, sid: str) -> dict[str, Any]:
        s = self.sources.get(sid)
        if s is None:
            return {"id": sid, "missing": True}
        return {"id": s.id, "name": s.name, "path": str(s.path) if s.path else None,
                "channel": s.channel, "gain": s.gain, "missing": s.missing, "outside_roots": s.outside}
