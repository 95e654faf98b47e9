"""The embedded engine: a symbolic arranger rendered with a General MIDI SoundFont.

No GPU, no weights: the plan (form, key, chords, feel) is made once (``bridge.music``), each part is
written for its section, given a player's feel, rendered per stem at the session rate in stereo,
trimmed to the exact bar range and loudness-normalised with a true-peak ceiling. Regeneration keeps
what it should of the previous take (``loyalty``), takes its recipe as the starting point (an empty
prompt means "as before"), and joins new bars into it with short crossfades; bars past the previous
take's end continue it.
"""

from __future__ import annotations

import random
import time

import numpy as np

from bridge.ardour.tempo import TempoMap
from bridge.audio.features import integrated_loudness
from bridge.audio.midi import read_smf
from bridge.audio.stereo import WIDTH
from bridge.audio.synth import musical_smf, render_notes, soundfont_path
from bridge.engines.base import GenerationContext, GenerationRequest, PreviousTake, Progress, Stem, no_progress
from bridge.engines.fit import finish
from bridge.engines.recipe import effective
from bridge.music.feel import humanise
from bridge.music.parts import WRITERS, NoteEvent
from bridge.music.plan import Plan, SongInfo, make_plan


class ArrangerEngine:
    name = "arranger"

    def generate(self, request: GenerationRequest, context: GenerationContext | None,
                 progress: Progress = no_progress) -> list[Stem]:
        request.validate()
        t0 = time.perf_counter()
        eff = effective(request)  # the prompt read against the previous take's recipe
        intent = eff.intent
        notes_about_tempo = []
        if context is None:
            bpm = intent.bpm or eff.style.bpm
            context = GenerationContext(TempoMap.constant(request.sample_rate, bpm))
        elif intent.bpm is not None:
            notes_about_tempo.append(f"the prompt's {intent.bpm:g} BPM was not used: the session's tempo map wins")
        tm = context.tempo_map
        first_q = tm.quarters_at_bbt(request.first_bar)
        end_q = tm.quarters_at_bbt(request.last_bar + 1)
        meter = tm.meter_at_quarters(first_q)
        if tm.meter_at_quarters(end_q - 1e-6) is not meter:
            notes_about_tempo.append("the meter changes inside the bar range; the first bar's meter is used")
        song = context.song if isinstance(context.song, SongInfo) else SongInfo()
        song.first_bar = request.first_bar
        plan = make_plan(intent, request.bars, meter.bar_quarters, seed=request.seed, density=eff.density,
                         complexity=eff.complexity, temperature=eff.temperature, swing=eff.swing, song=song)
        plan.octave, plan.half_time = eff.octave, eff.half_time
        plan.decided.update(eff.decided)
        bpm = tm.bpm_at_samples(tm.samples_at_quarters(first_q))
        start = tm.samples_at_quarters(first_q)
        frames = tm.samples_at_quarters(end_q) - start
        stems = []
        t_write = t_render = t_norm = 0.0
        for i, role in enumerate(request.roles):
            progress(i / len(request.roles), f"writing {role}")
            tw = time.perf_counter()
            notes = humanise(WRITERS[role](plan), plan, role, bpm)
            prev = request.previous.get(role)
            if prev is not None and prev.midi:
                like = _like_bars(eff.intent.like, plan)
                if like is not None:
                    plan.decided["model"] = f"bars {like[0]}-{like[1]} of the previous take (the prompt's 'like')"
                notes = _keep_from_previous(notes, prev, plan, tm, first_q,
                                            max(request.loyalty, 0.9) if like else request.loyalty, role, like)
            t_write += time.perf_counter() - tw
            progress((i + 0.3) / len(request.roles), f"rendering {role}")
            tr = time.perf_counter()
            drums = role == "drums"
            program = plan.kit if drums else plan.programs.get(role, 0)
            audio = render_notes(notes, program, drums, tm, first_q, frames, WIDTH.get(role))
            t_render += time.perf_counter() - tr
            tn = time.perf_counter()
            raw_lufs = integrated_loudness(audio, tm.sample_rate)
            audio, stem_start, lufs, tp = finish(audio, role, request, start, tm.sample_rate, eff.loudness_db)
            # the gain the synth's output got: a MIDI track of the part plays its synth at this level
            level_db = round(lufs - raw_lufs, 2) if raw_lufs is not None and lufs is not None else 0.0
            t_norm += time.perf_counter() - tn
            tw = time.perf_counter()
            take_q, take_notes = first_q, notes
            if prev is not None and stem_start != start:
                # the take's MIDI is the whole take, like its audio: the old notes around the new bars
                take_q = tm.quarters_at_samples(stem_start)
                take_notes = _merged(prev, notes, take_q, first_q, end_q, tm)
            midi = musical_smf(take_notes, program, drums, tm, take_q, f"{role} ({plan.style.name})")
            t_write += time.perf_counter() - tw
            stems.append(Stem(role, audio, tm.sample_rate, stem_start, midi, {
                "engine": self.name, "seed": request.seed, "prompt": request.prompt,
                "first_bar": request.first_bar, "bars": request.bars, "loudness_lufs": round(lufs, 2),
                "true_peak_db": round(tp, 2), "program": program, "notes": len(notes),
                "understood": intent.understood(), "plan": plan.summary(), "tempo_source": context.source,
                "regenerated_from_previous": prev is not None, "previous_notes": bool(prev is not None and prev.midi),
                "previous_recipe": bool(prev is not None and prev.recipe), "warnings": notes_about_tempo + eff.warnings,
                "recipe": eff.recipe(plan, role, program, lufs),
                "soundfont": str(soundfont_path()),  # what a MIDI track of this part plays with (the same sound)
                "synth_level_db": level_db,
            }))
        progress(1.0, "done")
        for s in stems:
            s.metadata["timings"] = {"write_s": round(t_write, 4), "render_s": round(t_render, 4),
                                     "normalise_s": round(t_norm, 4), "total_s": round(time.perf_counter() - t0, 4)}
        return stems


