"""``resonant serve``: the composition of config, job store, worker, service and OSC server,
with a clean stop on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bridge.core.config import Config
from bridge.core.service import BridgeService
from bridge.errors import BridgeError
from bridge.frontends.osc import serve_osc

log = logging.getLogger("resonant")


async def run(config: Config) -> None:
    if config.mcp_port:
        from mcp_server.transports import mcp_token

        try:
            mcp_token(config)  # a weak or exposed token stops the start, with the fix
        except BridgeError as e:
            raise SystemExit(f"resonant: {e.message}") from None
    service = await BridgeService.start(config)
    transport, _ = await serve_osc(service, config.bind, config.osc_port, config.osc_allow_remote)
    host, port = transport.get_extra_info("sockname")[:2]
    # where Ardour's hook sends its acknowledgements: Ardour runs on this machine
    reply_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    service.set_reply_address(f"osc.udp://{reply_host}:{port}")
    log.info("OSC on %s:%d; data in %s; session roots: %s", host, port, config.data_dir,
             ", ".join(map(str, config.session_roots)) or "anywhere")
    http = http_server = None
    if config.mcp_port:
        from mcp_server.transports import http_server as make_http

        http_server = make_http(service, config, config.mcp_port)
        http = asyncio.create_task(http_server.serve())
        while not http_server.started and not http.done():
            await asyncio.sleep(0.02)
        if http.done():
            http.result()
            raise SystemExit(f"resonant: MCP HTTP could not listen on {config.bind}:{config.mcp_port}")
    # one machine-readable line for scripts and tests that start the daemon
    print(f"resonant: ready osc={host}:{port}" + (f" mcp={config.bind}:{config.mcp_port}" if http else ""),
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    transport.close()
    if http is not None:
        http_server.should_exit = True
        await asyncio.gather(http, return_exceptions=True)
    await service.stop()
    log.info("stopped")


class _QuietOscLibrary(logging.Filter):
    """python-osc logs a warning on the root logger for every malformed datagram; the daemon
    answers those with /resonant/error already, so they would only flood the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pythonosc" not in record.pathname


def serve(config: Config) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().addFilter(_QuietOscLibrary())
    asyncio.run(run(config))
    return 0
