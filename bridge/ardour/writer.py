"""Writing to a session: new tracks, new takes, roles and locks, the session range.

Edits are made on a copy of the parsed tree, in the file's own version syntax, and nothing
touches the disk until ``commit()``, which checks again that Ardour does not have the session
open and that the file did not change, copies the audio in, keeps a backup and replaces the
file atomically. If anything fails, every file it created is removed again
(ardour-session-format.md §12; DESIGN.md invariant 1).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from bridge.ardour import leftovers, xmlparts
from bridge.ardour.audiofiles import AudioInfo, check_rate, inspect_audio, place_audio, unique_name
from bridge.ardour.files import atomic_write, backup, fsync_dir, session_lock, tmp_name
from bridge.ardour.model import Session
from bridge.ardour.names import check_track_name, file_stem_for, first_playlist_name, route_name, session_major
from bridge.ardour.safety import check_unchanged, check_writable
from bridge.errors import DuplicateName, InvalidInput, MalformedSession, UnknownTrack
from bridge.roles import ROLES

_ID_ATTRS = {"id", "audio-playlist", "midi-playlist", "orig-track-id", "original", "copy", "playlist"}


@dataclass(slots=True)
class Clip:
    """An audio file to play at ``position`` (samples) on the timeline."""

    file: Path
    position: int
    name: str | None = None
    file_stem: str | None = None  # the stem of the copy's file name (default: from the track or take)


@dataclass(slots=True)
class _Import:
    info: AudioInfo
    frames: int
    target: Path
    source_ids: list[str]


@dataclass(slots=True)
class WriteResult:
    file: Path
    backup: Path | None
    created: list[Path] = field(default_factory=list)
    track_ids: dict[str, str] = field(default_factory=dict)
    playlist_ids: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # asked-for track name -> the name Ardour will show


def next_take_name(track: str, taken: Collection[str]) -> str:
    """``Bass.1``, ``Bass.2``, ...: the first take name for ``track`` that no playlist has (Ardour's style)."""
    n = 1
    while f"{track}.{n}" in taken:
        n += 1
    return f"{track}.{n}"


class SessionEditor:
    """Stages edits to one session; ``commit()`` writes them all or nothing."""

    def __init__(self, session: Session, *, resample: bool = False, allow_missing_sources: bool = False):
        if session.document is None:
            raise InvalidInput("this session was not read from a file")
        self.session = session
        self.resample = resample
        self.allow_missing_sources = allow_missing_sources
        self.root: etree._Element = session.document.tree  # a fresh parse: ours to change
        self.v7 = session.version >= 7000
        self.major = session_major(session)  # the Ardour whose naming rules apply
        self._first_id = self._next_id = max(session.id_counter, _max_id(self.root)) + 1
        self._imports: list[_Import] = []
        self._files: list[tuple[Path, bytes]] = []  # other files the commit places (MIDI, plugin state)
        self._planned: list[Path] = []  # every file staged, audio or not, in the order it was staged
        self._taken_names = _taken_audio_names(session)
        self._end = 0
        self._roles_written: list[str] = []  # route ids: their .resonant/tracks.json entries are folded in
        self.result = WriteResult(session.file, None)

    # -- ids and sections ----------------------------------------------------------------------

    def new_id(self) -> str:
        i = self._next_id
        self._next_id += 1
        return str(i)

    def _section(self, tag: str) -> etree._Element:
        el = self.root.find(tag)
        if el is None:
            raise MalformedSession(f"the session has no <{tag}>")
        return el

    def _route(self, track_name: str) -> etree._Element:
        track = self.session.track(track_name)
        for r in self._section("Routes"):
            if r.tag == "Route" and r.get("id") == track.id:
                return r
        raise UnknownTrack(f"track {track_name!r} is not in the file any more")

    # -- audio ---------------------------------------------------------------------------------

    def _stage_clip(self, clip: Clip, stem: str) -> _Import:
        if not isinstance(clip.position, int) or clip.position < 0:
            raise InvalidInput(f"position {clip.position!r} must be a sample count >= 0")
        info = inspect_audio(clip.file)
        frames = check_rate(info, self.session.sample_rate, self.resample)
        name = unique_name(file_stem_for(clip.file_stem) if clip.file_stem else stem, self._taken_names)
        self._taken_names.add(name)
        ids = [self.new_id() for _ in range(info.channels)]
        imp = _Import(info, frames, self.session.audio_dir / name, ids)
        self._imports.append(imp)
        self._planned.append(imp.target)
        sources = self._section("Sources")
        for ch, sid in enumerate(ids):
            xmlparts.append(sources, xmlparts.source(sid, name, ch))
        regions = self._section("Regions")
        xmlparts.append(regions, xmlparts.whole_file_region(self, self.new_id(), name, ids, frames))
        self._end = max(self._end, clip.position + frames)
        return imp

    def _playlist(self, name: str, track_id: str, clips: list[Clip], stem: str
                  ) -> tuple[etree._Element, int]:
        """A playlist playing ``clips``, and the most channels any of them has."""
        pl = xmlparts.playlist(self.new_id(), name, track_id)
        channels = 1
        for i, clip in enumerate(sorted(clips, key=lambda c: c.position)):
            imp = self._stage_clip(clip, stem)
            channels = max(channels, imp.info.channels)
            region_name = clip.name or f"{imp.target.stem}.1"
            pl.append(xmlparts.playlist_region(self, self.new_id(), region_name, imp.source_ids,
                                               clip.position, imp.frames, layer=i))
        return pl, channels

    # -- public edits --------------------------------------------------------------------------

    def add_audio_track(self, name: str, clips: list[Clip], role: str | None = None,
                        locked: bool = False) -> str:
        """A new track; its name as Ardour will show it (8 and 9 turn '"' into '_') is in ``result.names``."""
        check_track_name(name)
        asked, name = name, route_name(name, self.major)
        routes = self._section("Routes")
        existing = {r.get("name") for r in routes if r.tag == "Route"}
        if name in existing or name.lower() in {(n or "").lower() for n in existing}:
            raise DuplicateName(f"the session already has a track or bus named {name!r}")
        if role is not None and role not in ROLES:
            raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}")
        if not clips:
            raise InvalidInput("a new track needs at least one audio file")
        route_id = self.new_id()
        pl, channels = self._playlist(first_playlist_name(asked, self.major), route_id, clips, file_stem_for(name))
        xmlparts.append(self._section("Playlists"), pl)
        master = self.session.master
        outs = master.n_inputs if master and master.n_inputs else 2
        master_name = master.name if master else "Master"
        order = 1 + max((int(p.get("order", "0")) for p in routes.iter("PresentationInfo")), default=0)
        xmlparts.append(routes, xmlparts.route(self, route_id, name, pl.get("id"), channels, outs,
                                               master_name, order, role, locked))
        self.result.track_ids[name] = route_id
        self.result.playlist_ids[name] = pl.get("id")
        self.result.names[asked] = name
        return route_id

    def add_midi_track(self, name: str, smf: Path, position: int, soundfont: Path, role: str | None = None,
                       locked: bool = False, end: int | None = None, file_stem: str | None = None,
                       level_db: float = 0.0, synth: str = "fluidsynth") -> str:
        """A MIDI track playing the Standard MIDI File ``smf`` from ``position`` (samples) at least to
        ``end``, through ACE Fluid Synth with ``soundfont`` (bridge/ardour/miditrack.py): the part as
        notes, editable in Ardour."""
        from bridge.ardour import miditrack
        from bridge.roles import COLOURS

        check_track_name(name)
        if not self.v7:
            raise InvalidInput("MIDI tracks are delivered into sessions of Ardour 7 or newer")
        if role is not None and role not in ROLES:
            raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}")
        asked, name = name, route_name(name, self.major)
        routes = self._section("Routes")
        existing = {(r.get("name") or "").lower() for r in routes if r.tag == "Route"}
        if name.lower() in existing:
            raise DuplicateName(f"the session already has a track or bus named {name!r}")
        pl = self._midi_playlist(first_playlist_name(asked, self.major), file_stem or file_stem_for(name), smf,
                                 position, end)
        master = self.session.master
        order = 1 + max((int(p.get("order", "0")) for p in routes.iter("PresentationInfo")), default=0)
        route, synth_id, state_dir = miditrack.clone(self.major, self.new_id, name, pl.get("id"),
                                                     master.name if master else "Master", order,
                                                     COLOURS.get(role or "", 0), level_db, synth)
        pl.set("orig-track-id", route.get("id"))
        route.set("version", str(self.session.version))
        xmlparts.append(routes, route)
        if synth_id is not None:
            for fname, body in miditrack.synth_state(soundfont).items():
                self._stage_file(self.session.folder / "plugins" / synth_id / state_dir / fname, body)
        self.result.track_ids[name] = route.get("id")
        self.result.playlist_ids[name] = pl.get("id")
        self.result.names[asked] = name
        if role is not None or locked:
            extra = route.find("Extra")
            if extra is None:
                extra = etree.SubElement(route, "Extra")
            etree.SubElement(extra, "Resonant", {"locked": "1" if locked else "0",
                                                 **({"role": role} if role is not None else {})})
        return route.get("id")

    def add_midi_take(self, track_name: str, smf: Path, position: int, end: int | None = None,
                      take_name: str | None = None, file_stem: str | None = None) -> str:
        """A new playlist on an existing MIDI track playing ``smf`` from ``position``, made active; the
        old take stays in the session (its playlist, source and notes untouched)."""
        route = self._route(track_name)
        track = self.session.track(track_name)
        if track.kind != "midi":
            raise InvalidInput(f"track {track_name!r} is an audio track; MIDI takes go on MIDI tracks")
        names = {p.get("name") for p in self.root.iter("Playlist")}
        if take_name is None:
            take_name = next_take_name(track.name, names)
        elif take_name in names:
            raise DuplicateName(f"the session already has a playlist named {take_name!r}")
        pl = self._midi_playlist(take_name, file_stem or file_stem_for(take_name), smf, position, end)
        pl.set("orig-track-id", track.id)
        route.set("midi-playlist", pl.get("id"))
        self._sort_playlists()
        self.result.playlist_ids[track.name] = pl.get("id")
        return pl.get("id")

    def _midi_playlist(self, name: str, stem: str, smf: Path, position: int, end: int | None) -> etree._Element:
        """The SMF staged for ``interchange/<name>/midifiles``, its source and a playlist playing it."""
        from bridge.ardour import miditrack

        data = miditrack.smf_bytes(smf)
        tm = self.session.tempo_map
        fname = unique_name(stem, self._taken_names, ".mid")
        self._taken_names.add(fname)
        target = self.session.interchange / "midifiles" / fname
        start_q = tm.quarters_at_samples(position)
        end_q = tm.quarters_at_samples(end) if end is not None else None
        source, pl = miditrack.playlist(self.new_id, name, target.name, data, start_q, end_q)
        xmlparts.append(self._section("Sources"), source)
        xmlparts.append(self._section("Playlists"), pl)
        self._stage_file(target, data)
        length = pl.find("Region").get("length")
        ticks = int(length.split("@")[0][1:])
        self._end = max(self._end, tm.samples_at_quarters(start_q + ticks / miditrack.TICKS))
        return pl

    def _stage_file(self, path: Path, body: bytes) -> None:
        self._files.append((path, body))
        self._planned.append(path)

    def add_take(self, track_name: str, clips: list[Clip], take_name: str | None = None) -> str:
        """A new playlist on an existing track, made active; the old one stays in the session."""
        route = self._route(track_name)
        track = self.session.track(track_name)
        if track.kind != "audio":
            raise InvalidInput(f"track {track_name!r} is a MIDI track; audio takes go on audio tracks")
        if not clips:
            raise InvalidInput("a take needs at least one audio file")
        names = {p.get("name") for p in self.root.iter("Playlist")}
        if take_name is None:
            take_name = next_take_name(track.name, names)
        else:
            check_track_name(take_name)
            if take_name in names:
                raise DuplicateName(f"the session already has a playlist named {take_name!r}")
        pl, _ = self._playlist(take_name, track.id, clips, file_stem_for(take_name))
        xmlparts.append(self._section("Playlists"), pl)
        route.set("audio-playlist", pl.get("id"))
        self._sort_playlists()
        self.result.playlist_ids[track.name] = pl.get("id")
        return pl.get("id")

    def add_regions(self, track_name: str, clips: list[Clip]) -> str:
        """Add clips to the playlist the track plays now (for a fresh track from a template)."""
        track = self.session.track(track_name)
        if track.kind != "audio":
            raise InvalidInput(f"track {track_name!r} is a MIDI track; audio goes on audio tracks")
        pl = next((p for p in self.root.iter("Playlist") if p.get("id") == track.playlist_id), None)
        if pl is None:
            raise MalformedSession(f"track {track_name!r} plays playlist {track.playlist_id}, which is missing")
        layer = 1 + max((int(r.get("layering-index", "0")) for r in pl if r.tag == "Region"), default=-1)
        for i, clip in enumerate(sorted(clips, key=lambda c: c.position)):
            imp = self._stage_clip(clip, file_stem_for(track.name))
            xmlparts.append(pl, xmlparts.playlist_region(self, self.new_id(), clip.name or f"{imp.target.stem}.1",
                                                         imp.source_ids, clip.position, imp.frames, layer + i))
        return pl.get("id")

    def set_track_gain(self, track_name: str, gain: float) -> None:
        """The track fader (amp gaincontrol), linear; Ardour's fader range is 0..2."""
        if not 0.0 <= gain <= 2.0:
            raise InvalidInput(f"gain {gain} is outside Ardour's fader range 0..2")
        route = self._route(track_name)
        for proc in route.iter("Processor"):
            if proc.get("type") == "amp":
                for c in proc:
                    if c.tag == "Controllable" and c.get("name") == "gaincontrol":
                        c.set("value", repr(float(gain)))
                        return
        raise MalformedSession(f"track {track_name!r} has no fader (amp) to set")

    def set_constant_tempo(self, bpm: float) -> None:
        """Set the tempo of a session that has one constant tempo and nothing placed yet (a new
        session from a template); anything else keeps its map."""
        if not 20 <= bpm <= 400:
            raise InvalidInput(f"tempo {bpm} BPM is outside 20-400")
        tm = self.root.find("TempoMap")
        tempos = [t for t in tm.iter("Tempo")]
        if len(tempos) != 1 or any(t.playlist_id and self.session.regions_of(t) for t in self.session.tracks):
            raise InvalidInput("only a session with one tempo and no regions can have its tempo replaced")
        t = tempos[0]
        if self.v7:
            t.set("npm", repr(float(bpm)))
            t.set("enpm", repr(float(bpm)))
        else:
            t.set("beats-per-minute", repr(float(bpm)))
            t.set("end-beats-per-minute", repr(float(bpm)))
        from bridge.ardour.tempo import read_tempo_map

        self.session.tempo_map = read_tempo_map(tm, self.session.version, self.session.sample_rate)

    def use_take(self, track_name: str, playlist: str) -> str:
        """Make an existing playlist of the track (by name or id) the one it plays."""
        route = self._route(track_name)
        track = self.session.track(track_name)
        for p in self.session.takes_of(track):
            if playlist in (p.name, p.id):
                route.set("audio-playlist" if track.kind == "audio" else "midi-playlist", p.id)
                self._sort_playlists()
                return p.id
        takes = ", ".join(p.name for p in self.session.takes_of(track))
        raise InvalidInput(f"track {track.name!r} has no take {playlist!r} (takes: {takes})")

    def _sort_playlists(self) -> None:
        """Keep played playlists in <Playlists> and the others in <UnusedPlaylists>, as Ardour saves
        them; Ardour warns about an unused playlist listed as used."""
        used = {r.get(a) for r in self._section("Routes") if r.tag == "Route"
                for a in ("audio-playlist", "midi-playlist") if r.get(a)}
        playlists = self._section("Playlists")
        unused = self.root.find("UnusedPlaylists")
        if unused is None:
            unused = etree.Element("UnusedPlaylists")
            playlists.addnext(unused)
            unused.tail = playlists.tail
        for pl in [p for p in playlists if p.tag == "Playlist" and p.get("id") not in used]:
            playlists.remove(pl)
            xmlparts.append(unused, pl)
        for pl in [p for p in unused if p.tag == "Playlist" and p.get("id") in used]:
            unused.remove(pl)
            xmlparts.append(playlists, pl)

    def set_role(self, track_name: str, role: str | None = None, locked: bool | None = None,
                 clear: bool = False) -> None:
        """Set (or with ``clear`` remove) the track's ``<Extra><Resonant role locked/>``.

        What is not given keeps the track's current value as the bridge reads it, including a role or
        lock set while Ardour had the session open (``overlay``): the XML takes it over, and the
        overlay entry goes once the commit succeeds."""
        route = self._route(track_name)
        if role is not None and role not in ROLES:
            raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}")
        track = self.session.track(track_name)
        self._roles_written.append(track.id)
        if role is None and track.role is not None and not track.role_guessed:
            role = track.role
        if locked is None:
            locked = track.locked
        extra = route.find("Extra")
        res = extra.find("Resonant") if extra is not None else None
        if clear:
            if res is not None:
                extra.remove(res)
                if len(extra) == 0 and not (extra.text or "").strip():
                    route.remove(extra)
            return
        if extra is None:
            extra = etree.SubElement(route, "Extra")
        if res is None:
            res = etree.SubElement(extra, "Resonant")
        if role is not None:
            res.set("role", role)
        if locked is not None:
            res.set("locked", "1" if locked else "0")

    @property
    def planned_files(self) -> list[Path]:
        """Where ``commit()`` will place the files staged so far (audio, MIDI, plugin state), in the order
        they were staged: the files an edit added are the list's tail after it."""
        return list(self._planned)

    def set_control_protocol(self, name: str, active: bool) -> None:
        """Switch one of Ardour's control surfaces (e.g. "Open Sound Control (OSC)") on or off.

        Switched on, a surface gets the state Ardour itself saves for it where the session has none:
        Ardour 9 ignores a bare ``<Protocol name=... active="1"/>`` (7 and 8 accept it)."""
        protocols = self.root.find("ControlProtocols")
        if protocols is None:
            protocols = etree.SubElement(self.root, "ControlProtocols")
        node = next((p for p in protocols if p.tag == "Protocol" and p.get("name") == name), None)
        if node is None:
            node = etree.Element("Protocol", {"name": name})
            xmlparts.append(protocols, node)
        if active:
            for key, value in xmlparts.PROTOCOL_DEFAULTS.get(name, {}).items():
                if node.get(key) is None:
                    node.set(key, value)
        node.set("active", "1" if active else "0")

    # -- writing -------------------------------------------------------------------------------

    def _finish_tree(self) -> None:
        if self._end:
            xmlparts.extend_session_range(self, self._section("Locations"), self._end)
        if self._next_id != self._first_id:
            # Above every id we used, so Ardour never hands one of them out again (§5).
            self.root.set("id-counter", str(self._next_id))

    def serialize(self) -> bytes:
        self._finish_tree()
        # Ardour's own declaration, then the tree: an untouched Ardour file comes out byte-identical.
        body = etree.tostring(self.root.getroottree(), encoding="UTF-8", xml_declaration=False)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"

    def check_commit(self, unchanged: bool = False) -> None:
        """What ``commit()`` refuses before it takes the lock, checked without writing anything
        (``unchanged``: also that nobody wrote the file since it was read)."""
        if not self.allow_missing_sources:
            self.session.require_sources()
        check_writable(self.session, unchanged)

    def commit(self) -> WriteResult:
        s = self.session
        self.check_commit(unchanged=True)
        with session_lock(s.folder):
            result = self._commit_locked()
        if self._roles_written:
            from bridge.ardour.live import overlay

            overlay.drop(s.folder, self._roles_written)  # the XML holds them now (see set_role)
        return result

    def _commit_locked(self) -> WriteResult:
        s = self.session
        leftovers.clean(s.folder)  # what a killed bridge process left here, removed before we add to it
        check_unchanged(s)
        data = self.serialize()
        # Our own output must read back before it replaces the user's file.
        from bridge.ardour.reader import parse_session

        parse_session(data, s.file)
        created: list[Path] = []
        tmp: str | None = None
        new_dirs = [d for d in (s.folder / "interchange", s.interchange, s.audio_dir)
                    if self._imports and not os.path.lexists(d)]
        for path, _ in self._files:  # midifiles/, plugins/<id>/<state>/: made here, removed again on failure
            for d in reversed(path.parents):
                if d.is_relative_to(s.folder) and d != s.folder and d not in new_dirs and not os.path.lexists(d):
                    new_dirs.append(d)
        intent = leftovers.Intent(s.folder, self.planned_files) if self._planned else None
        folder_fd = os.open(s.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for imp in self._imports:
                place_audio(imp.info, imp.target, s.sample_rate, within=s.folder)
                created.append(imp.target)
            for path, body in self._files:
                if os.path.lexists(path):
                    raise InvalidInput(f"{path} already exists; refusing to overwrite it")
                atomic_write(path, body, within=s.folder, mode=0o644)
                created.append(path)
            tmp = self._write_tmp(folder_fd, data)
            self.result.backup = backup(s, s.document.data)
            # the last moment before the rename: Ardour may have opened the session, left a .pending,
            # or saved it while the audio was copied
            check_writable(s)
            os.replace(tmp, s.file.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            tmp = None
        except BaseException:
            if tmp is not None:
                os.unlink(tmp, dir_fd=folder_fd)
            for p in created:
                p.unlink(missing_ok=True)
            for d in reversed(new_dirs):
                try:
                    d.rmdir()
                except OSError:
                    pass
            raise
        finally:
            os.close(folder_fd)
            if intent is not None:
                intent.close()
        fsync_dir(s.folder)
        self.result.created = created
        return self.result

    def _write_tmp(self, folder_fd: int, data: bytes) -> str:
        """The new session file beside the old one (same mode), not yet in its place."""
        name = tmp_name(self.session.file.name)
        mode = self.session.file.stat().st_mode & 0o777
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode,
                     dir_fd=folder_fd)
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(name, dir_fd=folder_fd)
            raise
        os.close(fd)
        return name


def _max_id(root: etree._Element) -> int:
    """The largest ID anywhere in the file: every object shares one ID space (§5)."""
    best = 0
    for el in root.iter():
        for k, v in el.attrib.items():
            if (k in _ID_ATTRS or k.endswith("-id") or k.startswith(("source-", "master-source-"))) \
                    and v.isdigit():
                best = max(best, int(v))
    return best


def _taken_audio_names(session: Session) -> set[str]:
    """Basenames present in any audio search folder or named by any source (§7.1, pitfall 5)."""
    taken = {s.name for s in session.sources.values()}
    dirs = {session.audio_dir, session.folder / "sounds"}
    dirs |= {s.path.parent for s in session.sources.values() if s.path is not None}
    for d in dirs:
        try:
            taken.update(os.listdir(d))
        except OSError:
            pass
    return taken
