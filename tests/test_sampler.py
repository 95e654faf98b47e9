"""Rendering by one-shots (bridge.audio.sampler) against TinySoundFont run note by note: the same
parts must come out the same, chokes included."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.ardour.tempo import TempoMap
from bridge.audio.features import integrated_loudness
from bridge.music.parts import WRITERS
from bridge.music.plan import make_plan
from bridge.music.prompt import parse_prompt

pytest.importorskip("tinysoundfont", reason="scripts/setup installs it (pip --no-deps)")

from bridge.audio import synth  # noqa: E402

RATE = 48000


def timed_part(style: str, role: str, bars: int = 8):
    tm = TempoMap.constant(RATE, 120.0)
    plan = make_plan(parse_prompt(f"{style} 120 bpm"), bars, 4.0, seed=1, density=0.5, complexity=0.5,
                     temperature=0.5, swing=None)
    timed = []
    for n in WRITERS[role](plan):
        a = tm.samples_at_quarters(n.start)
        timed.append((int(round(a)), int(round(a)) + int(round(tm.samples_at_quarters(n.start + n.duration) - a)),
                      n.pitch, n.velocity))
    return timed, plan.kit if role == "drums" else plan.programs.get(role, 0), bars * 2 * RATE


def residual_db(ref: np.ndarray, got: np.ndarray) -> float:
    return 10 * np.log10(max(float(np.sum((ref - got) ** 2)), 1e-30) / float(np.sum(ref ** 2)))


@pytest.mark.parametrize("style,role", [
    ("metal", "drums"), ("house", "drums"), ("lo-fi hip hop", "drums"), ("orchestral", "harmony"),
    ("house", "harmony"), ("metal", "bass"), ("lo-fi hip hop", "melody"),
])
def test_one_shots_sound_like_the_synthesiser(style: str, role: str) -> None:
    timed, program, frames = timed_part(style, role)
    drums = role == "drums"
    direct = synth._render_tsf(timed, program, drums, RATE, frames, sampled=False)
    sampled = synth._render_tsf(timed, program, drums, RATE, frames, sampled=True)
    assert sampled.shape == direct.shape == (frames, 2) and sampled.dtype == np.float32
    # within -30 dB of the synthesiser's own rendering (velocity brightening shared within -40 dB
    # per note, the choke's release curve), and the same loudness
    assert residual_db(direct, sampled) < -30.0
    assert abs(integrated_loudness(sampled, RATE) - integrated_loudness(direct, RATE)) < 0.05


def test_a_closed_hi_hat_chokes_the_open_one() -> None:
    open_hat, closed_hat = 46, 42
    timed = [(0, 2400, open_hat, 100), (12000, 14400, closed_hat, 100)]
    direct = synth._render_tsf(timed, 0, True, RATE, RATE, sampled=False)
    sampled = synth._render_tsf(timed, 0, True, RATE, RATE, sampled=True)
    alone = synth._render_tsf(timed[:1], 0, True, RATE, RATE, sampled=False)
    late = slice(12000 + 960, 12000 + 4800)  # 20 to 100 ms after the closed hat
    only_closed = synth._render_tsf(timed[1:], 0, True, RATE, RATE, sampled=False)
    # the open hat was still ringing, and both renderings cut it: what is left is the closed hat
    assert np.abs(alone[late]).max() > 10 * np.abs(direct[late] - only_closed[late]).max()
    assert residual_db(direct, sampled) < -30.0


def test_a_note_longer_than_any_tail_is_held_to_its_end() -> None:
    timed = [(0, 30 * RATE, 60, 90), (RATE, 2 * RATE, 64, 90)]  # strings: a 30 s note under a short one
    direct = synth._render_tsf(timed, 48, False, RATE, 32 * RATE, sampled=False)
    sampled = synth._render_tsf(timed, 48, False, RATE, 32 * RATE, sampled=True)
    held = slice(25 * RATE, 26 * RATE)
    assert np.abs(direct[held]).max() > 0.01
    assert residual_db(direct, sampled) < -60.0
