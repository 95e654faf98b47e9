"""A client for Ardour's own OSC surface (UDP 3819 by default), to confirm what Ardour sees.

Ardour replies to queries with ``#reply`` messages, which python-osc's dispatcher drops; the
client asks for ``/reply`` instead (feedback bit 16384 in ``/set_surface``) and also reads raw
datagrams, so either form works (ardour-in-tests.md, "Ardour's OSC surface").
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.errors import BridgeError

FEEDBACK_REPLY = 16384  # send /reply instead of #reply
STRIP_TYPES = 1 | 2 | 4 | 8 | 16 | 128  # audio/midi tracks and busses, VCAs, master


def _message(address: str, args: list[Any]) -> bytes:
    """An OSC message for Ardour's surface: it takes ints (32-bit), floats and strings."""
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(int(a) if isinstance(a, bool) else a, "i" if isinstance(a, bool | int) else
                  "f" if isinstance(a, float) else "s")
    return b.build().dgram


class ArdourUnreachable(BridgeError):
    code = "ardour_unreachable"


@dataclass(frozen=True)
class Strip:
    kind: str  # AT audio track, MT midi track, B bus, ...
    name: str
    inputs: int
    outputs: int
    muted: bool
    soloed: bool
    ssid: int
    rec: bool


class ArdourOsc:
    def __init__(self, host: str = "127.0.0.1", port: int = 3819, timeout: float = 2.0) -> None:
        self.addr = (host, port)
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1" if host in ("127.0.0.1", "localhost") else "0.0.0.0", 0))
        self.sock.settimeout(timeout)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> ArdourOsc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, address: str, *args: Any) -> None:
        self.sock.sendto(_message(address, list(args)), self.addr)

    def _recv(self, deadline: float) -> tuple[str, list[Any]] | None:
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, ConnectionRefusedError, OSError):
            return None
        try:
            m = OscMessage(data)
        except Exception:
            return None
        return m.address, list(m.params)

    def set_surface(self) -> None:
        """Register this client: replies to our own port, /reply instead of #reply."""
        # bank size 0 (all strips), strip types, feedback, fader mode, send and plugin page sizes, port 0 = ours
        self.send("/set_surface", 0, STRIP_TYPES, FEEDBACK_REPLY, 0, 0, 0, 0)

    def strip_list(self) -> tuple[list[Strip], dict[str, int]]:
        """Ardour's strips, and the session info that ends the list (sample rate, end, monitor)."""
        self.set_surface()
        self.send("/strip/list")
        strips: list[Strip] = []
        deadline = time.monotonic() + self.timeout
        while (msg := self._recv(deadline)) is not None:
            addr, args = msg
            if addr not in ("/reply", "#reply") or not args:
                continue
            if args[0] == "end_route_list":
                return strips, {"sample_rate": int(args[1]), "session_end": int(args[2]),
                                "has_monitor": int(args[3]) if len(args) > 3 else 0}
            if len(args) >= 8:
                strips.append(Strip(str(args[0]), str(args[1]), int(args[2]), int(args[3]), bool(args[4]),
                                    bool(args[5]), int(args[6]), bool(args[7])))
        raise ArdourUnreachable(f"Ardour's OSC surface at {self.addr[0]}:{self.addr[1]} did not answer /strip/list"
                                " (is Ardour running with OSC enabled in Preferences > Control Surfaces?)")

    def transport_frame(self) -> int:
        self.send("/transport_frame")
        deadline = time.monotonic() + self.timeout
        while (msg := self._recv(deadline)) is not None:
            if msg[0] == "/transport_frame" and msg[1]:
                return int(msg[1][0])
        raise ArdourUnreachable("no /transport_frame reply from Ardour")

    def play(self) -> None:
        self.send("/transport_play")

    def stop(self) -> None:
        self.send("/transport_stop")

    def locate(self, sample: int, roll: bool = False) -> None:
        self.send("/locate", int(sample), int(roll))

    def add_marker(self) -> None:
        self.send("/add_marker")

    def save_state(self) -> None:
        """Ask Ardour to save the session (what a delivery into an open session waits for)."""
        self.send("/save_state")
