"""Rendering a part by sampling the synthesiser: every distinct note rendered once, then mixed.

A drum part is 800 hits of some 8 sounds; a string part repeats a few chords for 32 bars. Voices in
TinySoundFont are independent and mixed by addition, so a part is the sum of its notes rendered
alone — computed once per distinct note and added with numpy, several times faster than running
the synthesiser over overlapping voices (metal drums: crash cymbals ringing under every beat).

What could make a copy differ from the synthesiser is probed with the synthesiser itself, per part:

- velocity: within one velocity layer it only scales a voice's gain. Each velocity's first samples
  are compared with the loudest one's; a pure gain reuses its one-shot, anything else (another
  layer, a velocity-driven filter) gets its own.
- exclusive classes (the hi-hat choke): for every ordered pair of the part's drum sounds, whether a
  note of the second ends the first early; if so the earlier hit is cut there with the
  synthesiser's 10 ms quick release. A pitched part where any note cuts another is rendered by the
  synthesiser directly.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

PROBE = 8192  # samples compared to tell a pure gain from another velocity layer
# a velocity whose sound is a gain of another's but for less than this energy (-40 dB) shares its
# one-shot: within a layer TinySoundFont's velocity is a gain plus a slight brightening (its default
# velocity-to-filter modulator); two or three steps apart that difference is 1% of the note
VELOCITY_RESIDUAL = 1e-4
CHOKE_AT = 512  # the second note of a choke probe starts ~10 ms after the first (on the 64-sample block grid)
CHOKE_LEN = 2400  # and the probe runs 50 ms
QUICK_RELEASE_S = 0.01  # TinySoundFont's fast release for a voice cut by its exclusive class
MAX_TAIL_S = 20.0  # a one-shot still sounding this long after its note-off is cut there
RELEASE_CAP_S = 2.5  # a pitched note's release is faded out over 50 ms from this long after its note-off
TAIL_FLOOR = 1e-4  # -80 dB under the note's peak: below this a one-shot's release is cut
CHUNK = 8192

Note = tuple[int, int, int, int]  # start, end (samples from the first frame), pitch, velocity


class Voice:
    """One synthesiser with one program, rendering notes alone."""

    def __init__(self, synth: Any, chan: int, rate: int) -> None:
        self.synth, self.chan, self.rate = synth, chan, rate

    def _run(self, events: list[tuple[int, int, int, int]], length: int | None) -> np.ndarray:
        """Render ``events`` (time, on, pitch, velocity) from silence; ``length`` None = until silent."""
        chunks: list[np.ndarray] = []
        cur = 0
        events = sorted(events)
        limit = length if length is not None else events[-1][0] + int(MAX_TAIL_S * self.rate)
        i = 0
        while cur < limit:
            nxt = events[i][0] if i < len(events) else limit
            n = min(max(nxt - cur, 0), CHUNK, limit - cur)
            if n:
                buf = np.zeros((n, 2), dtype=np.float32)
                self.synth.generate_simple(n, buffer=memoryview(buf).cast("B"))
                chunks.append(buf)
                cur += n
                if length is None and i >= len(events) and not buf.any():
                    break  # every voice has ended: the rest is silence
            while i < len(events) and events[i][0] <= cur:
                _, on, pitch, vel = events[i]
                if on:
                    self.synth.noteon(self.chan, pitch, vel)
                else:
                    self.synth.noteoff(self.chan, pitch)
                i += 1
        if length is None:  # trim the trailing silence: it lies in the last chunks only
            while chunks and not chunks[-1].any():
                chunks.pop()
            if chunks:
                nz = np.flatnonzero(chunks[-1].ravel())  # (numpy's reduce along a short axis is slow)
                chunks[-1] = chunks[-1][:nz[-1] // 2 + 1]
        else:  # end what still sounds (quick release) and let it finish, for a clean next run
            self.synth.sounds_off(self.chan)
            for _ in range(64):
                buf = np.zeros((CHUNK, 2), dtype=np.float32)
                self.synth.generate_simple(CHUNK, buffer=memoryview(buf).cast("B"))
                if not buf.any():
                    break
        return np.concatenate(chunks) if chunks else np.zeros((0, 2), np.float32)

    def shot(self, pitch: int, vel: int, dur: int) -> np.ndarray:
        out = self._run([(0, 1, pitch, vel), (max(dur, 1), 0, pitch, 0)], None)
        # a release tail 80 dB below the note's peak adds nothing audible but costs every copy of it
        d = max(dur, 1)
        floor = TAIL_FLOOR * float(np.abs(out[:d + 4096]).max(initial=0.0))
        loud = np.flatnonzero(np.abs(out[d:].ravel()) > floor) if out.shape[0] > d else []
        end = d + (int(loud[-1]) // 2 + 1 if len(loud) else 0)
        out = out[:end] if end < out.shape[0] else out
        cap = d + int(RELEASE_CAP_S * self.rate)
        if self.chan != 9 and out.shape[0] > cap:
            # a string's or pad's three-second release under a dense arrangement is room, not note:
            # it is faded out (a short ramp, no click) where the mix has long covered it
            fade = int(0.05 * self.rate)
            out = out[:cap + fade].copy()
            out[cap:] *= np.linspace(1.0, 0.0, out.shape[0] - cap, dtype=np.float32)[:, None]
        return out

    def probe(self, pitch: int, vel: int, dur: int) -> np.ndarray:
        return self._run([(0, 1, pitch, vel), (max(dur, 1), 0, pitch, 0)], PROBE)

    def pair(self, a: int, b: int, vel: int) -> np.ndarray:
        return self._run([(0, 1, a, vel), (CHOKE_AT, 1, b, vel)], CHOKE_LEN)


def _head(shot: np.ndarray) -> np.ndarray:
    """A one-shot's first ``PROBE`` samples: what ``Voice.probe`` renders of the same note (both runs
    split at the same places, so the synthesiser's 64-sample blocks fall alike), zero-padded."""
    head = np.zeros((PROBE, 2), dtype=np.float32)
    head[:min(PROBE, shot.shape[0])] = shot[:PROBE]
    return head


