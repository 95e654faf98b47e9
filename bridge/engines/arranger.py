"""The embedded engine: a symbolic arranger rendered with a General MIDI SoundFont.

No GPU, no weights: parts are written from the plan (``bridge.music``), rendered per stem at the
session rate, trimmed to the exact bar range and loudness-normalised with a true-peak ceiling.
Regeneration keeps what it should of the previous take (``loyalty``) and joins new bars into it
with short crossfades; bars past the previous take's end continue it.
"""

from __future__ import annotations

import random
import time

import numpy as np

from bridge.ardour.tempo import TempoMap
from bridge.audio.midi import read_smf
from bridge.audio.synth import musical_smf, render_notes
from bridge.engines.base import GenerationContext, GenerationRequest, PreviousTake, Progress, Stem, no_progress
from bridge.engines.fit import finish
from bridge.music.parts import WRITERS, NoteEvent
from bridge.music.plan import Plan, make_plan
from bridge.music.prompt import parse_prompt
from bridge.music.styles import DEFAULT_STYLE, STYLES


class ArrangerEngine:
    name = "arranger"

    def generate(self, request: GenerationRequest, context: GenerationContext | None,
                 progress: Progress = no_progress) -> list[Stem]:
        request.validate()
        t0 = time.perf_counter()
        intent = parse_prompt(request.prompt)
        style = STYLES[intent.style or DEFAULT_STYLE]
        notes_about_tempo = []
        if context is None:
            bpm = intent.bpm or style.bpm
            context = GenerationContext(TempoMap.constant(request.sample_rate, bpm))
        elif intent.bpm is not None:
            notes_about_tempo.append(f"the prompt's {intent.bpm:g} BPM was not used: the session's tempo map wins")
        tm = context.tempo_map
        first_q = tm.quarters_at_bbt(request.first_bar)
        end_q = tm.quarters_at_bbt(request.last_bar + 1)
        meter = tm.meter_at_quarters(first_q)
        if tm.meter_at_quarters(end_q - 1e-6) is not meter:
            notes_about_tempo.append("the meter changes inside the bar range; the first bar's meter is used")
        plan = make_plan(intent, context.musical, request.bars, meter.bar_quarters, seed=request.seed,
                         density=request.density, complexity=request.complexity,
                         temperature=request.temperature, swing=request.swing,
                         locked_drums="drums" in context.locked_roles)
        plan.locked_pitches = list(context.locked_pitches)
        start = tm.samples_at_quarters(first_q)
        frames = tm.samples_at_quarters(end_q) - start
        stems = []
        t_write = t_render = t_norm = 0.0
        for i, role in enumerate(request.roles):
            progress(i / len(request.roles), f"writing {role}")
            tw = time.perf_counter()
            notes = WRITERS[role](plan)
            prev = request.previous.get(role)
            if prev is not None and prev.midi:
                notes = _keep_from_previous(notes, prev, plan, tm, first_q, request.loyalty, role)
            t_write += time.perf_counter() - tw
            progress((i + 0.3) / len(request.roles), f"rendering {role}")
            tr = time.perf_counter()
            drums = role == "drums"
            program = plan.programs.get(role, 0)
            audio = render_notes(notes, program, drums, tm, first_q, frames)
            t_render += time.perf_counter() - tr
            tn = time.perf_counter()
            audio, stem_start, lufs, tp = finish(audio, role, request, start, tm.sample_rate)
            t_norm += time.perf_counter() - tn
            tw = time.perf_counter()
            midi = musical_smf(notes, program, drums, tm, first_q, f"{role} ({plan.style.name})")
            t_write += time.perf_counter() - tw
            stems.append(Stem(role, audio, tm.sample_rate, stem_start, midi, {
                "engine": self.name, "seed": request.seed, "prompt": request.prompt,
                "first_bar": request.first_bar, "bars": request.bars, "loudness_lufs": round(lufs, 2),
                "true_peak_db": round(tp, 2), "program": program, "notes": len(notes),
                "understood": intent.understood(), "plan": plan.summary(), "tempo_source": context.source,
                "regenerated_from_previous": prev is not None, "warnings": notes_about_tempo,
            }))
        progress(1.0, "done")
        for s in stems:
            s.metadata["timings"] = {"write_s": round(t_write, 4), "render_s": round(t_render, 4),
                                     "normalise_s": round(t_norm, 4), "total_s": round(time.perf_counter() - t0, 4)}
        return stems


def _fit_pitch(pitch: int, plan: Plan, bar: int, on_beat: bool) -> int:
    """Move a kept note onto the current chord (on beats) or scale (between)."""
    pcs = plan.chords[bar].pitch_classes if on_beat else plan.key.scale
    return min((p for p in range(pitch - 6, pitch + 7) if p % 12 in pcs), key=lambda p: (abs(p - pitch), p))


def _keep_from_previous(notes: list[NoteEvent], prev: PreviousTake, plan: Plan, tm: TempoMap, first_q: float,
                        loyalty: float, role: str) -> list[NoteEvent]:
    """Bar by bar, with probability ``loyalty``, keep the previous take's notes: the same bar when
    it is inside the previous take (regeneration), else the matching bar of its last phrase
    (extension)."""
    old = read_smf(prev.midi)
    prev_q = tm.quarters_at_samples(prev.start)
    bq = plan.bar_quarters
    by_bar: dict[int, list[tuple[float, float, int, int]]] = {}
    for s, e, pitch, vel in old:
        q = prev_q + s - first_q  # quarters from our first bar
        b = int(np.floor(q / bq + 1e-9))
        by_bar.setdefault(b, []).append((q - b * bq, e - s, pitch, vel))
    if not by_bar:
        return notes
    prev_bars = sorted(by_bar)
    tail = prev_bars[-4:]
    rng = random.Random(f"{plan.seed}:{role}:loyalty")
    out = []
    for bar in range(plan.bars):
        mine = [n for n in notes if bar * bq <= n.start < (bar + 1) * bq]
        src = bar if bar in by_bar else (tail[(bar - prev_bars[-1] - 1) % len(tail)] if bar > prev_bars[-1] else None)
        if src is None or rng.random() >= loyalty:
            out += mine
            continue
        for off, dur, pitch, vel in by_bar[src]:
            if role != "drums":
                pitch = _fit_pitch(pitch, plan, bar, abs(off - round(off)) < 1e-6)
            out.append(NoteEvent(bar * bq + off, min(dur, (bar + 1) * bq - (bar * bq + off)), pitch, vel))
    return sorted(out, key=lambda n: (n.start, n.pitch))
