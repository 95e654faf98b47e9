"""Reading a .ardour file (versions 6000-7003) into the model (ardour-session-format.md §13)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from bridge.ardour.layers import assign_layers
from bridge.ardour.live import overlay
from bridge.ardour.model import (
    DEFAULT_CURVE,
    DEFAULT_FADE,
    INACTIVE_DEFAULT_FADE,
    Bus,
    Curve,
    Fade,
    Fingerprint,
    Marker,
    Playlist,
    Region,
    Session,
    Source,
    Track,
)
from bridge.ardour.roles import guess_role
from bridge.ardour.tempo import TempoMap, read_tempo_map
from bridge.ardour.timeline import TICKS_PER_BEAT, TimePos, parse_timecnt, parse_timepos
from bridge.errors import (
    BridgeError,
    LimitExceeded,
    MalformedSession,
    SessionNotFound,
    TaintedInterchange,
    UnsupportedVersion,
)

MIN_VERSION, MAX_VERSION = 6000, 7003
REQUIRED_SECTIONS = ("Sources", "Regions", "Locations", "Routes", "Playlists", "TempoMap")
MAX_SESSION_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """How much of a session the bridge reads at all ([limits] regions / tracks in the config)."""

    regions: int = 200_000
    tracks: int = 1000


@dataclass(slots=True)
class SessionDocument:
    """The exact bytes of the session file. The tree is parsed again for whoever edits it (a fresh
    copy each time): the reader drops its own as it goes, because a tree costs ten times the file
    (650 MB for a 70 MB session of 90,000 regions) and reading is far more common than editing."""

    data: bytes

    @property
    def tree(self) -> etree._Element:
        return etree.fromstring(self.data, _parser())


def _parser() -> etree.XMLParser:
    # No entity expansion, no network, no DTD: a session file is data, never a program.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                           remove_blank_text=False)


def find_session_file(path: str | os.PathLike[str]) -> Path:
    """A .ardour file, or a session folder holding one (the snapshot named after the folder,
    else the only snapshot)."""
    p = Path(path)
    if p.is_file():
        if p.suffix != ".ardour":
            raise SessionNotFound(f"{p} is not an .ardour session file")
        return p
    if p.is_dir():
        named = p / f"{p.name}.ardour"
        if named.is_file():
            return named
        snaps = sorted(x for x in p.glob("*.ardour") if x.is_file())
        if len(snaps) == 1:
            return snaps[0]
        if not snaps:
            raise SessionNotFound(f"no .ardour file in {p}")
        raise SessionNotFound(f"{p} holds several snapshots ({', '.join(s.name for s in snaps)}); name one")
    raise SessionNotFound(f"{p} does not exist")


def read_session(path: str | os.PathLike[str], roots: Sequence[Path] | None = None,
                 limits: ReadLimits | None = None) -> Session:
    """The session at ``path``. With ``roots``, audio and MIDI files outside them (absolute source
    paths, search paths, symlinks) are not looked at: their sources read as outside the roots."""
    file = find_session_file(path)
    try:
        st = file.stat()
        if st.st_size > MAX_SESSION_BYTES:
            raise MalformedSession(f"{file.name} is {st.st_size} bytes, larger than any real session")
        data = file.read_bytes()
    except OSError as e:
        raise SessionNotFound(f"cannot read {file}: {e.strerror}") from None
    session = parse_session(data, file, roots, limits)
    session.fingerprint = Fingerprint.of(data, st)
    overlay.apply(session)  # roles and locks set while Ardour had the session open
    return session


def _stream(data: bytes, limit: int, on_region: Callable[[str, etree._Element], None] | None = None
            ) -> tuple[etree._Element, int]:
    """The tree without its playlist regions, each taken out as soon as it is parsed (a whole tree
    costs ten times the file: 650 MB for 90,000 regions), and how many there were. ``on_region``
    (playlist id, element) sees each one first, while it is still a live element. More than
    ``limit`` regions stop the parse at once."""
    count = 0
    context = etree.iterparse(io.BytesIO(data), events=("start", "end"), tag=("Playlist", "Region"),
                              resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                              remove_blank_text=False)
    playlist: etree._Element | None = None  # the <Playlist> of Playlists/UnusedPlaylists being parsed
    pid = ""
    for event, el in context:
        if el.tag == "Playlist":
            if event == "start":
                parent = el.getparent()
                playlist = el if parent is not None and parent.tag in ("Playlists", "UnusedPlaylists") else None
                pid = el.get("id") or ""
            else:
                playlist = None
            continue
        if event != "end" or playlist is None or el.getparent() is not playlist:
            continue
        count += 1
        if count > limit:
            raise _TooMany(count)
        if on_region is not None:
            on_region(pid, el)
        playlist.remove(el)
    return context.root, count


class _TooMany(Exception):
    pass


def _tempo_ahead(data: bytes) -> tuple[int, int, etree._Element] | None:
    """(version, sample rate, <TempoMap>) read ahead from the bytes, so that regions can be converted
    as they stream by although the tempo map comes after them in the file. A guess: parse_session
    checks it against the real section and reads the file again if they differ."""
    i = data.find(b"<Session ")
    j = data.find(b">", i)
    k = data.rfind(b"<TempoMap")
    m = data.find(b"</TempoMap>", k)
    if min(i, j, k, m) < 0:
        return None
    try:
        head = etree.fromstring(data[i:j].rstrip(b"/") + b"/>", _parser())
        tempo = etree.fromstring(data[k:m + len(b"</TempoMap>")], _parser())
        rate = int(head.get("sample-rate", "0"))
        return _version(head.get("version")), rate, tempo
    except (etree.XMLSyntaxError, ValueError, BridgeError):
        return None


def parse_session(data: bytes, file: Path, roots: Sequence[Path] | None = None,
                  limits: ReadLimits | None = None) -> Session:
    limits = limits or ReadLimits()
    regions_of: dict[str, list[Region]] = {}
    ahead = _tempo_ahead(data)
    early: _Ctx | None = None
    if ahead is not None and MIN_VERSION <= ahead[0] <= MAX_VERSION and 0 < ahead[1] <= 1_536_000:
        try:
            early = _Ctx(ahead[0], read_tempo_map(ahead[2], ahead[0], ahead[1]), file.parent)
        except BridgeError:
            early = None
    try:
        try:
            keep = (lambda pid, el: regions_of.setdefault(pid, []).append(_read_region(el, early))) if early else None
            root, region_count = _stream(data, limits.regions, keep)
        except BridgeError:
            if early is None:
                raise
            early, regions_of = None, {}  # a region the guessed tempo map could not read: read it properly
            root, region_count = _stream(data, limits.regions)
    except etree.XMLSyntaxError as e:
        raise MalformedSession(f"{file.name} is not well-formed XML: {e}") from None
    except _TooMany as e:
        raise LimitExceeded(f"{file.name} has more than {limits.regions} regions (at least {e.args[0]}), more than"
                            " the bridge reads (raise [limits] regions in the config to read it)") from None
    if root.tag != "Session":
        raise MalformedSession(f"{file.name}: root element is <{root.tag}>, not <Session>")
    version = _version(root.get("version"))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise UnsupportedVersion(
            f"{file.name}: session version {root.get('version')} is not supported"
            f" (supported: {MIN_VERSION}-{MAX_VERSION}, i.e. Ardour 6.0 to 9.x)")
    sections = {child.tag: child for child in root if isinstance(child.tag, str)}
    missing = [s for s in REQUIRED_SECTIONS if s not in sections]
    if missing:
        raise MalformedSession(f"{file.name}: missing required section(s) {', '.join(missing)}")
    sample_rate = _int(root, "sample-rate")
    if sample_rate <= 0 or sample_rate > 1_536_000:
        raise MalformedSession(f"{file.name}: sample-rate {sample_rate} is not a usable rate")
    _check_size(file, sections, limits)
    tempo_map = read_tempo_map(sections["TempoMap"], version, sample_rate)
    ctx = _Ctx(version, tempo_map, file.parent)
    if early is None or (early.version, early.tempo_map.sample_rate) != (version, sample_rate) \
            or etree.tostring(sections["TempoMap"], method="c14n", with_tail=False) \
            != etree.tostring(ahead[2], method="c14n", with_tail=False):
        # the guess was not the file's own tempo map: once more, with the real one
        regions_of = {}
        _stream(data, limits.regions, lambda pid, el: regions_of.setdefault(pid, []).append(_read_region(el, ctx)))
    else:
        ctx.curves = early.curves

    interchange = _interchange(file.parent)
    config = {o.get("name"): o.get("value", "") for o in sections.get("Config", ()) if o.tag == "Option"}
    sources = _read_sources(sections["Sources"], sections["Regions"], interchange, config, file.parent, roots)
    playlists: dict[str, Playlist] = {}
    for section, unused in (("Playlists", False), ("UnusedPlaylists", True)):
        for pl in sections.get(section, ()):
            if pl.tag == "Playlist":
                p = _read_playlist(pl, unused, regions_of.get(pl.get("id") or "", []))
                playlists[p.id] = p
    tracks, busses = _read_routes(sections["Routes"], version)
    session = Session(
        file=file, name=root.get("name") or file.stem, version=version, sample_rate=sample_rate,
        tempo_map=tempo_map, id_counter=_int(root, "id-counter", 0), tracks=tracks, busses=busses,
        playlists=playlists, sources=sources, session_range=_session_range(sections["Locations"], ctx),
        interchange=interchange, use_region_fades=config.get("use-region-fades", "1") not in ("0", "no"),
        program_version=_program_version(sections.get("ProgramVersion")),
        markers=_markers(sections["Locations"], ctx),
        document=SessionDocument(data),
    )
    for t in tracks:
        if t.playlist_id not in playlists:
            session.warnings.append(
                f"track {t.name!r} plays playlist {t.playlist_id}, which is not in the file")
    for s in sources.values():
        if s.missing:
            session.warnings.append(f"source {s.name!r} (id {s.id}) is not on disk")
        elif s.ambiguous:
            hits = ", ".join(map(str, s.ambiguous))
            session.warnings.append(f"source {s.name!r} matches several files: {hits}")
    return session


# -- helpers ----------------------------------------------------------------------------------------


def _version(text: str | None) -> int:
    if text is None:
        return 1000  # Ardour's own reading of a file with no version
    if text.isdigit():
        return int(text)
    if text.count(".") >= 1 and text.split(".")[0].isdigit():
        return int(text.split(".")[0]) * 1000  # "2.0.0" style
    raise UnsupportedVersion(f"session version {text!r} is not a number")


def _int(el: etree._Element, name: str, default: int | None = None) -> int:
    v = el.get(name)
    if v is None:
        if default is not None:
            return default
        raise MalformedSession(f"<{el.tag}> has no {name!r}")
    try:
        return int(v)
    except ValueError:
        raise MalformedSession(f"<{el.tag}> {name}={v!r} is not an integer") from None


def _float(el: etree._Element, name: str, default: float) -> float:
    return _num(el.get, name, default, float, el.tag)


def _bool(el: etree._Element, name: str, default: bool) -> bool:
    v = el.get(name)
    if v is None:
        return default
    return v in ("1", "yes", "true")


def _program_version(el: etree._Element | None) -> str:
    if el is None:
        return ""
    return el.get("modified-with") or el.get("created-with") or ""


def _interchange(folder: Path) -> Path:
    """interchange/<name> as Ardour picks it (§2.1); more than one subfolder is fatal in Ardour."""
    base = folder / "interchange"
    subdirs = sorted(d for d in base.iterdir() if d.is_dir()) if base.is_dir() else []
    if len(subdirs) > 1:
        raise TaintedInterchange(
            f"{base} holds {len(subdirs)} folders ({', '.join(d.name for d in subdirs)});"
            " Ardour refuses to load such a session ('interchange dir is tainted'): keep only one")
    if subdirs:
        return subdirs[0]
    return base / folder.name.replace("/", "_").replace("\\", "_")


class _Ctx:
    """What converting a region's times needs."""

    __slots__ = ("version", "tempo_map", "folder", "v7", "curves")

    def __init__(self, version: int, tempo_map: TempoMap, folder: Path) -> None:
        self.version = version
        self.tempo_map = tempo_map
        self.folder = folder
        self.v7 = version >= 7000
        # most regions carry the same fades (Ardour writes its 64-sample default out in full): each
        # distinct curve is parsed once and shared (Curve is immutable)
        self.curves: dict[tuple[str, str], Curve] = {}

    def samples(self, t: TimePos) -> int:
        if t.domain == "audio":
            return self.tempo_map.superclock_to_samples(t.value)
        if t.domain == "beats":
            return self.tempo_map.samples_at_ticks(t.value)
        return t.value

    def distance(self, d: TimePos, pos: TimePos) -> int:
        """Samples covered by a distance that starts at ``pos`` (beats need the tempo map there)."""
        if d.domain == "beats":
            q0 = (pos.value / TICKS_PER_BEAT if pos.domain == "beats"
                  else self.tempo_map.quarters_at_samples(self.samples(pos)))
            tm = self.tempo_map
            return tm.samples_at_quarters(q0 + d.value / TICKS_PER_BEAT) - tm.samples_at_quarters(q0)
        return self.samples(d)


