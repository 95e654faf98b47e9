"""Render tracks of a session the way Ardour 7 plays them.

Per track, the active playlist is read as ``AudioPlaylist::read`` does: regions sorted by
descending layer; each opaque region's *body* (between its fades) hides what lies below; then
the regions are read bottom-up, each one (``AudioRegion::read_at``) applying source gain, the
envelope when active, ``scale-amplitude``, and its fades (when active and the session's
use-region-fades is on), fading the layers below with the inverse fade curves. Track channel n
reads region channel n % channels (rc replicate-missing-region-channels, default on). Then the
track's trim and fader gain, mute and active flag, Ardour's default panners (mono: 1in2out at the
stored azimuth with the -3 dB law; stereo: 2in2out balance), and the master bus gain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from bridge.ardour.model import DEFAULT_CURVE, Region, Session, Track
from bridge.audio.curves import CurveEval, default_fade
from bridge.errors import AudioFileError, InvalidInput, MissingSource

_PAN_SCALE = 2.0 - 4.0 * 10.0 ** (-3.0 / 20.0)  # Ardour's 1in2out -3 dB pan law


@dataclass
class SourceCache:
    """Source files open for one render, read by range: a render holds what it mixes, never whole
    files (a five-minute stereo source is 115 MB as float32)."""

    files: dict[Path, sf.SoundFile] = field(default_factory=dict)

    def segment(self, path: Path, channel: int, start: int, count: int) -> np.ndarray:
        """``count`` frames of one channel from frame ``start`` (zeros past the end of the file)."""
        f = self.files.get(path)
        if f is None:
            try:
                f = self.files[path] = sf.SoundFile(str(path))
            except (RuntimeError, sf.LibsndfileError) as e:
                raise AudioFileError(f"cannot read audio file {path.name}: {e}") from None
        if channel >= f.channels:
            raise AudioFileError(f"{path.name} has {f.channels} channel(s); the session reads channel "
                                 f"{channel + 1} (Ardour would refuse to load this session)")
        out = np.zeros(count, dtype=np.float64)
        if start >= f.frames or count <= 0:
            return out
        try:
            f.seek(start)
            data = f.read(min(count, f.frames - start), dtype="float32", always_2d=True)[:, channel]
        except (RuntimeError, sf.LibsndfileError) as e:
            raise AudioFileError(f"cannot read audio file {path.name}: {e}") from None
        if not np.isfinite(data).all():
            raise AudioFileError(f"audio file {path.name} contains NaN or infinite samples")
        out[:data.size] = data
        return out

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.files.clear()


class _RegionReader:
    """``AudioRegion::read_at`` for one region and one channel."""

    def __init__(self, session: Session, region: Region, cache: SourceCache, sc_per_sample: float):
        self.s, self.r, self.cache, self.k = session, region, cache, sc_per_sample
        fades = session.use_region_fades
        self.fade_in = self._fade(region.fade_in, True) if region.fade_in.active and fades else None
        self.fade_out = self._fade(region.fade_out, False) if region.fade_out.active and fades else None
        self.envelope = None
        if region.envelope_active:
            env = region.envelope
            self.envelope = (CurveEval.from_curve(env, sc_per_sample) if env is not DEFAULT_CURVE
                             else CurveEval([0.0, region.length * sc_per_sample], [1.0, 1.0], "Exponential"))

    def _fade(self, fade, fade_in: bool) -> tuple[CurveEval, CurveEval | None, int]:
        if fade.curve.default:
            curve, inverse = default_fade(64, fade_in, self.k)
            return curve, inverse, 64
        curve = CurveEval.from_curve(fade.curve, self.k, upper=2.0)
        # An explicit fade without an inverse list has an empty inverse in Ardour: gain 0 below.
        inverse = (CurveEval.from_curve(fade.inverse, self.k) if fade.inverse is not None
                   else CurveEval([], [], "Curved", normal=0.0))
        return curve, inverse, int(fade.curve.length)

    def source(self, chan: int, offset: int, count: int) -> np.ndarray:
        r = self.r
        n = len(r.source_ids)
        sid = r.source_ids[chan % n] if n else None
        src = self.s.sources.get(sid) if sid else None
        if src is None or src.path is None:
            raise MissingSource(f"region {r.name!r} reads a source that is not on disk")
        out = self.cache.segment(src.path, src.channel, r.start + offset, count)
        return out * src.gain if src.gain != 1.0 else out

    def read_at(self, buf: np.ndarray, pos: int, count: int, chan: int) -> None:
        r = self.r
        internal = pos - r.position
        if internal >= r.length:
            return
        to_read = min(count, r.length - internal)
        if to_read <= 0:
            return
        fade_in_limit = fade_out_limit = fade_out_offset = fade_start = 0
        if self.fade_in is not None:
            fade_len = self.fade_in[2]
            if internal < fade_len:
                fade_in_limit = min(to_read, fade_len - internal)
        if self.fade_out is not None:
            fade_start = max(internal, r.length - self.fade_out[2])
            fade_end = min(internal + to_read, r.length)
            if fade_end > fade_start:
                fade_out_limit = fade_end - fade_start
                fade_out_offset = fade_start - internal
        mix = self.source(chan, internal, to_read)
        if self.envelope is not None:
            mix *= self.envelope.vector(internal * self.k, (internal + to_read) * self.k, to_read)
        if r.scale_amplitude != 1.0:
            mix *= r.scale_amplitude
        k = self.k
        if fade_in_limit:
            curve, inverse, _ = self.fade_in
            x0, x1 = internal * k, (internal + fade_in_limit) * k
            gain = curve.vector(x0, x1, fade_in_limit)
            if r.opaque:
                buf[:fade_in_limit] *= (inverse.vector(x0, x1, fade_in_limit) if inverse is not None
                                        else 1 - gain)
            buf[:fade_in_limit] += mix[:fade_in_limit] * gain
        if fade_out_limit:
            curve, inverse, length = self.fade_out
            off = fade_start - (r.length - length)
            x0, x1 = off * k, (off + fade_out_limit) * k
            gain = curve.vector(x0, x1, fade_out_limit)
            seg = slice(fade_out_offset, fade_out_offset + fade_out_limit)
            if r.opaque:
                buf[seg] *= inverse.vector(x0, x1, fade_out_limit) if inverse is not None else 1 - gain
            buf[seg] += mix[seg] * gain
        body = to_read - fade_in_limit - fade_out_limit
        if body > 0:
            seg = slice(fade_in_limit, fade_in_limit + body)
            if r.opaque:
                buf[seg] = mix[seg]
            else:
                buf[seg] += mix[seg]


def _subtract(rng: tuple[int, int], done: list[tuple[int, int]]) -> list[tuple[int, int]]:
    parts = [rng]
    for a, b in done:
        nxt = []
        for s, e in parts:
            if b <= s or a >= e:
                nxt.append((s, e))
                continue
            if s < a:
                nxt.append((s, a))
            if b < e:
                nxt.append((b, e))
        parts = nxt
    return [(s, e) for s, e in parts if e > s]


def render_playlist(session: Session, track: Track, start: int, end: int, channels: int,
                    cache: SourceCache) -> np.ndarray:
    """The track's disk-reader output: ``channels`` x (end - start) samples."""
    out = np.zeros((channels, end - start))
    pl = session.playlist_of(track)
    if pl is None:
        return out
    k = session.tempo_map.scps / session.sample_rate
    regions = [r for r in pl.regions if r.type == "audio" and r.position < end and r.end > start]
    # descending layer, then ascending position (ReadSorter)
    regions.sort(key=lambda r: (-r.layer, r.position))
    done: list[tuple[int, int]] = []
    to_do: list[tuple[_RegionReader, int, int]] = []
    for r in regions:
        if r.muted:
            continue
        reader = _RegionReader(session, r, cache, k)
        for s, e in _subtract((max(r.position, start), min(r.end, end)), done):
            to_do.append((reader, s, e))
            if r.opaque:
                fin = reader.fade_in[2] if reader.fade_in else 0
                fout = reader.fade_out[2] if reader.fade_out else 0
                bs, be = r.position + fin, r.end - fout
                if bs < e and be > s:
                    done.append((max(s, bs), min(e, be)))
    for reader, s, e in reversed(to_do):
        for ch in range(channels):
            reader.read_at(out[ch, s - start:e - start], s, e - s, ch)
    return out


