"""CLI commands for live use with Ardour: ``resonant regenerate`` and ``resonant ardour install-scripts``.

``regenerate`` runs the same core the daemon runs, in this process, with the same settings and job
history (the data folder), so a script gets the same delivery rules: a closed session gets a new take
written into its XML; a session open in Ardour gets the stems through the inbox, imported by the
hook, and the command waits for Ardour's answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bridge.core.config import load_config
from bridge.core.events import Event, JobProgress
from bridge.core.service import BridgeService
from bridge.core.show import parse_bar_range


async def _job(args: argparse.Namespace, start) -> dict:
    """Run one job through the core in this process and wait for its end, printing its progress."""
    cfg = load_config(args.config, mcp_port=0)
    if getattr(args, "ack_timeout", None) is not None:
        cfg.ack_timeout_s = args.ack_timeout
    service = BridgeService.local(cfg)

    def listen(event: Event) -> None:
        if isinstance(event, JobProgress) and not args.json:
            print(f"  [{event.progress * 100:5.1f}%] {event.stage}", file=sys.stderr)

    service.subscribe(listen)
    try:
        job = await start(service)
        return await service.wait(job["id"])
    finally:
        await service.stop()


async def _regenerate(args: argparse.Namespace) -> dict:
    return await _job(args, lambda service: service.regenerate(
        args.path, args.track, bars=parse_bar_range(args.bars or ""), prompt=args.prompt, seed=args.seed,
        loyalty=args.loyalty, extend=args.extend, deliver=args.deliver))


_HOW = {"session": "written into the session file (the session is closed)",
        "ardour": "imported by Ardour, which has the session open (save it there to keep it)"}


def cmd_generate_into(args: argparse.Namespace, roles: list[str], request: dict) -> int:
    """``resonant generate --into SESSION``: new tracks in the session, as OSC's and MCP's generate."""
    job = asyncio.run(_job(args, lambda service: service.generate(args.into, roles, extend=args.extend,
                                                                   deliver=args.deliver, **request)))
    if args.json:
        print(json.dumps(job, default=str))
    elif job["status"] == "done":
        d = job["delivery"] or {}
        for t in d.get("tracks") or []:
            kind = "new MIDI track" if t.get("kind") == "midi" else "new track"
            print(f"{kind} {t['track']!r} ({t['role']}, bars {t['bars'][0]}-{t['bars'][1]}):"
                  f" {_HOW.get(d.get('method'), d.get('method'))}")
        print_understood(job)
    else:
        print(f"resonant: generate {job['status']}: {job['error']}", file=sys.stderr)
    return 0 if job["status"] == "done" else 4


def print_understood(job: dict) -> None:
    """What the prompt was read as, where each decision came from, and what was not understood."""
    meta = ((job.get("stems") or [{}])[0] or {}).get("metadata") or {}
    decided = (meta.get("plan") or {}).get("decided") or {}
    for what in ("prompt", "style", "instrument", "key", "chords", "form", "density", "complexity", "energy",
                 "swing", "register", "octave", "feel", "loudness", "model"):
        if what in decided:
            print(f"  {what}: {decided[what]}")
    for w in meta.get("warnings") or []:
        print(f"  ! {w}")


def cmd_regenerate(args: argparse.Namespace) -> int:
    job = asyncio.run(_regenerate(args))
    if args.json:
        print(json.dumps(job, default=str))
    elif job["status"] == "done":
        d = job["delivery"] or {}
        for take in d.get("tracks") or [{}]:
            kind = "MIDI take" if take.get("kind") == "midi" else "take"
            print(f"new {kind} {take.get('take', '')!r} on {take.get('track', args.track)!r}:"
                  f" {_HOW.get(d.get('method'), d.get('method'))}")
        print_understood(job)
    else:
        print(f"resonant: regenerate {job['status']}: {job['error']}", file=sys.stderr)
    return 0 if job["status"] == "done" else 4


def cmd_install_scripts(args: argparse.Namespace) -> int:
    from bridge.core.ops import install_scripts, running_ardour_guis

    running = running_ardour_guis()
    if running and not args.force:
        print(f"resonant: Ardour is running ({', '.join(f'{p.exe} pid {p.pid}' for p in running)}): it rewrites"
              " its Lua hooks and buttons when it saves, which would undo this. Quit Ardour and run this again"
              " (or --force, then restart Ardour without saving)", file=sys.stderr)
        return 1

    r = install_scripts(Path(args.config_home) if args.config_home else None, tuple(args.major or ()) or None,
                        register_hook=not args.no_hook, buttons=not args.no_buttons,
                        uri=f"osc.udp://127.0.0.1:{args.osc_port}" if args.osc_port else None)
    for p in r.scripts:
        print(f"installed {p}")
    for p in r.hooks:
        print(f"registered the inbox hook in {p}")
    for p in r.buttons:
        print(f"put the generate, regenerate and lock buttons on the editor's toolbar ({p})")
    print("Start Ardour: the buttons are at the right of the editor's toolbar (see docs/ardour.md).")
    return 0


def add_parsers(sub, ards) -> None:
    rg = sub.add_parser("regenerate", help="a new take for TRACK, into the session closed or open in Ardour")
    rg.add_argument("path", help="session folder or .ardour file")
    rg.add_argument("track")
    rg.add_argument("--bars", default="", help="A-B: only these bars (the rest of the take is kept)")
    rg.add_argument("--prompt", default="")
    rg.add_argument("--seed", type=int, default=0)
    rg.add_argument("--loyalty", type=float, default=0.5, help="0-1: how close to stay to the current take")
    rg.add_argument("--extend", action="store_true",
                    help="allow bars past the song's end (the session range grows); without it they are refused")
    rg.add_argument("--deliver", choices=("audio", "midi", "both"), default=None,
                    help="the kind of take: by default the track's own (audio, or MIDI on a MIDI track); both also"
                         " gives its partner track (Bass <-> Bass MIDI) a take of the same notes, made if missing")
    rg.add_argument("--ack-timeout", type=float, default=None,
                    help="seconds to wait for Ardour to import (session open in Ardour)")
    rg.add_argument("--config", default=None)
    rg.add_argument("--json", action="store_true")
    rg.set_defaults(func=cmd_regenerate)
    isc = ards.add_parser("install-scripts", help="copy the Lua scripts for each Ardour (7, 8, 9) and register"
                                                  " the hook")
    isc.add_argument("--config-home", default=None, help="instead of $XDG_CONFIG_HOME or ~/.config")
    isc.add_argument("--major", type=int, action="append", choices=(7, 8, 9),
                     help="only for this Ardour major (repeatable; default: the majors installed or configured"
                          " here, else 7, 8 and 9)")
    isc.add_argument("--no-hook", action="store_true", help="do not register the hook (register it by hand)")
    isc.add_argument("--force", action="store_true", help="install even while an Ardour GUI runs")
    isc.add_argument("--osc-port", type=int, default=None,
                     help="the daemon's OSC port, if not the default 9123 (the buttons send there)")
    isc.add_argument("--no-buttons", action="store_true",
                     help="do not put the actions on toolbar buttons (bind them by hand in the Script Manager)")
    isc.set_defaults(func=cmd_install_scripts)
