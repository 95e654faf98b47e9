"""The arranger: 4 stems x 32 bars at 120 BPM (64 s of music), on one core.

    .venv/bin/python bench/arranger.py [--repeat 3]

Prints the split between writing (plan, parts, MIDI files), SoundFont rendering and loudness
normalisation in a warm worker, and, as the baseline measured in the same run, what a fresh
process pays before its first note (loading the SoundFont, rendering 64 s of silence). Target:
under 1 s for the four stems. ``--note-by-note`` renders without the one-shot sampler.
``RESONANT_SOUNDFONT=...`` measures another SoundFont (the default is the best one installed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.ardour.tempo import TempoMap  # noqa: E402
from bridge.audio.synth import render_notes  # noqa: E402
from bridge.engines import GenerationRequest, get_engine  # noqa: E402
from bridge.music.parts import NoteEvent  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--note-by-note", action="store_true",
                    help="tinysoundfont without the one-shot sampler (bridge.audio.sampler), for comparison")
    args = ap.parse_args()
    if args.note_by_note:
        import functools

        from bridge.audio import synth

        synth._render_tsf = functools.partial(synth._render_tsf, sampled=False)  # noqa: F811
    from bridge.audio import synth

    engine = get_engine("arranger")
    tm = TempoMap.constant(48000, 120)
    silent = [NoteEvent(0.0, 0.01, 60, 1), NoteEvent(127.9, 0.01, 60, 1)]  # spans the 64 s

    def cold() -> None:  # what one stem costs a fresh process: loading the SoundFont, 64 s of silence
        synth._loaded.cache_clear()
        synth._soundfont_bytes.cache_clear()
        render_notes(silent, 0, False, tm, 0.0, 64 * 48000)

    base = min(_time(cold) for _ in range(args.repeat))
    render_notes(silent, 0, False, tm, 0.0, 64 * 48000)  # the worker keeps the SoundFont loaded
    rows = []
    for prompt in ("house", "lo-fi hip hop", "metal", "orchestral"):
        req = GenerationRequest(roles=["drums", "bass", "harmony", "melody"], bars=32, prompt=f"{prompt} 120 bpm",
                                seed=1)
        best = None
        for _ in range(args.repeat):
            stems = engine.generate(req, None)
            t = stems[0].metadata["timings"]
            if best is None or t["total_s"] < best["total_s"]:
                best = t
        rows.append((prompt, best))
    from bridge.audio.synth import renderer

    how = " note by note" if args.note_by_note and renderer() == "tinysoundfont" else ""
    print(f"4 stems x 32 bars at 120 BPM = 64 s of music (256 s of stem audio), one core, {renderer()}{how}"
          " (RESONANT_RENDERER=midirenderer for the fallback)\n")
    print(f"{'style':<16} {'write':>7} {'render':>7} {'normalise':>9} {'total':>7} {'x real time':>11} "
          f"{'vs baseline':>11}")
    for prompt, t in rows:
        print(f"{prompt:<16} {t['write_s']:>6.3f}s {t['render_s']:>6.3f}s {t['normalise_s']:>8.3f}s "
              f"{t['total_s']:>6.3f}s {64 / t['total_s']:>10.1f}x {t['total_s'] / base:>10.2f}x")
    print(f"\nbaseline: a fresh process loading the SoundFont ({synth.soundfont_path().name}) and rendering 64 s of"
          f" near-silence takes {base:.3f} s; the stems above are made by a warm worker (SoundFont loaded once)")


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
