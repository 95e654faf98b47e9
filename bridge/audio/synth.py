"""Notes to audio with a General MIDI SoundFont, and notes to standard MIDI files.

Two renderers, both wheels with no system dependencies:

- ``tinysoundfont`` (MIT), preferred: a synthesiser driven note by note at the session's own rate,
  each event on its exact sample, about 20x faster than rendering a file. Its wheel declares a
  dependency on ``pyaudio`` (for live playback only, imported lazily, and without a Linux wheel), so
  ``scripts/setup`` installs it with ``--no-deps``.
- ``midirenderer`` (MIT), the fallback that plain ``pip install`` always gives: renders a standard
  MIDI file at 48 kHz stereo. The file it gets is timed in samples: 24000 ticks per quarter at 120 BPM
  is one tick per sample at 48 kHz, so any tempo map (ramps included) lands on the exact sample.

``RESONANT_RENDERER=midirenderer`` forces the fallback. The default SoundFont is the TimGM6mb.sf2 that
pretty_midi's wheel ships; a user-configured .sf2 (``RESONANT_SOUNDFONT``) wins.
"""

from __future__ import annotations

import io
import math
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

from bridge.ardour.tempo import TempoMap
from bridge.audio.sampler import Voice, render_sampled
from bridge.audio.smf import CONTROL, NOTE_OFF, NOTE_ON, PROGRAM, Event, write_smf
from bridge.audio.stereo import Width, widen
from bridge.errors import BridgeError, InvalidInput
from bridge.music.parts.common import NoteEvent

RENDER_RATE = 48000
_PPQ_SAMPLES = 24000  # ticks per quarter at 120 BPM: one tick per sample at 48 kHz
_MUSICAL_PPQ = 1920  # Ardour's own resolution: notes read back from a MIDI track are written again exactly


class EngineUnavailable(BridgeError):
    code = "engine_unavailable"


# General MIDI SoundFonts Debian installs, best first: FluidR3 (fluid-soundfont-gm, 148 MB, MIT) has
# full-range bass and drums and stereo pianos; MuseScore General (musescore-general-soundfont) is sf3,
# which only tinysoundfont reads; the system's default-GM alternative; pretty_midi's TimGM6mb (6 MB) last
SYSTEM_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf3/MuseScore_General.sf3",
                     "/usr/share/sounds/sf2/default-GM.sf2")


def soundfont_path() -> Path:
    """The SoundFont the arranger renders with: ``RESONANT_SOUNDFONT`` (the config's engines.soundfont),
    else the best General MIDI SoundFont installed on the system, else TimGM6mb from pretty_midi."""
    configured = os.environ.get("RESONANT_SOUNDFONT")
    if configured:
        p = Path(configured).expanduser()
        if not p.is_file():
            raise InvalidInput(f"RESONANT_SOUNDFONT={configured} is not a file")
        return p
    for cand in SYSTEM_SOUNDFONTS:
        p = Path(cand)
        if p.is_file() and (p.suffix == ".sf2" or renderer() == "tinysoundfont"):
            return p.resolve()
    try:
        import pretty_midi
    except ImportError:
        raise EngineUnavailable("no SoundFont: install pretty_midi (it ships TimGM6mb.sf2), Debian's "
                                "fluid-soundfont-gm, or set RESONANT_SOUNDFONT to a .sf2 file") from None
    p = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not p.is_file():
        raise EngineUnavailable(f"{p} is missing from the pretty_midi install")
    return p


@lru_cache(maxsize=2)
def _soundfont_bytes(path: str) -> bytes:
    data = Path(path).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":  # (an .sf3 is a RIFF "sfbk" too)
        raise InvalidInput(f"{path} is not a SoundFont 2 file")
    return data


