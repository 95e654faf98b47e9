"""The daemon's OSC surface: a table of addresses under /resonant/, each a thin call into
``BridgeService``. Replies go to the sender and reuse the query's address; every error is
``/resonant/error <address> <code> <message>``; subscribers get job progress pushed to them.

No datagram can raise out of ``datagram_received``: parsing, argument checks and handlers are
all inside one guard, and the sender hears what was wrong whenever an address could be read.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge import __version__
from bridge.core.events import JobProgress, SessionChanged
from bridge.errors import BridgeError, InvalidInput
from bridge.frontends import peer

log = logging.getLogger("resonant.osc")
MAX_DATAGRAM = 8192
MAX_REPLY = 65000  # what fits one UDP datagram (65507 bytes of payload over IPv4), with room
OPEN = ("/resonant/ping",)  # answered for anyone: says only that a daemon is here
Addr = tuple[str, int]
Reply = tuple[str, list[Any]]


@dataclass(frozen=True)
class Route:
    types: str  # one letter per argument: s string, i int, f float; lowercase after '|' = optional
    handler: Callable[..., Awaitable[list[Reply]]]
    help: str


def build(address: str, args: list[Any]) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        if isinstance(a, bool):
            b.add_arg(int(a), "i")
        elif isinstance(a, int):
            b.add_arg(a, "i" if -2**31 <= a < 2**31 else "h")
        elif isinstance(a, float):
            b.add_arg(a, "f")
        elif a is None:
            b.add_arg("", "s")
        else:
            b.add_arg(str(a), "s")
    return b.build().dgram


def _check(address: str, types: str, args: list[Any]) -> list[Any]:
    required, _, optional = types.partition("|")
    if not len(required) <= len(args) <= len(required) + len(optional):
        want = f"{len(required)}" + (f" to {len(required) + len(optional)}" if optional else "")
        shape = types.replace("|", " [") + ("]" if optional else "")
        raise InvalidInput(f"{address} takes {want} argument(s) ({shape}), got {len(args)}")
    out = []
    for i, (t, a) in enumerate(zip(required + optional, args, strict=False)):
        if t == "s" and isinstance(a, str) or t == "i" and isinstance(a, int) and not isinstance(a, bool):
            out.append(a)
        elif t == "i" and isinstance(a, float) and a.is_integer():
            out.append(int(a))
        elif t == "f" and isinstance(a, int | float) and not isinstance(a, bool):
            out.append(float(a))
        else:
            kind = {"s": "a string", "i": "an int", "f": "a float"}[t]
            raise InvalidInput(f"{address}: argument {i + 1} must be {kind}, got {type(a).__name__}")
    return out


def _messages(data: bytes, depth: int = 0):
    """The messages of a datagram, bundles flattened (nesting limited: a datagram is data)."""
    if OscBundle.dgram_is_bundle(data):
        if depth > 4:
            raise ValueError("bundles nested too deep")
        for item in OscBundle(data):
            if isinstance(item, OscBundle):
                yield from _messages(item.dgram, depth + 1)
            else:
                yield item
    else:
        yield OscMessage(data)


class OscServer(asyncio.DatagramProtocol):
    def __init__(self, service, allow_remote: bool = False) -> None:
        self.service = service
        self.allow_remote = allow_remote
        self.uid = os.geteuid()
        self.transport: asyncio.DatagramTransport | None = None
        self.subscribers: set[Addr] = set()
        self.tasks: set[asyncio.Task] = set()
        self.routes: dict[str, Route] = {
            "/resonant/ping": Route("", self.ping, "-> /resonant/ping pong <version>"),
            "/resonant/session/describe": Route("s", self.describe, "path -> describe, one track message each, end"),
            "/resonant/session/watch": Route("s", self.watch,
                                             "path -> path 1; /resonant/session/changed to subscribers"),
            "/resonant/track/lock": Route("ss|s", self.lock, "path track [role] -> track role 1"),
            "/resonant/track/unlock": Route("ss", self.unlock, "path track -> track role 0"),
            "/resonant/track/role": Route("sss", self.role, "path track role -> track role locked"),
            "/resonant/track/toggle_lock": Route("ss|s", self.toggle_lock,
                                                 "path track [request] -> track role locked"),
            "/resonant/generate": Route("ss|siiiiss", self.generate,
                                        "path roles [prompt bars first_bar seed extend request deliver] -> job id"),
            "/resonant/regenerate": Route("ss|ssiiss", self.regenerate,
                                          "path track [bars prompt seed extend request deliver] -> job id"),
            "/resonant/job/status": Route("s", self.job_status, "job -> job status progress stage error"),
            "/resonant/job/cancel": Route("s", self.job_cancel, "job -> job status"),
            "/resonant/jobs": Route("|s", self.jobs, "[path] -> one message per job, then end"),
            "/resonant/ardour/strips": Route("", self.ardour_strips,
                                             "-> one message per strip Ardour shows, then end"),
            "/resonant/ardour/save": Route("", self.ardour_save, "-> 1 once /save_state was sent to Ardour"),
            "/resonant/ack": Route("ss|s", self.ack, "job status(ok/error) [detail] -> job 1 (0: nobody waits)"),
            "/resonant/subscribe": Route("|i", self.subscribe, "[port] -> 1; job events to that port"),
            "/resonant/unsubscribe": Route("|i", self.unsubscribe, "[port] -> 0"),
        }
        service.subscribe(self._event)

    # -- transport -------------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport

    def send(self, addr: Addr, address: str, args: list[Any]) -> None:
        if self.transport is None:
            return
        try:
            data = build(address, args)
            if len(data) > MAX_REPLY:
                # dropped by the network if sent: say so instead
                data = build("/resonant/error", [address, "reply_too_large",
                                                 f"the reply is {len(data)} bytes, more than one UDP datagram holds"
                                                 f" ({MAX_REPLY}); ask over MCP or the CLI, which have no such limit"])
            self.transport.sendto(data, addr)
        except Exception:  # an unreachable peer must not hurt the daemon
            log.debug("could not send %s to %s", address, addr, exc_info=True)

    def error(self, addr: Addr, address: str, code: str, message: str) -> None:
        self.send(addr, "/resonant/error", [address, code, message[:1000]])

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        try:
            if len(data) > MAX_DATAGRAM:
                self.error(addr, "", "oversize", f"datagram of {len(data)} bytes; the limit is {MAX_DATAGRAM}")
                return
            try:
                # OscPacket would log a warning per bad datagram on the root logger; parse directly
                messages = list(_messages(data))
            except Exception as e:  # ParseError, but also UnicodeDecodeError and friends
                self.error(addr, "", "malformed", f"not an OSC message or bundle ({type(e).__name__})")
                return
            for message in messages:
                self._dispatch(message.address, list(message.params), addr)
        except Exception as e:  # the last line of defence
            log.exception("unexpected error handling a datagram")
            self.error(addr, "", "internal_error", f"{type(e).__name__}")

    def _dispatch(self, address: str, args: list[Any], addr: Addr) -> None:
        route = self.routes.get(address)
        if route is None:
            self.error(addr, address, "unknown_address", "no such address; see docs/osc.md")
            return
        try:
            checked = _check(address, route.types, args)
        except BridgeError as e:  # the shape of a call is public (docs/osc.md): checked first, cheaply
            self.error(addr, address, e.code, e.message)
            return
        refusal = self._refusal(address, addr)
        if refusal:
            log.warning("refused %s from %s:%s: %s", address, addr[0], addr[1], refusal)
            self.error(addr, address, "forbidden", refusal)
            return
        task = asyncio.ensure_future(self._call(route, address, checked, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _refusal(self, address: str, addr: Addr) -> str:
        """Why this sender may not use ``address`` ('' if it may): only the daemon's own user (or root)
        on this machine, or anyone when remote senders are allowed (docs/osc.md, "Who may send")."""
        if address in OPEN:
            return ""
        uid = peer.sender_uid(addr[0], addr[1])
        if uid is None:
            if self.allow_remote and not peer.is_local(addr[0]):
                return ""
            return ("the sender is not on this machine; OSC from other machines is off"
                    " ([daemon] osc_allow_remote = true turns it on)")
        if uid not in (self.uid, 0):
            return (f"the sender runs as uid {uid}, the daemon as uid {self.uid}: only the daemon's own user may"
                    " use its sessions (run your own daemon: resonant serve)")
        return ""

    async def _call(self, route: Route, address: str, args: list[Any], addr: Addr) -> None:
        try:
            for reply_address, reply_args in await route.handler(addr, *args):
                self.send(addr, reply_address, reply_args)
        except BridgeError as e:
            self.error(addr, address, e.code, e.message)
        except Exception as e:
            log.exception("handler for %s failed", address)
            self.error(addr, address, "internal_error", f"{type(e).__name__}: {e}")

    def _event(self, event: dict[str, Any]) -> None:
        if isinstance(event, SessionChanged):
            c = event.changes
            msg = ("/resonant/session/changed", [event.session, c.get("reloads", 0),
                                                 ",".join(c.get("locked_regions_changed", [])),
                                                 ",".join(c.get("regions_changed", []))])
        elif isinstance(event, JobProgress):
            msg = ("/resonant/job/progress", [event.job, float(event.progress), event.stage])
        else:
            msg = ("/resonant/job/status", [event.job, event.status, event.error or ""])
        for sub in list(self.subscribers):
            self.send(sub, *msg)

    # -- handlers --------------------------------------------------------------------------------

    async def ping(self, addr: Addr) -> list[Reply]:
        return [("/resonant/ping", ["pong", __version__])]

    async def describe(self, addr: Addr, path: str) -> list[Reply]:
        d = await self.service.describe_session(path, regions=False)
        tm = d["tempo_map"]
        meter = tm["meters"][0]
        out = [("/resonant/session/describe", [path, d["name"], d["sample_rate"], float(tm["tempos"][0]["bpm"]),
                                               f"{meter['divisions_per_bar']:g}/{meter['note_value']}",
                                               len(d["tracks"])])]
        out += [("/resonant/session/track", [t["name"], t["role"] or "", int(t["locked"]), t["kind"],
                                             t["region_count"]]) for t in d["tracks"]]
        return out + [("/resonant/session/end", [path])]

    async def watch(self, addr: Addr, path: str) -> list[Reply]:
        r = await self.service.watch_session(path)
        return [("/resonant/session/watch", [r["session"], 1])]

    async def _set(self, address: str, path: str, track: str, role: str | None, locked: bool | None):
        r = await self.service.set_tracks(path, [track], role=role or None, locked=locked)
        t = r["tracks"][0]
        return [(address, [t["name"], t["role"] or "", int(t["locked"])])]

    async def lock(self, addr: Addr, path: str, track: str, role: str = "") -> list[Reply]:
        return await self._set("/resonant/track/lock", path, track, role, True)

    async def unlock(self, addr: Addr, path: str, track: str) -> list[Reply]:
        return await self._set("/resonant/track/unlock", path, track, None, False)

    async def toggle_lock(self, addr: Addr, path: str, track: str, request: str = "") -> list[Reply]:
        t = (await self.service.toggle_lock(path, track, request=request or None))["tracks"][0]
        return [("/resonant/track/toggle_lock", [t["name"], t["role"] or "", int(t["locked"])])]

    async def role(self, addr: Addr, path: str, track: str, role: str) -> list[Reply]:
        return await self._set("/resonant/track/role", path, track, role, None)

    async def generate(self, addr: Addr, path: str, roles: str, prompt: str = "", bars: int = 8,
                       first_bar: int = 1, seed: int = 0, extend: int = 0, request: str = "",
                       deliver: str = "") -> list[Reply]:
        job = await self.service.generate(path or None, [r.strip() for r in roles.split(",") if r.strip()],
                                          bars=bars, first_bar=first_bar, prompt=prompt, seed=seed,
                                          extend=bool(extend), request=request or None, deliver=deliver or None)
        return [("/resonant/generate", [job["id"]])]

    async def regenerate(self, addr: Addr, path: str, track: str, bars: str = "", prompt: str = "",
                         seed: int = 0, extend: int = 0, request: str = "", deliver: str = "") -> list[Reply]:
        job = await self.service.regenerate(path, track, bars=bars, prompt=prompt, seed=seed,
                                            extend=bool(extend), request=request or None, deliver=deliver or None)
        return [("/resonant/regenerate", [job["id"]])]

    async def job_status(self, addr: Addr, job_id: str) -> list[Reply]:
        j = await self.service.job(job_id)
        return [("/resonant/job/status", [j["id"], j["status"], float(j["progress"]), j["stage"], j["error"] or ""])]

    async def job_cancel(self, addr: Addr, job_id: str) -> list[Reply]:
        j = await self.service.cancel(job_id)
        return [("/resonant/job/cancel", [j["id"], j["status"]])]

    async def jobs(self, addr: Addr, path: str = "") -> list[Reply]:
        js = await self.service.jobs(path or None, limit=50)
        return [("/resonant/jobs", [j["id"], j["kind"], j["status"], float(j["progress"])]) for j in js] + \
            [("/resonant/jobs/end", [len(js)])]

    async def ardour_strips(self, addr: Addr) -> list[Reply]:
        r = await self.service.ardour_strips()
        return [("/resonant/ardour/strips", [st["kind"], st["name"], st["inputs"], st["outputs"], int(st["muted"])])
                for st in r["strips"]] + [("/resonant/ardour/strips/end", [len(r["strips"]), r["sample_rate"]])]

    async def ardour_save(self, addr: Addr) -> list[Reply]:
        await self.service.ardour_save()
        return [("/resonant/ardour/save", [1])]

    async def ack(self, addr: Addr, job_id: str, status: str, detail: str = "") -> list[Reply]:
        if status not in ("ok", "error"):
            raise InvalidInput("status must be ok or error")
        return [("/resonant/ack", [job_id, int(self.service.acknowledge(job_id, status, detail))])]

    async def subscribe(self, addr: Addr, port: int = 0) -> list[Reply]:
        if not 0 <= port <= 65535:
            raise InvalidInput("port must be 0-65535 (0 = the sender's port)")
        self.subscribers.add((addr[0], port or addr[1]))
        return [("/resonant/subscribe", [1])]

    async def unsubscribe(self, addr: Addr, port: int = 0) -> list[Reply]:
        self.subscribers.discard((addr[0], port or addr[1]))
        return [("/resonant/unsubscribe", [0])]


async def serve_osc(service, host: str, port: int,
                    allow_remote: bool = False) -> tuple[asyncio.DatagramTransport, OscServer]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(lambda: OscServer(service, allow_remote),
                                                              local_addr=(host, port))
    return transport, protocol
