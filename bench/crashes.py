"""SIGKILL at random points of bridge writes, counted.

    .venv/bin/python bench/crashes.py [--cli 200] [--daemon 50] [--seed 1]

CLI: ``resonant session add-track`` killed at a random moment, then the next add-track run to its
end. Daemon: a generate into a closed session, the daemon killed while the job runs or delivers,
then restarted. Races: two daemons (and the CLI and a daemon) regenerating one track at once.
After each round: the session reads, no temp file of the bridge's naming is left,
no unreferenced audio, the job's final state matches the session. Prints the rounds, the findings
and the time per round.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import crash_tools  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", type=int, default=200)
    ap.add_argument("--daemon", type=int, default=50)
    ap.add_argument("--races", type=int, default=24, help="rounds of two daemons, and of CLI + daemon")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="resonant-crashes-"))
    try:
        folder = crash_tools.make_session(tmp)
        wav = crash_tools.tone(tmp)
        t0 = time.perf_counter()
        cli_found = []
        for i in range(args.cli):
            cli_found += [f"cli {i}: {p}" for p in crash_tools.cli_kill_round(folder, wav, i, rng)]
        t_cli = time.perf_counter() - t0
        t0 = time.perf_counter()
        states: Counter[str] = Counter()
        daemon_found = []
        for i in range(args.daemon):
            song = crash_tools.make_session(tmp, f"Song{i}")
            state, found = crash_tools.daemon_kill_round(tmp, song, tmp / "data", rng)
            states[state] += 1
            daemon_found += [f"daemon {i}: {p}" for p in found]
        t_daemon = time.perf_counter() - t0
        t0 = time.perf_counter()
        race_daemons = crash_tools.race_rounds(tmp, args.races, with_cli=False) if args.races else []
        race_cli = crash_tools.race_rounds(tmp, args.races, with_cli=True) if args.races else []
        t_race = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'kills':>18} {'rounds':>7} {'findings':>9} {'s/round':>8}")
    print(f"{'CLI add-track':>18} {args.cli:7d} {len(cli_found):9d} {t_cli / max(1, args.cli):8.2f}")
    print(f"{'daemon delivering':>18} {args.daemon:7d} {len(daemon_found):9d} {t_daemon / max(1, args.daemon):8.2f}")
    print(f"{'2 daemons racing':>18} {args.races:7d} {len(race_daemons):9d} {t_race / max(1, 2 * args.races):8.2f}")
    print(f"{'CLI + daemon racing':>18} {args.races:7d} {len(race_cli):9d}")
    print("job states after restart:", dict(states))
    for f in cli_found + daemon_found + race_daemons + race_cli:
        print("  ", f)


if __name__ == "__main__":
    main()
