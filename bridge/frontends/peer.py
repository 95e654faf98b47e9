"""Who sent a UDP datagram: the user owning the sender's socket, from the kernel's socket tables
(``/proc/net/udp`` and ``udp6``, Linux). OSC has no authentication of its own; on one machine the
sender's socket owner is the authentication: the daemon answers only its own user (Ardour and the
Lua actions run as that user), so another local account cannot lock, generate into or read the
sessions of the daemon's user.

A sender on another machine has no entry here: it is refused, unless the user allows remote senders
explicitly (``[daemon] osc_allow_remote = true``).
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

TABLES = (Path("/proc/net/udp"), Path("/proc/net/udp6"))


def _hex_address(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """``0100007F:1F90`` (the kernel's little-endian words) -> (127.0.0.1, 8080)."""
    addr, port = text.split(":")
    raw = bytes.fromhex(addr)
    # each 32-bit word is in host (little-endian) order
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    ip = ipaddress.IPv4Address(words) if len(words) == 4 else ipaddress.IPv6Address(words)
    return ip, int(port, 16)


def _normal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def sender_uid(host: str, port: int, tables: tuple[Path, ...] = TABLES) -> int | None:
    """The uid owning the local UDP socket bound to (``host``, ``port``), or bound to any address on
    that port; None when no socket of this machine matches (a remote sender)."""
    try:
        want = _normal(ipaddress.ip_address(host))
    except ValueError:
        return None
    found = None
    for table in tables:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) < 8:
                continue
            try:
                ip, p = _hex_address(cols[1])
                uid = int(cols[7])
            except ValueError:
                continue
            if p != port:
                continue
            ip = _normal(ip)
            if ip == want:
                return uid
            if ip.is_unspecified:  # bound to 0.0.0.0 / ::, so it sends from every address
                found = uid
    return found


def is_local(host: str) -> bool:
    try:
        ip = _normal(ipaddress.ip_address(host))
    except ValueError:
        return False
    if ip.is_loopback:
        return True
    try:
        mine = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:
        mine = set()
    return str(ip) in mine
