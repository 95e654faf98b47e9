"""The MusicGen engine: seconds of compute per second of audio, per role and batched.

    .venv/bin/python bench/musicgen.py MODEL_DIR [--bars 8] [--repeat 2] [--separator none]
    .venv/bin/python bench/musicgen.py --tiny /tmp/tiny-musicgen     # builds the test-sized model first

MODEL_DIR is a folder with state_dict.bin and compression_state_dict.bin (or a model id already in
the Hugging Face cache). Runs on whatever device the engine picks (a GPU when torch sees one).
The model is loaded and warmed up once, outside the timings. Rows: each role alone, then all four
roles in one request (one batched generate call). The baseline, measured in the same run, is one
role alone: the batched row's "vs one role" is its wall time over four single-role runs, so under
1 means batching pays. The arranger on the same request is printed as a second reference.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.engines import GenerationRequest, get_engine  # noqa: E402

ROLES = ["drums", "bass", "harmony", "melody"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", help="MusicGen model folder (or cached id)")
    ap.add_argument("--tiny", type=Path, help="build the tests' tiny model (and tiny demucs) here and use it")
    ap.add_argument("--bars", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--separator", default=None, help="demucs model or none (default: the engine's setting)")
    args = ap.parse_args()
    if args.tiny:
        from bridge.engines.musicgen import compat

        compat.prepare()
        from tests.musicgen_tools import build_tiny_htdemucs, build_tiny_musicgen

        os.environ["TORCH_HOME"] = str(args.tiny / "torch")
        build_tiny_htdemucs(args.tiny / "torch")
        args.model = str(build_tiny_musicgen(args.tiny / "model"))
    if not args.model:
        ap.error("give MODEL_DIR or --tiny DIR")
    os.environ["RESONANT_MUSICGEN_MODEL"] = args.model
    if args.separator is not None:
        os.environ["RESONANT_SEPARATOR"] = args.separator
    engine = get_engine("musicgen")
    print(engine.probe())
    t = time.perf_counter()
    warm = engine.generate(GenerationRequest(roles=["drums"], bars=1), None)[0]
    print(f"model load + warm-up: {time.perf_counter() - t:.2f} s "
          f"(load {warm.metadata['timings']['model_load_s']:.2f} s)")
    seconds = args.bars * 4 * 60 / 120  # 120 BPM, 4/4

    def run(roles: list[str], name: str = "musicgen") -> tuple[float, dict]:
        times, last = [], None
        for i in range(args.repeat):
            req = GenerationRequest(roles=roles, bars=args.bars, prompt="funk 120 bpm", seed=i)
            t0 = time.perf_counter()
            last = get_engine(name).generate(req, None)
            times.append(time.perf_counter() - t0)
        return statistics.median(times), last[0].metadata["timings"]

    rows = []
    single = {}
    for role in ROLES:
        wall, tm = run([role])
        single[role] = wall
        rows.append((role, seconds, wall, wall / seconds, 1.0, tm))
    base = statistics.mean(single.values())
    wall, tm = run(ROLES)
    rows.append(("4 roles batched", 4 * seconds, wall, wall / (4 * seconds), wall / (4 * base), tm))
    aw, atm = run(ROLES, "arranger")
    print(f"\n{args.bars} bars at 120 BPM = {seconds:g} s per stem; median of {args.repeat}; "
          f"device {warm.metadata['device']}\n")
    print(f"{'case':<18}{'audio s':>9}{'wall s':>9}{'s per s':>9}{'vs one role':>13}"
          f"{'generate s':>12}{'fit+sep s':>11}")
    for name, audio_s, w, per, ratio, tm in rows:
        print(f"{name:<18}{audio_s:>9.1f}{w:>9.3f}{per:>9.4f}{ratio:>13.2f}{tm['generate_s']:>12.3f}"
              f"{tm['fit_s']:>11.3f}")
    print(f"{'arranger, 4 roles':<18}{4 * seconds:>9.1f}{aw:>9.3f}{aw / (4 * seconds):>9.4f}{aw / (4 * base):>13.2f}")


if __name__ == "__main__":
    main()