@lru_cache(maxsize=2)
def _loaded(path: str, rate: int):
    """One synthesiser per SoundFont and rate, loaded once per process (a 148 MB SoundFont takes a
    third of a second to load; the worker renders many stems)."""
    import tinysoundfont

    font = _soundfont_bytes(path)  # a missing or non-SF2 file is the caller's error
    synth = tinysoundfont.Synth(samplerate=rate)
    try:
        sfid = synth.sfload(font)
    except Exception as e:  # SoundFontException, or a RuntimeError from the C side
        raise EngineUnavailable(f"the SoundFont renderer cannot load the SoundFont: {e}") from None
    return synth, sfid


def _silence(synth, chan: int) -> None:
    """End whatever still sounds on the channel, so the next part starts from silence."""
    synth.sounds_off(chan)
    buf = np.zeros((8192, 2), dtype=np.float32)
    for _ in range(64):
        synth.generate_simple(8192, buffer=memoryview(buf).cast("B"))
        if not buf.any():
            break


_PAN_CHANNELS = (0, 1, 2, 3, 4)  # five pan positions for the renderer's file (channel 9 is the drums')


def _events(notes: list[tuple[int, int, int, int]], program: int, drums: bool,
            pans: list[float] | None = None) -> list[Event]:
    """MIDI events for the notes. With ``pans``, pitched notes go to one channel per pan position
    (five, set by CC 10), so a renderer without per-note pan still places them; the drum channel
    selects the kit by program change (GS), and its kit pieces carry the SoundFont's own pan."""
    if drums:
        ev: list[Event] = [(0, PROGRAM, 9, program, 0)] if program else []
        chans = [9] * len(notes)
    else:
        slots = [0] * len(notes) if pans is None else [min(4, max(0, int(round((p + 1) * 2)))) for p in pans]
        ev = []
        for s in sorted(set(slots)):
            ev.append((0, PROGRAM, _PAN_CHANNELS[s], program, 0))
            if pans is not None:
                ev.append((0, CONTROL, _PAN_CHANNELS[s], 10, min(127, s * 32)))
        chans = [_PAN_CHANNELS[s] for s in slots]
    for (start, end, pitch, vel), ch in zip(notes, chans, strict=True):
        ev.append((start, NOTE_ON, ch, pitch, vel))
        ev.append((max(end, start + 1), NOTE_OFF, ch, pitch, 0))
    return ev


def renderer() -> str:
    """The renderer in use: ``tinysoundfont`` when installed (and not overridden), else ``midirenderer``."""
    if os.environ.get("RESONANT_RENDERER", "") == "midirenderer":
        return "midirenderer"
    try:
        import tinysoundfont  # noqa: F401
    except ImportError:
        return "midirenderer"
    return "tinysoundfont"


def _render_tsf(timed: list[tuple[int, int, int, int]], program: int, drums: bool, rate: int,
                frames: int, sampled: bool = True, pans: list[float] | None = None,
                width: Width | None = None) -> np.ndarray:
    """The part through TinySoundFont: by its one-shots (``bridge.audio.sampler``) where that is
    faithful, else note by note through the synthesiser (also with ``sampled=False``)."""
    synth, sfid = _loaded(str(soundfont_path()), rate)
    chan = 9 if drums else 0
    _silence(synth, chan)
    try:  # a drum kit the SoundFont lacks (TimGM6mb has one kit) falls back to its standard kit
        synth.program_select(chan, sfid, 0, program, is_drums=drums)
    except Exception:
        synth.program_select(chan, sfid, 0, 0, is_drums=drums)
    if sampled:
        out = render_sampled(Voice(synth, chan, rate), timed, drums, rate, frames, pans, width)
        if out is not None:
            return out
    # note-offs before note-ons on the same sample, so that a repeated note re-triggers
    events = sorted([(a, 1, p, v) for a, _, p, v in timed] + [(max(b, a + 1), 0, p, 0) for a, b, p, _ in timed])
    out = np.zeros((frames, 2), dtype=np.float32)
    buf = memoryview(out).cast("B")
    cur = 0
    for t, on, pitch, vel in events:
        t = min(max(t, cur), frames)
        if t > cur:
            synth.generate_simple(t - cur, buffer=buf[cur * 8:t * 8])  # 8 bytes: two float32 per frame
            cur = t
        if t >= frames:
            break
        if on:
            synth.noteon(chan, pitch, vel)
        else:
            synth.noteoff(chan, pitch)
    if cur < frames:
        synth.generate_simple(frames - cur, buffer=buf[cur * 8:])
    _silence(synth, chan)
    return widen(out, None, rate, width)


