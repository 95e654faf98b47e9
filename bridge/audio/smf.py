"""Standard MIDI files written directly (format 0): what the renderer and the user get.

mido builds and validates an object per message, which cost more than writing a 32-bar part
itself; the few message kinds a part needs are encoded here in a loop.
"""

from __future__ import annotations

import struct

NOTE_OFF, NOTE_ON, CONTROL, PROGRAM = 0x80, 0x90, 0xB0, 0xC0
# at one tick: tempo, then program/controller set-up, then note-offs, then note-ons, so that a
# repeated note re-triggers
_ORDER = {PROGRAM: 1, CONTROL: 1, NOTE_OFF: 2, NOTE_ON: 3}

Event = tuple[int, int, int, int, int]  # tick, status (without channel), channel, data1, data2


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def write_smf(events: list[Event], ppq: int, tempos: list[tuple[int, int]], name: str | None = None) -> bytes:
    """A format-0 file from channel events and (tick, microseconds per quarter) tempo changes."""
    timeline: list[tuple[int, int, int, bytes]] = []
    for i, (tick, us) in enumerate(tempos):
        timeline.append((tick, 0, i, b"\xff\x51\x03" + int(us).to_bytes(3, "big")))
    for i, (tick, status, ch, d1, d2) in enumerate(events):
        body = bytes((status | ch, d1 & 0x7F)) if status == PROGRAM else bytes((status | ch, d1 & 0x7F, d2 & 0x7F))
        timeline.append((tick, _ORDER[status], i, body))
    timeline.sort(key=lambda x: (x[0], x[1], x[2]))
    track = bytearray()
    if name is not None:
        raw = name.encode("utf-8", "replace")[:1000]
        track += b"\x00\xff\x03" + _vlq(len(raw)) + raw
    last = 0
    for tick, _, _, body in timeline:
        track += _vlq(max(0, tick - last)) + body
        last = max(last, tick)
    track += b"\x00\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, ppq) + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)