def _check_size(file: Path, sections: dict[str, etree._Element], limits: ReadLimits) -> None:
    """Refuse a session with more tracks than the limits (regions are counted as they are parsed)."""
    routes = sum(1 for r in sections["Routes"] if r.tag == "Route")
    if routes > limits.tracks:
        raise LimitExceeded(f"{file.name} has {routes} tracks and busses, more than the {limits.tracks} the bridge"
                            " reads (raise [limits] tracks in the config to read it)")


def _search_dirs(kind: str, interchange: Path, config: dict[str, str], folder: Path) -> list[Path]:
    sub = "audiofiles" if kind == "audio" else "midifiles"
    dirs = [interchange / sub, folder / "sounds"]
    extra = config.get("audio-search-path" if kind == "audio" else "midi-search-path", "")
    dirs += [Path(p) for p in extra.split(":") if p]
    return dirs


def _read_sources(node: etree._Element, regions: etree._Element, interchange: Path,
                  config: dict[str, str], folder: Path, roots: Sequence[Path] | None = None) -> dict[str, Source]:
    listings: dict[Path, set[str]] = {}
    real_roots = [os.path.realpath(r) for r in roots] if roots else None

    def allowed(p: Path | str) -> bool:
        """Inside the roots (symlinks followed); decided before anything there is looked at."""
        if real_roots is None:
            return True
        r = os.path.realpath(p)
        return any(r == root or r.startswith(root.rstrip("/") + "/") for root in real_roots)

    def listing(d: Path) -> set[str]:
        if d not in listings:
            try:
                listings[d] = set(os.listdir(d))
            except OSError:
                listings[d] = set()
        return listings[d]

    out: dict[str, Source] = {}
    for el in node:
        if el.tag != "Source":
            continue
        sid = el.get("id")
        if not sid:
            raise MalformedSession("a <Source> has no id")
        kind = el.get("type", "audio")
        name = el.get("name", "")
        origin = el.get("origin", "")
        src = Source(sid, name, kind, _int(el, "channel", 0), origin, _float(el, "gain", 1.0))
        absolute = origin if os.path.isabs(origin) else name if os.path.isabs(name) else None
        if absolute is not None:
            if not allowed(absolute):
                src.outside = True
            else:
                src.path = Path(absolute) if os.path.exists(absolute) else None
        elif name:
            dirs = _search_dirs(kind, interchange, config, folder)
            usable = [d for d in dirs if allowed(d)]
            hits = [d / name for d in usable if name in listing(d)]
            if hits and not allowed(hits[0]):
                src.outside = True  # a symlink in the session pointing out of the roots
            elif hits:
                src.path = hits[0]
                if len(hits) > 1:
                    src.ambiguous = hits
            elif len(usable) < len(dirs):
                src.outside = True  # only a search path outside the roots could hold it
        out[sid] = src
    # Compound regions keep their sources inside the whole-file region (§7.3).
    for nested in regions.iter("NestedSource"):
        for el in nested:
            if el.tag == "Source" and el.get("id"):
                out[el.get("id")] = Source(el.get("id"), el.get("name", ""), el.get("type", "audio"),
                                           _int(el, "channel", 0), nested=True)
    return out


