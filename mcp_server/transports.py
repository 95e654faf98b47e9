"""How the MCP server is reached.

- stdio (``resonant mcp``), for desktop clients that start the server themselves: the process runs
  its own ``BridgeService`` (and worker) in-process. It cooperates with a daemon running beside it
  through the session itself: every write takes the session's lock (``.resonant/lock``, flock) and
  re-checks that the file did not change, and each process recovers only the jobs it owns.
- streamable HTTP, served by the daemon on 127.0.0.1 (``--mcp-port``), with a bearer token.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import socket
import stat
from pathlib import Path

from mcp.server.transport_security import TransportSecuritySettings

from bridge.core.config import Config
from bridge.errors import InvalidInput

log = logging.getLogger("resonant.mcp")


MIN_TOKEN_CHARS = 32  # token_urlsafe(32) makes 43; anything shorter is guessable


def mcp_token(config: Config) -> str:
    """The HTTP bearer token: RESONANT_MCP_TOKEN, else the one kept in the data folder (made once,
    0600). A token that is short, or a file that is not the user's own private regular file, is
    refused with the fix: anyone who can read it can drive the daemon."""
    env = os.environ.get("RESONANT_MCP_TOKEN")
    if env is not None:
        if len(env.strip()) < MIN_TOKEN_CHARS:
            raise InvalidInput(f"RESONANT_MCP_TOKEN is {len(env.strip())} characters; use at least {MIN_TOKEN_CHARS}"
                               " random ones (python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return env.strip()
    path = Path(config.data_dir) / "mcp-token"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return _new_token(path)
    except OSError as e:
        raise InvalidInput(f"{path} cannot be read safely ({e.strerror}; a symlink is refused): delete it and"
                           " restart, and a new token is made") from None
    with os.fdopen(fd) as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            raise InvalidInput(
                f"{path} must be a regular file of your own that only you can read (it is mode"
                f" {st.st_mode & 0o777:o}, owner uid {st.st_uid}): delete it and restart to get a new one, or"
                f" chmod 600 {path} if you made it yourself")
        token = f.read(4096).strip()
    if len(token) < MIN_TOKEN_CHARS:
        raise InvalidInput(f"the token in {path} is {len(token)} characters, too short to be secret: delete the"
                           f" file and restart to get a new one (or write at least {MIN_TOKEN_CHARS} random ones)")
    return token


def _new_token(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def transport_security(bind: str) -> TransportSecuritySettings:
    """DNS-rebinding protection for every bind, not only the loopback names the SDK knows: the Host
    (and any Origin) must name the address the daemon listens on, or this machine's loopback."""
    hosts = {"127.0.0.1", "localhost", "[::1]"}
    try:
        ip = ipaddress.ip_address(bind)
    except ValueError:
        hosts.add(bind)  # a host name
    else:
        if ip.is_unspecified:  # every interface: this machine's own names and addresses
            hosts.add(socket.gethostname())
            try:
                hosts |= {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None)}
            except OSError:
                pass
        else:
            hosts.add(f"[{bind}]" if ip.version == 6 else bind)
    hosts = {f"[{h}]" if ":" in h and not h.startswith("[") else h for h in hosts}
    allowed = sorted({f"{h}:*" for h in hosts} | hosts)
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=allowed,
                                     allowed_origins=sorted({f"http://{h}" for h in allowed}))


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
    app = build_server(service, token=mcp_token(config), url=url).streamable_http_app(
        host=config.bind, transport_security=transport_security(config.bind))
    server = uvicorn.Server(uvicorn.Config(app, host=config.bind, port=port, log_level="warning", lifespan="on"))
    log.info("MCP over HTTP at %s (bearer token in %s or RESONANT_MCP_TOKEN)", url,
             Path(config.data_dir) / "mcp-token")
    return server
