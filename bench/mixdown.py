"""Render and analysis speed: 8 tracks x 3 minutes, as a multiple of real time.

    .venv/bin/python bench/mixdown.py [--minutes 3] [--tracks 8]

Runs on one core (BLAS/FFT threads pinned to 1). The session: an Ardour-made empty session
(tests/fixtures) with N tracks (alternately mono and stereo), each playing one file in 24
overlapping regions with default fades, every third region transparent, one envelope per track.
Baseline, measured in the same run: reading the same audio files with soundfile (the floor any
renderer pays). Targets (issue 3): render over 200x real time on one core.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
from lxml import etree  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.ardour import Clip, SessionEditor, read_session  # noqa: E402
from bridge.audio.analysis import analyze  # noqa: E402
from bridge.audio.mixdown import render  # noqa: E402

RATE = 48000
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "empty-ardour-7.3.ardour"


def build(folder: Path, tracks: int, seconds: float) -> Path:
    folder.mkdir(parents=True)
    (folder / "Bench.ardour").write_bytes(FIXTURE.read_bytes())
    rng = np.random.default_rng(0)
    n = int(seconds * RATE)
    ed = SessionEditor(read_session(folder))
    for i in range(tracks):
        ch = 1 + i % 2
        wav = folder.parent / f"t{i}.wav"
        t = np.arange(n) / RATE
        data = 0.2 * np.sin(2 * np.pi * (110 * (i + 1)) * t)[:, None] + 0.01 * rng.standard_normal((n, ch))
        sf.write(str(wav), data.astype(np.float32), RATE, subtype="FLOAT")
        ed.add_audio_track(f"Track {i}", [Clip(wav, 0)], role="other", locked=True)
    ed.commit()
    # Split every playlist into 24 overlapping regions (as edited sessions are) by rewriting the XML.
    file = folder / "Bench.ardour"
    root = etree.parse(str(file)).getroot()
    k = 282240000 // RATE
    for pl in root.find("Playlists"):
        (reg,) = pl.findall("Region")
        pl.remove(reg)
        step = n // 24
        for j in range(24):
            r = etree.SubElement(pl, "Region", dict(reg.attrib))
            start, length = j * step, min(step + RATE // 10, n - j * step)
            r.set("name", f"{reg.get('name')}.{j}")
            r.set("id", str(900000 + 100 * int(pl.get("id")) + j))
            r.set("start", f"a{start * k}")
            r.set("length", f"a{length * k}@a{start * k}")
            r.set("layering-index", str(j))
            r.set("opaque", "0" if j % 3 == 2 else "1")
            for tag in ("Envelope", "FadeIn", "FadeOut"):
                etree.SubElement(r, tag, {"default": "yes"})
    file.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return folder


def timed(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--tracks", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory() as tmp:
        folder = build(Path(tmp) / "Bench", args.tracks, seconds)
        s = read_session(folder)
        files = sorted({str(src.path) for src in s.sources.values() if src.path})
        t_read = timed(lambda: [sf.read(f, dtype="float32") for f in files], args.repeat)
        t_render = timed(lambda: render(s), args.repeat)
        t_analyze = timed(lambda: analyze(s), 1)
    rows = [("read the files (baseline)", t_read), ("render (mixdown)", t_render),
            ("analyze (render + features)", t_analyze)]
    print(f"{args.tracks} tracks x {seconds:.0f} s, 24 regions per track, one core\n")
    print(f"{'step':<30} {'seconds':>8} {'x real time':>12} {'vs baseline':>12}")
    for name, t in rows:
        print(f"{name:<30} {t:>8.3f} {seconds / t:>11.0f}x {t / t_read:>11.2f}x")


if __name__ == "__main__":
    main()