def _pan(track_out: np.ndarray, azimuth: float) -> np.ndarray:
    if track_out.shape[0] == 1:
        pr = azimuth
        pl = 1.0 - pr
        gl = pl * (_PAN_SCALE * pl + 1.0 - _PAN_SCALE)
        gr = pr * (_PAN_SCALE * pr + 1.0 - _PAN_SCALE)
        return np.vstack([track_out[0] * gl, track_out[0] * gr])
    return track_out[:2]


RENDER_BLOCK = 1 << 20  # samples per block (~22 s at 48 kHz)


def render(session: Session, tracks: list[Track] | None = None, start: int | None = None,
           end: int | None = None) -> np.ndarray:
    """A stereo (frames x 2, float32) render of ``tracks`` (default: all audio tracks) through the
    master bus, between ``start`` and ``end`` in samples (default: the session range)."""
    if start is None or end is None:
        rng = session.session_range or (0, session.end_sample())
        start = rng[0] if start is None else start
        end = rng[1] if end is None else end
    if start < 0 or end <= start:
        raise InvalidInput(f"render range {start}-{end} is empty or negative")
    chosen = [t for t in (tracks if tracks is not None else session.tracks) if t.kind == "audio"]
    session.require_sources(chosen)
    cache = SourceCache()
    out = np.empty((end - start, 2), dtype=np.float32)
    master = session.master
    try:
        # in blocks, as Ardour renders: exact (every region read is positional), and the memory of a
        # render is its result plus one block, whatever the length
        for a in range(start, end, RENDER_BLOCK):
            b = min(end, a + RENDER_BLOCK)
            mix = np.zeros((2, b - a))
            for t in chosen:
                if not t.active or t.muted:
                    continue
                track_out = render_playlist(session, t, a, b, max(1, t.n_inputs), cache)
                track_out *= t.gain * t.trim
                mix += _pan(track_out, t.pan_azimuth)
            if master is not None:
                mix *= master.gain
            out[a - start:b - start] = mix.T
    finally:
        cache.close()
    return out
