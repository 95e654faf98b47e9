"""Starting `resonant serve` as a real process, and talking OSC to it over real UDP sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pythonosc.osc_message import OscMessage

from bridge.frontends.osc import build


def free_port() -> int:
    """A TCP port nobody listens on right now (for the daemon's MCP HTTP endpoint)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_daemon(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, int]:
    data_dir.mkdir(parents=True, exist_ok=True)
    # the log goes to a file: an unread pipe would fill up and block the daemon
    log = open(data_dir / f"daemon-{time.monotonic_ns()}.log", "w")  # noqa: SIM115 (lives with the process)
    if "--mcp-port" not in extra:
        extra = (*extra, "--mcp-port", "0")  # tests run several daemons: no fixed HTTP port
    proc = subprocess.Popen([sys.executable, "-m", "bridge.frontends.cli", "serve", "--osc-port", "0", "--data-dir",
                             str(data_dir), *extra], stdout=subprocess.PIPE, stderr=log, text=True,
                            env={**os.environ, **(env or {})})
    proc.log_path = Path(log.name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("resonant: ready osc="):
            return proc, int(line.split()[2].rsplit(":", 1)[1])
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"the daemon did not start: {proc.log_path.read_text()[-3000:]}")


class OscClient:
    def __init__(self, port: int, timeout: float = 5.0, host: str = "127.0.0.1") -> None:
        self.addr = (host, port)
        self.backlog: list[tuple[str, list[Any]]] = []  # pushed events that arrived before a reply
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(timeout)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def send(self, address: str, *args: Any) -> None:
        self.sock.sendto(build(address, list(args)), self.addr)

    def raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.addr)

    def recv(self) -> tuple[str, list[Any]]:
        if self.backlog:
            return self.backlog.pop(0)
        m = OscMessage(self.sock.recv(65536))
        return m.address, list(m.params)

    def ask(self, address: str, *args: Any) -> tuple[str, list[Any]]:
        """Send, and return the reply (same address) or error; pushed events are kept for later."""
        self.send(address, *args)
        while True:
            m = OscMessage(self.sock.recv(65536))
            msg = (m.address, list(m.params))
            if m.address in (address, "/resonant/error") or not m.address.startswith("/resonant/job/"):
                return msg
            self.backlog.append(msg)

    def until(self, pred, timeout: float = 60.0) -> list[tuple[str, list[Any]]]:
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.recv()
            except TimeoutError:
                continue
            got.append(msg)
            if pred(msg):
                return got
        raise AssertionError(f"no matching message in {timeout} s; got {got[-5:]}")

    def drain(self) -> int:
        n = 0
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(65536)
                n += 1
        except (BlockingIOError, OSError):
            pass
        finally:
            self.sock.settimeout(5.0)
        return n

    def close(self) -> None:
        self.sock.close()