def render_notes(notes: list[NoteEvent], program: int, drums: bool, tempo_map: TempoMap, first_quarter: float,
                 frames: int, width: Width | None = None) -> np.ndarray:
    """Stereo float32 audio (frames x 2) at the tempo map's sample rate, exactly ``frames`` long,
    the first frame being ``first_quarter`` on the map. ``program`` is the drum kit for drums; each
    note's ``pan`` places it in the stem's stereo picture, and ``width`` (``bridge.audio.stereo``)
    gives the stem width beyond that."""
    rate = tempo_map.sample_rate
    origin = tempo_map.samples_at_quarters(first_quarter)
    # each note's start and end in samples from the first frame (unrounded: each renderer rounds at its rate)
    spans = [(tempo_map.samples_at_quarters(first_quarter + n.start) - origin,
              tempo_map.samples_at_quarters(first_quarter + n.start + n.duration) - origin, n.pitch, n.velocity)
             for n in notes]
    pans = [n.pan for n in notes]
    if renderer() == "tinysoundfont":
        # the length is rounded once, so that equal notes are equal wherever they start
        return _render_tsf([(int(round(a)), int(round(a)) + int(round(b - a)), p, v) for a, b, p, v in spans],
                           program, drums, rate, frames, pans=pans, width=width)
    scale = RENDER_RATE / rate
    timed = [(int(round(a * scale)), int(round(b * scale)), p, v) for a, b, p, v in spans]
    smf = write_smf(_events(timed, program, drums, None if drums else pans), _PPQ_SAMPLES, [(0, 500000)])
    import midirenderer

    font = _soundfont_bytes(str(soundfont_path()))  # (midirenderer reads SoundFont 2 only)
    try:
        wav = midirenderer.render_wave_from(font, smf)
    except Exception as e:  # the renderer reports its failures as plain exceptions
        raise EngineUnavailable(f"the SoundFont renderer failed: {e}") from None
    audio, got_rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    if got_rate != RENDER_RATE:
        raise EngineUnavailable(f"the SoundFont renderer returned {got_rate} Hz, expected {RENDER_RATE}")
    if audio.shape[1] == 1:
        audio = np.repeat(audio, 2, axis=1)
    if rate != RENDER_RATE:
        from scipy.signal import resample_poly

        g = math.gcd(rate, RENDER_RATE)
        need = int(math.ceil(frames * RENDER_RATE / rate)) + 64
        audio = resample_poly(audio[:need].astype(np.float64), rate // g, RENDER_RATE // g, axis=0).astype(np.float32)
    out = np.zeros((frames, 2), dtype=np.float32)
    n = min(frames, audio.shape[0])
    out[:n] = audio[:n, :2]
    return widen(out, None, rate, width)


def musical_smf(notes: list[NoteEvent], program: int, drums: bool, tempo_map: TempoMap,
                first_quarter: float, name: str) -> bytes:
    """The stem as a standard MIDI file for the user: 1920 PPQ from the first bar, with the
    session's tempo changes (ramps stepped every quarter note)."""

    tempos = []
    end_q = max((n.start + n.duration for n in notes), default=0.0)
    q = 0.0
    while q <= end_q:
        bpm = tempo_map.bpm_at_samples(tempo_map.samples_at_quarters(first_quarter + q))
        us = int(round(60_000_000 / bpm))
        if not tempos or tempos[-1][1] != us:
            tempos.append((int(round(q * _MUSICAL_PPQ)), us))
        q += 1.0
    ev = [(int(round(n.start * _MUSICAL_PPQ)), int(round((n.start + n.duration) * _MUSICAL_PPQ)), n.pitch, n.velocity)
          for n in notes]
    return write_smf(_events(ev, program, drums), _MUSICAL_PPQ, tempos or [(0, 500000)], name)
