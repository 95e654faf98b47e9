"""The session and the bar range as people read them: the text ``resonant session show`` prints,
and "A-B" bar ranges as every frontend takes them."""

from __future__ import annotations

from bridge.ardour.model import Session
from bridge.errors import InvalidInput


def parse_bar_range(text: str | None) -> tuple[int, int] | None:
    """"A-B" (or "A") as (first, last) bars; None for no text. Shared by the CLI, OSC and MCP."""
    if not text:
        return None
    a, sep, b = text.partition("-")
    try:
        first, last = int(a), int(b) if sep else int(a)
    except ValueError:
        raise InvalidInput(f"bars {text!r}: give A-B, e.g. 9-16") from None
    if first < 1 or last < first:
        raise InvalidInput(f"bars {text!r}: bars count from 1 and A <= B")
    return first, last


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(x.rstrip() for x in out)


def _seconds(samples: int, rate: int) -> str:
    return f"{samples / rate:.3f}s"


def show_text(s: Session) -> str:
    tm = s.tempo_map
    out = [f"Session {s.name!r}  ({s.file})",
           f"  version {s.version} ({s.program_version or 'unknown program'}), {s.sample_rate} Hz"]
    if s.session_range:
        a, b = s.session_range
        out.append(f"  session range {_seconds(a, s.sample_rate)} - {_seconds(b, s.sample_rate)}"
                   f" (bars {tm.bar_at_samples(a):.2f} - {tm.bar_at_samples(b):.2f})")
    else:
        out.append("  no session range yet")
    tempo_rows = [[f"{tm.bar_at_samples(tm.superclock_to_samples(t.sclock)):.2f}",
                   _seconds(tm.superclock_to_samples(t.sclock), s.sample_rate),
                   f"{t.npm:g}/{t.note_type}" + (f" -> {t.enpm:g}" if t.ramped else "")] for t in tm.tempos]
    meter_rows = [[str(m.bar), _seconds(tm.superclock_to_samples(m.sclock), s.sample_rate),
                   f"{m.divisions_per_bar:g}/{m.note_value}"] for m in tm.meters]
    out += ["", "Tempo", _table(tempo_rows, ["bar", "time", "tempo"]),
            "", "Meter", _table(meter_rows, ["bar", "time", "meter"]), "", "Tracks"]
    rows = []
    for t in s.tracks:
        role = (t.role or "-") + (" (guessed)" if t.role_guessed and t.role else "")
        pl = s.playlist_of(t)
        rows.append([str(t.order), t.name, t.kind, role, "locked" if t.locked else "",
                     pl.name if pl else "?", str(len(s.takes_of(t))), str(len(s.regions_of(t)))])
    out.append(_table(rows, ["#", "track", "kind", "role", "lock", "take", "takes", "regions"]))
    out += ["", "Regions"]
    rows = []
    for t in s.tracks:
        for r in s.regions_of(t):
            flags = ",".join(f for f, on in (("muted", r.muted), ("transparent", not r.opaque),
                                             ("envelope", r.envelope_active)) if on)
            rows.append([t.name, r.name, str(r.position), f"{tm.bar_at_samples(r.position):.3f}",
                         str(r.start), str(r.length), _seconds(r.length, s.sample_rate),
                         str(r.layer), f"{r.scale_amplitude:g}", flags])
    out.append(_table(rows, ["track", "region", "position", "bar", "start", "length", "dur", "layer",
                             "gain", "flags"]))
    if s.warnings:
        out += ["", "Warnings"] + [f"  ! {w}" for w in s.warnings]
    return "\n".join(out)


def analysis_text(ctx) -> str:
    from bridge.audio.analysis import describe

    return describe(ctx)