def _fit_pitch(pitch: int, plan: Plan, bar: int, step: float, on_beat: bool) -> int:
    """Move a kept note onto the current chord (on beats) or scale (between)."""
    pcs = plan.chord(bar, step).pitch_classes if on_beat else plan.key.scale
    return min((p for p in range(pitch - 6, pitch + 7) if p % 12 in pcs), key=lambda p: (abs(p - pitch), p))


def _merged(prev: PreviousTake, notes: list[NoteEvent], take_q: float, first_q: float, end_q: float,
            tm: TempoMap) -> list[NoteEvent]:
    """The previous take's notes outside the regenerated quarters, and the new ones inside, all in
    quarters from ``take_q`` (the take's first sample)."""
    out = [NoteEvent(first_q - take_q + n.start, n.duration, n.pitch, n.velocity, n.pan) for n in notes]
    if prev.midi:
        prev_q = tm.quarters_at_samples(prev.start)
        early = 0.06  # a note played just before a bar line belongs to the bar it leads into
        for s, e, pitch, vel in read_smf(prev.midi):
            a, b = prev_q + s, prev_q + e
            if a < first_q - early:
                out.append(NoteEvent(a - take_q, max(0.05, min(b, first_q) - a), pitch, vel))
            elif a >= end_q - early:
                out.append(NoteEvent(a - take_q, b - a, pitch, vel))
    return sorted(out, key=lambda n: (n.start, n.pitch))


def _like_bars(like, plan: Plan) -> tuple[int, int] | None:
    """The song bars a "like the chorus" / "like bars 9-12" points at (a section other than the one
    being written, where there is one)."""
    if isinstance(like, tuple):
        return like
    if isinstance(like, str):
        mine = {plan.section(i)[0] for i in range(plan.bars)}
        cands = [s for s in plan.form.sections if s.kind == like]
        pick = next((s for s in cands if s not in mine), cands[0] if cands else None)
        if pick is not None:
            return pick.first_bar, pick.last_bar
    return None


def _keep_from_previous(notes: list[NoteEvent], prev: PreviousTake, plan: Plan, tm: TempoMap, first_q: float,
                        loyalty: float, role: str, like: tuple[int, int] | None = None) -> list[NoteEvent]:
    """Bar by bar, with probability ``loyalty``, keep the previous take's notes: the same bar when
    it is inside the previous take (regeneration), else the matching bar of its last phrase
    (extension); with ``like`` (song bars), the matching bar of that passage."""
    old = read_smf(prev.midi)
    prev_q = tm.quarters_at_samples(prev.start)
    bq = plan.bar_quarters
    by_bar: dict[int, list[tuple[float, float, int, int]]] = {}
    # a note played a little early (a human feel) belongs to the bar it leads into
    early = 0.06
    for s, e, pitch, vel in old:
        q = prev_q + s - first_q  # quarters from our first bar
        b = int(np.floor((q + early) / bq + 1e-9))
        by_bar.setdefault(b, []).append((q - b * bq, e - s, pitch, vel))
    if not by_bar:
        return notes
    prev_bars = sorted(by_bar)
    tail = prev_bars[-4:]
    rng = random.Random(f"{plan.seed}:{role}:loyalty")
    out = []
    for bar in range(plan.bars):
        mine = [n for n in notes if bar * bq <= n.start + early < (bar + 1) * bq]
        src = bar if bar in by_bar else (tail[(bar - prev_bars[-1] - 1) % len(tail)] if bar > prev_bars[-1] else None)
        if like is not None:
            cand = like[0] - plan.first_bar + bar % (like[1] - like[0] + 1)
            src = cand if cand in by_bar else src
        if src is None or rng.random() >= loyalty:
            out += mine
            continue
        for off, dur, pitch, vel in by_bar[src]:
            if role != "drums":
                pitch = _fit_pitch(pitch, plan, bar, off * 4, abs(off - round(off)) < 1e-6)
            out.append(NoteEvent(bar * bq + off, min(dur, (bar + 1) * bq - (bar * bq + off)), pitch, vel))
    return sorted(out, key=lambda n: (n.start, n.pitch))