def _curve(el: etree._Element | None, ctx: _Ctx) -> Curve:
    if el is None or el.get("default") == "yes" or el.get("steepness") is not None:
        return DEFAULT_CURVE
    al = el.find("AutomationList")
    if al is None:
        return DEFAULT_CURVE
    events = al.find("events")
    key = (events.text if events is not None and events.text else "", al.get("interpolation-style", ""))
    known = ctx.curves.get(key)
    if known is not None:
        return known
    points: list[tuple[int, float]] = []
    if events is not None and events.text:
        for line in events.text.split("\n"):
            parts = line.split()
            if len(parts) != 2:
                continue
            when = parse_timepos(parts[0], "automation time")
            try:
                value = float(parts[1])
            except ValueError:
                raise MalformedSession(f"bad automation value {parts[1]!r}") from None
            # Curve times are relative to the region start; beats are rare here, take them
            # from the session start like Ardour's own conversion.
            points.append((ctx.samples(when), value))
    curve = ctx.curves[key] = Curve(tuple(points), default=False, interpolation=al.get("interpolation-style", ""))
    return curve


def _num(get: Callable[[str], str | None], key: str, default: float, conv: type = float,
         tag: str = "Region") -> float:
    """A numeric attribute through a bound ``el.get`` (cheap in the region loop), or ``default``."""
    v = get(key)
    if v is None:
        return default
    try:
        return conv(v)
    except ValueError:
        raise MalformedSession(f"<{tag}> {key}={v!r} is not a number") from None


