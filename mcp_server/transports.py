"""How the MCP server is reached.

- stdio (``resonant mcp``), for desktop clients that start the server themselves: the process runs
  its own ``BridgeService`` (and worker) in-process. It cooperates with a daemon running beside it
  through the session itself: every write takes the session's lock (``.resonant/lock``, flock) and
  re-checks that the file did not change, and each process recovers only the jobs it owns.
- streamable HTTP, served by the daemon on 127.0.0.1 (``--mcp-port``), with a bearer token.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from bridge.core.config import Config

log = logging.getLogger("resonant.mcp")


def mcp_token(config: Config) -> str:
    """The HTTP bearer token: RESONANT_MCP_TOKEN, else the one kept in the data folder (made once,
    readable only by the user)."""
    env = os.environ.get("RESONANT_MCP_TOKEN")
    if env:
        return env
    path = Path(config.data_dir) / "mcp-token"
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


async def run_stdio(config: Config) -> None:
    from bridge.core.service import BridgeService
    from mcp_server.server import build_server

    service = await BridgeService.start(config)
    try:
        await build_server(service).run_stdio_async()
    finally:
        await service.stop()


def http_server(service, config: Config, port: int):
    """A uvicorn server for the MCP endpoint at http://<bind>:<port>/mcp, token required. Run it with
    ``await server.serve()``; stop it with ``server.should_exit = True``."""
    import uvicorn

    from mcp_server.server import build_server

    url = f"http://{config.bind}:{port}/mcp"
    app = build_server(service, token=mcp_token(config), url=url).streamable_http_app(host=config.bind)
    server = uvicorn.Server(uvicorn.Config(app, host=config.bind, port=port, log_level="warning", lifespan="on"))
    log.info("MCP over HTTP at %s (bearer token in %s or RESONANT_MCP_TOKEN)", url,
             Path(config.data_dir) / "mcp-token")
    return server
