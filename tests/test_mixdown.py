"""The bridge hears a session as Ardour plays it: a null test against ardour7-export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bridge.ardour import read_session
from bridge.audio.curves import CurveEval, default_fade
from bridge.audio.mixdown import render
from tests.ardour_tools import export

# ardour7-export starts the transport at the session start and declicks the first ~2200 samples
# (a fade-in of the whole master output, seen as a ramp 256-2200); that is transport behaviour, not
# region playback, so the comparison starts after it.
DECLICK = 4096


def _residual_db(ours: np.ndarray, theirs: np.ndarray) -> float:
    n = min(len(ours), len(theirs))
    o, t = ours[DECLICK:n], theirs[DECLICK:n]
    return 10 * np.log10(np.sum((o - t) ** 2) / np.sum(t ** 2))


@pytest.mark.ardour
def test_mixdown_nulls_against_ardour_export(recorded_session: Path, tmp_path: Path) -> None:
    s = read_session(recorded_session)
    regions = [r for t in s.tracks for r in s.regions_of(t)]
    # the session exercises what the renderer must get right
    assert any(r.envelope_active and len(r.envelope.points) >= 3 for r in regions)
    assert any(not r.fade_in.curve.default and r.fade_in.length >= 4800 for r in regions)
    assert any(r.fade_out.length >= 6000 for r in regions)
    assert any(r.muted for r in regions) and any(not r.opaque for r in regions)
    assert any(r.layer > 0 for r in regions) and any(r.start > 0 for r in regions)
    assert {t.n_inputs for t in s.tracks} == {1, 2}
    assert any(t.muted for t in s.tracks) and any(t.gain != 1 for t in s.tracks)
    assert any(t.pan_azimuth != 0.5 for t in s.tracks)

    theirs, rate = export(recorded_session, "Recorded", tmp_path / "ardour.wav")
    ours = render(s)
    assert rate == s.sample_rate and ours.shape == theirs.shape
    assert np.sum(theirs[DECLICK:] ** 2) > 1.0, "the export is (nearly) silent"
    assert _residual_db(ours, theirs) < -50


@pytest.mark.ardour
def test_default_fades_equal_ardours_own(recorded_session: Path) -> None:
    """A default 64-sample fade, as Ardour saves it, equals the one the bridge builds."""
    s = read_session(recorded_session)
    k = s.tempo_map.scps / s.sample_rate
    saved = next(r.fade_in for t in s.tracks for r in s.regions_of(t) if r.fade_in.length == 64)
    ours, _ = default_fade(64, True, k)
    assert np.allclose(ours.x, [p[0] * k for p in saved.curve.points])
    assert np.allclose(ours.y, [p[1] for p in saved.curve.points], rtol=1e-6)


def test_curve_sampling_matches_ardour_rules() -> None:
    # two points, linear: n points from x0 to x1 inclusive
    c = CurveEval([0.0, 100.0], [0.0, 1.0], "Linear")
    assert np.allclose(c.vector(0, 100, 5), [0, 0.25, 0.5, 0.75, 1.0])
    # exponential (gain-fader domain) passes through its end points
    e = CurveEval([0.0, 100.0], [0.25, 1.0], "Exponential")
    v = e.vector(0, 100, 3)
    assert v[0] == pytest.approx(0.25, abs=1e-6) and v[-1] == pytest.approx(1.0, abs=1e-6)
    assert 0.25 < v[1] < 0.625  # below the straight line: it moves in dB, not linearly
    # before the first / after the last point: the end values
    assert np.allclose(c.vector(200, 300, 4), 1.0) and np.allclose(c.vector(-300, -200, 4), 0.0)
    # a constrained spline goes through its points and does not overshoot a monotonic fade
    f, _ = default_fade(4800, True, 1.0)
    xs = np.linspace(0, 4800, 4801)
    ys = f.vector(0, 4800, 4801)
    assert np.all(np.diff(ys) >= -1e-9) and ys[0] == pytest.approx(1e-7) and ys[-1] == pytest.approx(1.0)
    assert np.interp(f.x[5], xs, ys) == pytest.approx(f.y[5], abs=1e-6)


def test_rendering_in_blocks_matches_one_read(recorded_session: Path, monkeypatch) -> None:
    """Renders go in blocks (bounded memory for long songs). Layers and regions are positional; a
    fade or envelope cut by a block edge is sampled per read, as in Ardour itself (its curves are
    evaluated per process cycle), so blocks differ from one read by less than -90 dBFS, far under
    the -78 dB the mixdown nulls against Ardour's export."""
    from bridge.audio import mixdown

    s = read_session(recorded_session)
    monkeypatch.setattr(mixdown, "RENDER_BLOCK", 1 << 30)
    whole = mixdown.render(s)
    for block in (4096, 48000 + 17):
        monkeypatch.setattr(mixdown, "RENDER_BLOCK", block)
        assert float(np.max(np.abs(mixdown.render(s) - whole))) < 10 ** (-90 / 20), block
    monkeypatch.setattr(mixdown, "RENDER_BLOCK", 1 << 20)  # the default: this song fits one block
    assert np.array_equal(mixdown.render(s), whole)