def _gain(probe: np.ndarray, ref: np.ndarray) -> float | None:
    """The factor that makes ``ref`` into ``probe``, if what is left is under ``VELOCITY_RESIDUAL``."""
    energy = float(np.vdot(ref, ref))
    if energy <= 1e-12:
        return None
    g = float(np.vdot(probe, ref)) / energy
    residual = float(np.vdot(probe - g * ref, probe - g * ref))
    return g if residual <= VELOCITY_RESIDUAL * float(np.vdot(probe, probe)) else None


def chokes(voice: Voice, pitches: list[int], vel: int) -> dict[int, set[int]]:
    """For each pitch b, the pitches a whose sounding notes a note of b cuts."""
    alone = {p: voice._run([(0, 1, p, vel)], CHOKE_LEN) for p in pitches}
    cut: dict[int, set[int]] = defaultdict(set)
    for a in pitches:
        for b in pitches:
            both = voice.pair(a, b, vel)
            summed = alone[a].copy()
            summed[CHOKE_AT:] += alone[b][:CHOKE_LEN - CHOKE_AT]
            tail = slice(CHOKE_AT + CHOKE_LEN // 4, CHOKE_LEN)
            scale = np.abs(summed[tail]).max() + 1e-9
            if np.abs(both[tail] - summed[tail]).max() > 0.05 * scale:
                cut[b].add(a)
    return cut


def pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power balance of a stereo one-shot: unity at the centre, -1 left .. 1 right."""
    theta = (max(-1.0, min(1.0, pan)) + 1.0) * np.pi / 4
    return float(np.cos(theta) * np.sqrt(2)), float(np.sin(theta) * np.sqrt(2))


def render_sampled(voice: Voice, notes: list[Note], drums: bool, rate: int, frames: int,
                   pans: list[float] | None = None, width: tuple[float, float, float] | None = None
                   ) -> np.ndarray | None:
    """The part as the sum of its one-shots (frames x 2), each placed in the stereo picture by its
    pan, or None where copies would not be faithful (a pitched part whose notes cut each other):
    then the caller runs the synthesiser instead."""
    if not notes:
        return np.zeros((frames, 2), dtype=np.float32)
    pitches = sorted({p for _, _, p, _ in notes})
    loud = max(v for *_, v in notes)
    if drums:
        cut = chokes(voice, pitches, loud)
    else:  # pitched presets have no exclusive classes in practice: check a retrigger and one pair
        probe = pitches[:1] + pitches[-1:] if len(pitches) > 1 else pitches
        cut = chokes(voice, probe, loud)
        if any(cut.values()):
            return None
    # one-shots per (pitch, duration), shared by velocities that sound as a gain of one already rendered
    groups: dict[tuple[int, int], set[int]] = defaultdict(set)
    for a, b, p, v in notes:
        groups[(p, b - a)].add(v)
    shots: dict[tuple[int, int, int], tuple[np.ndarray, float]] = {}
    for (p, dur), vels in groups.items():
        refs: list[tuple[np.ndarray, np.ndarray]] = []  # (as rendered, as mixed), loudest velocity first
        for v in sorted(vels, reverse=True):
            probe = voice.probe(p, v, dur) if refs else None  # the loudest needs no comparison
            for raw, mixed in refs:
                g = _gain(probe, _head(raw))
                if g is not None:
                    shots[(p, dur, v)] = (mixed, g)
                    break
            else:
                raw = voice.shot(p, v, dur)
                mixed = raw
                if width is not None:  # the stem's width, given to each distinct note once
                    from bridge.audio.stereo import widen

                    mixed = widen(np.vstack([raw, np.zeros((int(width[1] * rate) + 1, 2), np.float32)]),
                                  None, rate, width)
                refs.append((raw, mixed))
                shots[(p, dur, v)] = (mixed, 1.0)
    longest = max(s.shape[0] for s, _ in shots.values())
    out = np.zeros((frames + longest, 2), dtype=np.float32)
    # where each hit is cut by a later one of its exclusive class: the synthesiser takes the notes
    # of one sample in (pitch, velocity) order, so a later note-on of the same sample cuts too
    def order(a: int, p: int, v: int) -> int:
        return (a << 16) | (p << 8) | v

    onsets: dict[int, list[int]] = defaultdict(list)
    for a, _, p, v in notes:
        onsets[p].append(order(a, p, v))
    cutters: dict[int, np.ndarray] = {}
    for a_pitch in pitches:
        codes = sorted(c for b, hit in cut.items() if a_pitch in hit for c in onsets[b])
        if codes:
            cutters[a_pitch] = np.array(codes, dtype=np.int64)
    fade = max(1, int(QUICK_RELEASE_S * rate))
    # the quick release falls exponentially to -80 dB (1e-4) over its 10 ms, then the voice ends
    ramp = np.exp(np.linspace(0.0, -9.2103, fade)).astype(np.float32)[:, None]
    panned: dict[tuple[int, int, int, float], np.ndarray] = {}
    for (a, b, p, v), pan in sorted(zip(notes, pans or [0.0] * len(notes), strict=True)):
        if a >= frames:
            continue
        shot, g = shots[(p, b - a, v)]
        if pan:
            k = (p, b - a, v, pan)
            if k not in panned:
                gl, gr = pan_gains(pan)
                panned[k] = shot * np.array([gl, gr], dtype=np.float32)
            shot = panned[k]
        if a < 0:  # a note that starts before the range (not written by the arranger): its tail only
            shot, a = shot[-a:], 0
        n = shot.shape[0]
        if p in cutters:
            i = np.searchsorted(cutters[p], order(a, p, v), side="right")
            stop = int(cutters[p][i] >> 16) - a if i < cutters[p].size else n
            if stop < n:
                seg = shot[:stop + fade].copy()
                seg[stop:stop + fade] *= ramp[:seg.shape[0] - stop]
                out[a:a + seg.shape[0]] += seg * g
                continue
        out[a:a + n] += shot * g if g != 1.0 else shot
    return out[:frames]
