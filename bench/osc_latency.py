"""OSC round trips to a running daemon: /resonant/ping median and p99 over N messages, idle and
while a generation job is running, plus sustained commands per second.

    .venv/bin/python bench/osc_latency.py [-n 10000]

Starts its own `resonant serve` on a free port with a temporary data folder. Target (issue 5):
p99 under 5 ms both idle and during generation.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.daemon_tools import OscClient, start_daemon  # noqa: E402


def round_trips(c: OscClient, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.send("/resonant/ping")
        while c.recv()[0] != "/resonant/ping":
            pass
        out.append((time.perf_counter() - t0) * 1000)
    return out


def stats(xs: list[float]) -> tuple[float, float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[int(0.99 * (len(xs) - 1))], xs[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_daemon(Path(tmp) / "data")
        try:
            c = OscClient(port)
            round_trips(c, 200)  # warm up
            idle = round_trips(c, args.n)
            # sustained: as many pings as answered in 3 s, one outstanding at a time
            t0, count = time.perf_counter(), 0
            while time.perf_counter() - t0 < 3.0:
                round_trips(c, 50)
                count += 50
            rate = count / (time.perf_counter() - t0)
            job_client = OscClient(port)
            _, (job,) = job_client.ask("/resonant/generate", "", "drums,bass,harmony,melody", "metal", 256)
            time.sleep(1.0)
            busy = round_trips(c, args.n)
            status = job_client.ask("/resonant/job/status", job)[1][1]
            job_client.ask("/resonant/job/cancel", job)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    print(f"/resonant/ping round trip over {args.n} messages (ms)\n")
    print(f"{'condition':<28} {'median':>8} {'p99':>8} {'max':>8}")
    for name, xs in (("idle", idle), (f"generating (job {status})", busy)):
        med, p99, mx = stats(xs)
        print(f"{name:<28} {med:>8.3f} {p99:>8.3f} {mx:>8.2f}")
    print(f"\nsustained: {rate:,.0f} commands/s (one in flight); p99 busy / idle = "
          f"{stats(busy)[1] / stats(idle)[1]:.2f}x")


if __name__ == "__main__":
    main()
