"""describe_session latency through MCP, next to the same service call made directly.

    .venv/bin/python bench/mcp_latency.py [-n 200]

Transports: in-process (the SDK's Client on the server object), stdio (`resonant mcp` as a
subprocess) and HTTP (a daemon's streamable HTTP endpoint with its bearer token). The session is the
Ardour-made session fixture (tests/fixtures/empty-ardour-7.3.ardour). Prints median and p99 in ms
and the ratio to the direct call.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2  # noqa: E402
from mcp import Client, StdioServerParameters  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from bridge.core.config import load_config
from bridge.core.service import BridgeService
from mcp_server.server import build_server  # noqa: E402
from tests.daemon_tools import free_port, start_daemon  # noqa: E402

ARGS = {"analyze": False}


async def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    song = tmp / "Song"
    song.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "empty-ardour-7.3.ardour",
                song / "Song.ardour")
    args = {"session": str(song), **ARGS}
    rows = {}
    svc = await BridgeService.start(load_config(data_dir=str(tmp / "d1"), env={}))
    try:
        rows["direct service call"] = await timed(lambda: svc.describe_session(str(song)), n)
        async with Client(build_server(svc)) as c:
            rows["MCP in-process"] = await timed(lambda: c.call_tool("describe_session", args), n)
    finally:
        await svc.stop()
    params = StdioServerParameters(command=sys.executable, args=["-m", "bridge.frontends.cli", "mcp", "--data-dir",
                                                                 str(tmp / "d2")])
    async with Client(params) as c:
        await c.call_tool("describe_session", args)
        rows["MCP stdio"] = await timed(lambda: c.call_tool("describe_session", args), n)
    port = free_port()
    proc, _ = start_daemon(tmp / "d3", "--mcp-port", str(port))
    try:
        token = (tmp / "d3" / "mcp-token").read_text().strip()
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as hc, \
                Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=hc)) as c:
            await c.call_tool("describe_session", args)
            rows["MCP HTTP"] = await timed(lambda: c.call_tool("describe_session", args), n)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    base = statistics.median(rows["direct service call"])
    print(f"describe_session, {n} calls each (ms)\n")
    print(f"{'path':<22} {'median':>8} {'p99':>8} {'median vs direct':>17}")
    for name, xs in rows.items():
        xs = sorted(xs)
        print(f"{name:<22} {statistics.median(xs):>8.2f} {xs[int(0.99 * (len(xs) - 1))]:>8.2f} "
              f"{statistics.median(xs) / base:>16.2f}x")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    import logging

    logging.getLogger("httpx2").setLevel(logging.WARNING)
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    asyncio.run(main(ap.parse_args().n))