def _v7_times(start_text: str, length_text: str, name: str, ctx: _Ctx
              ) -> tuple[int, int, int, str, float | None, float | None]:
    """position, start, length in samples; the position's text; MIDI beat offsets."""
    dist_text, _, pos_text = length_text.partition("@")
    sr, scps = ctx.tempo_map.sample_rate, ctx.tempo_map.scps
    # Fast path for the common case, all in audio time: plain integer maths.
    if start_text[:1] == "a" and dist_text[:1] == "a" and pos_text[:1] == "a":
        try:
            return ((int(pos_text[1:]) * sr) // scps, (int(start_text[1:]) * sr) // scps,
                    (int(dist_text[1:]) * sr) // scps, pos_text, None, None)
        except ValueError:
            pass  # the general path below reports it
    start_t = parse_timepos(start_text, f"region {name!r} start")
    dist, pos_t = parse_timecnt(length_text, f"region {name!r} length")
    return (ctx.samples(pos_t), ctx.samples(start_t), ctx.distance(dist, pos_t), pos_t.text(),
            start_t.value / TICKS_PER_BEAT if start_t.domain == "beats" else None,
            dist.value / TICKS_PER_BEAT if dist.domain == "beats" else None)


def _read_region(el: etree._Element, ctx: _Ctx) -> Region:
    # A bound el.get per attribute costs a third of copying all ~35 attributes into a dict.
    g = el.get
    name = g("name")
    rid = g("id")
    if not name or not rid:
        raise MalformedSession("a playlist <Region> has no name or id (Ardour would abort on it)")
    kind = g("type", "audio")
    start_text, length_text = g("start", "0"), g("length", "")
    if ctx.v7:
        position, start, length, position_text, start_q, length_q = _v7_times(start_text, length_text, name, ctx)
    else:
        position_text = g("position", "0")
        position = int(_num(g, "position", 0, int))
        start = int(_num(g, "start", 0, int))
        if not length_text:
            raise MalformedSession(f"region {name!r} has no length")
        length = int(_num(g, "length", 0, int))
        start_q = length_q = None
        if kind == "midi":
            start_q = _num(g, "start-beats", 0.0)
            length_q = _num(g, "length-beats", 0.0)
    if length < 0 or start < 0:
        raise MalformedSession(f"region {name!r} has a negative start or length")
    channels = int(_num(g, "channels", 1, int))
    if channels == 1:
        sid = g("source-0")
        sources = [sid] if sid else []
    else:
        sources = [x for x in (g(f"source-{i}") for i in range(channels)) if x]
    envelope, fade_in, fade_out = DEFAULT_CURVE, DEFAULT_FADE, DEFAULT_FADE
    if kind == "audio":
        fade_in = DEFAULT_FADE if g("fade-in-active", "1") == "1" else INACTIVE_DEFAULT_FADE
        fade_out = DEFAULT_FADE if g("fade-out-active", "1") == "1" else INACTIVE_DEFAULT_FADE
        # Most regions hold only default="yes" children: skip them without building anything.
        children = {c.tag: c for c in el if c.get("default") != "yes"} if len(el) else None
        if children:
            envelope = _curve(children.get("Envelope"), ctx)
            fade_in = _fade(children, "FadeIn", fade_in.active, ctx)
            fade_out = _fade(children, "FadeOut", fade_out.active, ctx)
    return Region(
        rid, name, kind, position, start, length, position_text, start_text, length_text,
        sources, channels, _num(g, "scale-amplitude", 1.0), g("envelope-active") == "1", envelope,
        fade_in, fade_out, g("muted") == "1",
        # Before 7001 MIDI regions were always transparent (§8.3).
        g("opaque", "1") == "1" and not (kind == "midi" and ctx.version < 7001),
        int(_num(g, "layering-index", 0, int)), 0, start_q, length_q,
    )


def _fade(children: dict, tag: str, active: bool, ctx: _Ctx) -> Fade:
    curve = _curve(children.get(tag), ctx)
    inverse = children.get(f"Inverse{tag}")
    if curve is DEFAULT_CURVE and inverse is None:
        return DEFAULT_FADE if active else INACTIVE_DEFAULT_FADE
    return Fade(curve, _curve(inverse, ctx) if inverse is not None else None, active)


def _read_playlist(el: etree._Element, unused: bool, regions: list[Region]) -> Playlist:
    pid = el.get("id")
    if not pid:
        raise MalformedSession("a <Playlist> has no id")
    assign_layers(regions)
    return Playlist(pid, el.get("name", ""), el.get("type", "audio"), el.get("orig-track-id", ""),
                    regions, unused)


def _read_routes(node: etree._Element, version: int) -> tuple[list[Track], list[Bus]]:
    tracks: list[Track] = []
    busses: list[Bus] = []
    for el in node:
        if el.tag != "Route":
            continue
        rid, name = el.get("id"), el.get("name")
        if not rid or name is None:
            raise MalformedSession("a <Route> has no id or name")
        pinfo = el.find("PresentationInfo")
        flags = pinfo.get("flags", "") if pinfo is not None else ""
        order = _int(pinfo, "order", 0) if pinfo is not None else 0
        n_in = n_out = 0
        gain = trim = 1.0
        azimuth = 0.5
        muted = False
        role = None
        locked = False
        for child in el:
            tag = child.tag
            if tag == "IO":
                n = sum(1 for p in child if p.tag == "Port" and p.get("type", "audio") == "audio")
                if child.get("direction") == "Input":
                    n_in = n
                elif child.get("direction") == "Output":
                    n_out = n
            elif tag == "Processor":
                ptype = child.get("type")
                for c in child:
                    if c.tag == "Controllable":
                        if ptype == "amp" and c.get("name") == "gaincontrol":
                            gain = _float(c, "value", 1.0)
                        elif ptype == "trim" and c.get("name") == "trimcontrol":
                            trim = _float(c, "value", 1.0)
            elif tag == "Controllable" and child.get("name") == "mute":
                muted = _float(child, "value", 0.0) > 0.5
            elif tag == "Pannable":
                for c in child:
                    if c.tag == "Controllable" and c.get("name") == "pan-azimuth":
                        azimuth = min(1.0, max(0.0, _float(c, "value", 0.5)))
            elif tag == "Extra":
                res = child.find("Resonant")
                if res is not None:
                    role = res.get("role") or None
                    locked = res.get("locked") == "1"
        playlist = el.get("audio-playlist") or el.get("midi-playlist")
        if playlist is None:
            busses.append(Bus(rid, name, n_in, master="MasterOut" in flags, gain=gain * trim))
            continue
        kind = el.get("default-type", "audio")
        guessed = role is None
        tracks.append(Track(
            id=rid, name=name, kind="midi" if kind == "midi" else "audio", order=order,
            playlist_id=playlist, role=role if role else guess_role(name), locked=locked,
            role_guessed=guessed, active=_bool(el, "active", True), muted=muted, gain=gain, trim=trim,
            pan_azimuth=azimuth,
            n_inputs=n_in, n_outputs=n_out, hidden="Hidden" in flags,
        ))
    tracks.sort(key=lambda t: t.order)
    return tracks, busses


def _markers(node: etree._Element, ctx: _Ctx) -> list[Marker]:
    """Markers and range markers a user placed (not the session range, loop, punch or CD/cue marks)."""
    out = []
    skip = {"IsSessionRange", "IsAutoLoop", "IsAutoPunch", "IsCueMarker", "IsHidden", "IsXrun", "IsSkip"}
    for loc in node:
        kinds = set(loc.get("flags", "").split(",")) if loc.tag == "Location" else set()
        if not kinds & {"IsMark", "IsRangeMarker", "IsSection"} or kinds & skip:
            continue
        try:
            start = ctx.samples(parse_timepos(loc.get("start"), "marker start"))
            end = ctx.samples(parse_timepos(loc.get("end") or loc.get("start"), "marker end"))
        except BridgeError:
            continue  # a marker Ardour itself could not place is no reason to refuse the session
        out.append(Marker((loc.get("name") or "")[:200], start, max(start, end), loc.get("flags", "")))
    return sorted(out, key=lambda m: m.start)


def _session_range(node: etree._Element, ctx: _Ctx) -> tuple[int, int] | None:
    for loc in node:
        if loc.tag == "Location" and "IsSessionRange" in loc.get("flags", ""):
            return (ctx.samples(parse_timepos(loc.get("start"), "session start")),
                    ctx.samples(parse_timepos(loc.get("end"), "session end")))
    return None
