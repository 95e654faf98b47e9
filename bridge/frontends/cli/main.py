"""``resonant``: the command line. It only translates arguments into calls and prints results.

Exit codes: 0 done; 1 a bridge error (bad input, bad file); 2 bad usage; 3 the write was refused
to protect the session (open in Ardour, unsaved changes, changed on disk).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bridge import __version__
from bridge.core.config import load_config
from bridge.core.service import BridgeService
from bridge.core.show import parse_bar_range
from bridge.errors import BridgeError, InvalidInput, WriteRefused
from bridge.roles import ROLES

EXIT_ERROR, EXIT_USAGE, EXIT_REFUSED = 1, 2, 3


def _service(args: argparse.Namespace) -> BridgeService:
    """The core, in this process: settings from the config file (``--config``, ``$RESONANT_CONFIG``,
    else ``~/.config/resonant/config.toml``) and the environment, as the daemon reads them."""
    return BridgeService.local(load_config(getattr(args, "config", None)))


def _run(coro):
    return asyncio.run(coro)


def _progress(args: argparse.Namespace):
    def progress(fraction: float, stage: str) -> None:
        if not getattr(args, "json", False):
            print(f"  [{fraction * 100:5.1f}%] {stage}", file=sys.stderr)

    return progress


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def cmd_show(args: argparse.Namespace) -> int:
    svc = _service(args)
    print(json.dumps(_run(svc.describe_session(args.path)), indent=2) if args.json else _run(
        svc.session_text(args.path)))
    return 0


def _written(args: argparse.Namespace, result: dict) -> int:
    if getattr(args, "json", False):
        print(json.dumps({k: result[k] for k in ("ok", "message", "file", "backup", "created")}))
    else:
        print(result["message"])
        if result.get("backup"):
            print(f"  backup: {result['backup']}")
    return 0


def cmd_add_track(args: argparse.Namespace) -> int:
    return _written(args, _run(_service(args).add_track(
        args.path, args.name, args.file, bar=args.bar, role=args.role, locked=args.lock, resample=args.resample,
        allow_missing=args.allow_missing)))


def cmd_add_take(args: argparse.Namespace) -> int:
    return _written(args, _run(_service(args).add_take(
        args.path, args.track, args.file, bar=args.bar, name=args.name, resample=args.resample,
        allow_missing=args.allow_missing)))


def cmd_use_take(args: argparse.Namespace) -> int:
    return _written(args, _run(_service(args).use_take(args.path, args.track, args.take)))


def cmd_lock(args: argparse.Namespace, locked: bool) -> int:
    """Through the core like OSC and MCP: into the session file when it is closed, beside it (applied
    at once) while Ardour has it open."""
    r = _run(_service(args).set_tracks(args.path, [args.track], role=args.role, locked=locked))
    (t,) = r["tracks"]
    word = "locked" if locked else "unlocked"
    message = f"{word} track {t['name']!r}" + (f" (role {t['role']})" if t["role"] else "") + f", {r['stored']}"
    if args.json:
        print(json.dumps({"ok": True, "message": message, "tracks": r["tracks"], "stored": r["stored"]}))
    else:
        print(message)
    return 0


def cmd_role(args: argparse.Namespace) -> int:
    r = _run(_service(args).set_tracks(args.path, [args.track], role=args.role))
    (t,) = r["tracks"]
    message = f"track {t['name']!r} has role {t['role']}, {r['stored']}"
    print(json.dumps({"ok": True, "message": message, "tracks": r["tracks"], "stored": r["stored"]}) if args.json
          else message)
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    svc = _service(args)
    bars, tracks = parse_bar_range(args.bars), _names(args.tracks)
    print(json.dumps(_run(svc.analysis(args.path, bars, tracks)), indent=2) if args.json else _run(
        svc.analysis_text(args.path, bars, tracks)))
    return 0


def cmd_mixdown(args: argparse.Namespace) -> int:
    tracks = _names(args.tracks)
    r = _run(_service(args).mixdown(args.path, args.out, tracks, parse_bar_range(args.bars), args.force))
    names = ", ".join(tracks) if tracks else "all audio tracks"
    print(f"wrote {r['wav']} ({r['seconds']:.2f} s of {names} at {r['sample_rate']} Hz)")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    request = {"first_bar": args.first_bar, "bars": args.bars, "prompt": args.prompt, "seed": args.seed,
               "temperature": args.temperature, "density": args.density, "complexity": args.complexity,
               "swing": args.swing, "engine": args.engine, "sample_rate": args.sample_rate,
               "loudness_lufs": args.loudness}
    request = {k: v for k, v in request.items() if v is not None}  # unset: as the daemon decides
    if args.into:
        from bridge.frontends.cli.live import cmd_generate_into

        if args.session or args.force or args.sample_rate != 48000:
            raise InvalidInput("--into takes the session's own context, rate and files: drop --session, --force"
                               " and --sample-rate")
        request.pop("sample_rate")
        return cmd_generate_into(args, roles, request)
    summary = _run(_service(args).generate_files(args.out, roles, session=args.session, force=args.force,
                                                 progress=_progress(args), **request))
    if args.json:
        print(json.dumps(summary, default=str))
        return 0
    stems = summary["stems"]
    meta = stems[0]["metadata"]
    plan = meta.get("plan")
    if plan:  # the arranger says what it decided
        print(f"wrote {len(stems)} stem(s) to {summary['out']}: {plan.get('style')} in {plan.get('key')}, "
              f"chords {' '.join(plan.get('chords', [])[:8])}")
    else:  # an audio model says what it was given and how the stems were made
        print(f"wrote {len(stems)} stem(s) to {summary['out']} with {summary['engine']} ({meta.get('model', '')} on "
              f"{meta.get('device', '?')}): {'; '.join(meta.get('conditioning', []))}")
    for info in stems:
        m = info["metadata"]
        print(f"  {info['role']:<8} {info['wav']}  {info['frames']} samples at {info['sample_rate']} Hz,"
              f" {m.get('loudness_lufs')} LUFS, {m.get('true_peak_db')} dBTP")
        if m.get("stem_method"):
            print(f"           {m['stem_method']}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from bridge.core.config import load_config
    from bridge.frontends.daemon import serve

    cfg = load_config(args.config, bind=args.bind, osc_port=args.osc_port, data_dir=args.data_dir,
                      mcp_port=args.mcp_port)
    return serve(cfg)


def cmd_mcp(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from bridge.core.config import load_config
    from mcp_server.transports import run_stdio

    # stdout carries the protocol: everything else goes to stderr
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(run_stdio(load_config(args.config, data_dir=args.data_dir)))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from bridge.core.ops import doctor

    checks = doctor(args.config)
    if args.json:
        print(json.dumps([vars(c) for c in checks]))
    else:
        for c in checks:
            mark = "ok" if c.ok else "!!" if c.required else "--"  # --: optional, not available
            print(f"  [{mark}] {c.name:<18} {c.detail}")
    return 0 if all(c.ok or not c.required for c in checks) else 1


def cmd_service_install(args: argparse.Namespace) -> int:
    from bridge.core.ops import install_unit

    path = install_unit(Path(args.dir) if args.dir else None, enable=not args.no_enable)
    print(f"installed {path}" + ("" if args.no_enable else "; enabled and started (systemctl --user status resonant)"))
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    r = _run(_service(args).new_session(args.dir, args.template, args.prompt, args.bars, args.seed, args.engine,
                                        args.loudness, args.force, _progress(args), args.deliver))
    if args.json:
        print(json.dumps(r))
    else:
        print(f"new session {r['session']}: {r['tempo_bpm']:g} BPM, {r['key']}, {len(r['tracks'])} tracks, mix "
              f"{r['mix_lufs']} LUFS ({r['mix_true_peak_db']} dBTP); open it in Ardour")
    return 0


def cmd_install_templates(args: argparse.Namespace) -> int:
    from bridge.core.ops import install_templates

    installed = install_templates(Path(args.dir) if args.dir else None, tuple(args.major or ()) or None)
    print("\n".join(f"installed {p}" for p in installed))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    r = _run(_service(args).demo(args.dir))
    if args.json:
        print(json.dumps(r))
    else:
        print(f"Demo session: {r['session']}  (open it in Ardour)")
        print(f"  {', '.join(r['tracks'])}; {r['tempo_bpm']:g} BPM, {r['key']}; mix {r['mix_lufs']} LUFS")
        print(f"Preview mix:  {r['mix']}  (rendered by {r['rendered_by']})")
        print(f"Took {r['seconds']} s. Next: docs/getting-started.md")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="resonant", description=(
            "Resonant bridge: new drums, bass, harmony and melody that fit the tracks you keep in an Ardour"
            " session. Start with `resonant demo`, or `resonant new DIR --prompt \"funk in E minor\"`; run"
            " `resonant serve` for the Ardour buttons and for assistants (MCP). Every command has --help."),
        epilog="Docs: README.md, docs/getting-started.md, docs/ardour.md, docs/mcp.md, docs/configuration.md")
    # the settings every command reads, as the daemon does (bridge.core.config)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="a TOML config file (default: $RESONANT_CONFIG, else"
                                         " ~/.config/resonant/config.toml when it exists)")
    p.add_argument("--version", action="version", version=f"resonant {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sess = sub.add_parser("session", help="look at and change an Ardour session: tracks, takes, roles, locks")
    ss = sess.add_subparsers(dest="action", required=True)

    show = ss.add_parser("show", parents=[common], help="tracks, roles, locks, regions, tempo and meter")
    show.add_argument("path", help="the .ardour file or the session folder")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=cmd_show)

    def audio_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--bar", type=float, default=1.0, help="bar where the file starts (1 = start)")
        sp.add_argument("--resample", action="store_true",
                        help="resample a file whose rate differs from the session's (else refuse)")
        sp.add_argument("--allow-missing", action="store_true",
                        help="write even though some of the session's audio files are missing")
        sp.add_argument("--json", action="store_true")

    add = ss.add_parser("add-track", parents=[common], help="add an audio track that plays FILE from --bar")
    add.add_argument("path")
    add.add_argument("name", help="the new track's name")
    add.add_argument("file", help="a WAV file at the session's sample rate")
    add.add_argument("--role", choices=ROLES)
    add.add_argument("--lock", action="store_true", help="mark the new track locked")
    audio_args(add)
    add.set_defaults(func=cmd_add_track)

    take = ss.add_parser("add-take", parents=[common], help="give TRACK a new take (playlist) that plays FILE")
    take.add_argument("path")
    take.add_argument("track")
    take.add_argument("file")
    take.add_argument("--name", help="the take's name (default: TRACK.N)")
    audio_args(take)
    take.set_defaults(func=cmd_add_take)

    use = ss.add_parser("use-take", parents=[common], help="make TRACK play one of its earlier takes")
    use.add_argument("path")
    use.add_argument("track")
    use.add_argument("take", help="take (playlist) name or id")
    use.add_argument("--json", action="store_true")
    use.set_defaults(func=cmd_use_take)

    srv = sub.add_parser("serve", help="run the daemon (OSC on 127.0.0.1:9123 by default)")
    srv.add_argument("--config", help="a TOML config file")
    srv.add_argument("--bind", help="address to listen on (default 127.0.0.1)")
    srv.add_argument("--osc-port", type=int, help="UDP port for OSC (0 = any free port)")
    srv.add_argument("--data-dir", help="where jobs and their stems are kept")
    srv.add_argument("--mcp-port", type=int, help="MCP over HTTP on --bind (default 9124; 0 = off)")
    srv.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", parents=[common],
                          help="make a demo session with every role generated, and a preview mix")
    demo.add_argument("dir", nargs="?", help="a new folder (default: ./resonant-demo-<date>-<time>)")
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(func=cmd_demo)

    new = sub.add_parser("new", parents=[common], help="a new Ardour session from a template, every role generated")
    new.add_argument("dir", help="the new session folder (its name names the session)")
    new.add_argument("--template", default="band", help="the session template (default: band: Drums, Bass,"
                                                         " Harmony, Melody)")
    new.add_argument("--prompt", default="", help='what to write, e.g. "lo-fi hip hop in D minor, laid back"')
    new.add_argument("--bars", type=int, default=8, help="the song's length in bars (default 8)")
    new.add_argument("--seed", type=int, default=0, help="the same seed and prompt give the same song")
    new.add_argument("--engine", default=None, help="arranger (default) or musicgen")
    new.add_argument("--loudness", type=float, default=-16.0, help="mix loudness target, LUFS")
    new.add_argument("--force", action="store_true", help="replace a session resonant new made in DIR before")
    new.add_argument("--deliver", choices=("audio", "midi", "both"), default=None,
                     help="each role as the template's audio track, as a MIDI track of that name (editable notes"
                          " through ACE Fluid Synth), or both (Bass and Bass MIDI); default: the config's, audio")
    new.add_argument("--json", action="store_true")
    new.set_defaults(func=cmd_new)

    ard = sub.add_parser("ardour", help="install the bridge's Ardour templates and Lua scripts")
    ards = ard.add_subparsers(dest="action", required=True)
    it = ards.add_parser("install-templates", help="copy the session templates for each Ardour (7, 8, 9)")
    it.add_argument("--dir", help="install into this templates folder instead")
    it.add_argument("--major", type=int, action="append", choices=(7, 8, 9),
                    help="only for this Ardour major (repeatable; default: the majors installed or configured here,"
                         " else 7, 8 and 9)")
    it.set_defaults(func=cmd_install_templates)
    from bridge.frontends.cli.live import add_parsers

    add_parsers(sub, ards)

    doc = sub.add_parser("doctor", help="check the install (Ardour, JACK, SoundFont, engines, config) and"
                                        " whether the daemon runs")
    doc.add_argument("--config")
    doc.add_argument("--json", action="store_true")
    doc.set_defaults(func=cmd_doctor)

    svc = sub.add_parser("service", help="run the daemon as a systemd user service")
    svcs = svc.add_subparsers(dest="action", required=True)
    inst = svcs.add_parser("install", help="install (and enable) ~/.config/systemd/user/resonant.service")
    inst.add_argument("--dir", help="install the unit into this folder instead")
    inst.add_argument("--no-enable", action="store_true", help="only write the file")
    inst.set_defaults(func=cmd_service_install)

    mcp = sub.add_parser("mcp", help="the MCP server over stdio, for desktop assistants (see docs/mcp.md)")
    mcp.add_argument("--config", help="a TOML config file")
    mcp.add_argument("--data-dir", help="where jobs and their stems are kept")
    mcp.set_defaults(func=cmd_mcp)

    gen = sub.add_parser("generate", parents=[common],
                         help="write new stems (drums, bass, harmony, melody) from a prompt")
    gen.add_argument("--prompt", default="", help='e.g. "dark techno in A minor, 128 bpm, strings"')
    gen.add_argument("--roles", default="drums,bass,harmony,melody", help="comma-separated roles")
    gen.add_argument("--bars", type=int, default=8, help="how many bars")
    gen.add_argument("--first-bar", type=int, default=1, help="the bar the stems start on")
    where = gen.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", help="folder for ROLE.wav, ROLE.mid and generation.json")
    where.add_argument("--into", metavar="SESSION",
                       help="add the stems to this session as new tracks (as OSC and MCP generate do): written"
                            " into its file when it is closed, imported by Ardour's hook when it is open")
    gen.add_argument("--extend", action="store_true", help="with --into: allow bars past the song's end")
    gen.add_argument("--deliver", choices=("audio", "midi", "both"), default=None,
                     help="with --into: each part as an audio track, as a MIDI track playing through ACE Fluid"
                          " Synth with the SoundFont it was rendered with (editable notes), or both (default:"
                          " the config's [delivery] deliver, audio)")
    gen.add_argument("--ack-timeout", type=float, default=None,
                     help="with --into: seconds to wait for Ardour to import (session open in Ardour)")
    gen.add_argument("--session", help="fit the locked tracks of this Ardour session (its tempo, key, chords)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--engine", default=None, help="engine name (default: arranger)")
    gen.add_argument("--temperature", type=float, default=None, help="0 plain .. 1 adventurous (default: the style's)")
    gen.add_argument("--density", type=float, default=None, help="0 sparse .. 1 busy (default: the style's)")
    gen.add_argument("--complexity", type=float, default=None, help="0 simple .. 1 intricate (default: the style's)")
    gen.add_argument("--swing", type=float, default=None, help="0 straight .. 1 triplet (default: the style's)")
    gen.add_argument("--sample-rate", type=int, default=48000, help="without --session")
    gen.add_argument("--loudness", type=float, default=-23.0,
                     help="per-stem target, LUFS (four stems at -23 mix to about -17 LUFS, with headroom)")
    gen.add_argument("--force", action="store_true", help="replace stems already in --out")
    gen.add_argument("--json", action="store_true")
    gen.set_defaults(func=cmd_generate)

    an = sub.add_parser("analyze", parents=[common],
                        help="tempo, key (from pitched tracks), chords, groove and loudness of the song")
    an.add_argument("path")
    an.add_argument("--tracks", help="comma-separated track names (default: every track)")
    an.add_argument("--bars", help="bar range A-B (default: the whole session)")
    an.add_argument("--json", action="store_true")
    an.set_defaults(func=cmd_analyze)

    mx = sub.add_parser("mixdown", parents=[common], help="render tracks to a stereo WAV as Ardour plays them")
    mx.add_argument("path")
    mx.add_argument("out", help="the WAV file to write")
    mx.add_argument("--tracks", help="comma-separated track names (default: all audio tracks)")
    mx.add_argument("--bars", help="bar range A-B (default: the session range)")
    mx.add_argument("--force", action="store_true", help="replace OUT if it exists")
    mx.set_defaults(func=cmd_mixdown)

    helps = {"lock": "lock TRACK: it is never changed by generation, and new parts fit it",
             "unlock": "unlock TRACK: generation may rewrite it again (it still shapes the parts around it)"}
    for name, locked in (("lock", True), ("unlock", False)):
        sp = ss.add_parser(name, parents=[common], help=helps[name])
        sp.add_argument("path")
        sp.add_argument("track")
        sp.add_argument("--role", choices=ROLES, help="also set the track's role")
        sp.add_argument("--json", action="store_true")
        sp.set_defaults(func=lambda a, locked=locked: cmd_lock(a, locked))
    rl = ss.add_parser("role", parents=[common], help="set TRACK's role (what it is to the generator)")
    rl.add_argument("path")
    rl.add_argument("track")
    rl.add_argument("role", choices=ROLES)
    rl.add_argument("--json", action="store_true")
    rl.set_defaults(func=cmd_role)
    _explain(p)
    return p


# help for the arguments many commands share, given once
_COMMON_HELP = {
    "path": "the session folder, or its .ardour file",
    "track": "the track's name, as Ardour shows it",
    "json": "print the result as JSON",
    "config": "a TOML config file (default: $RESONANT_CONFIG, else ~/.config/resonant/config.toml)",
    "file": "a WAV (or any audio libsndfile reads) at the session's sample rate",
    "role": "what the track is to the generator",
    "seed": "the same seed and inputs give the same parts; change it for another version",
    "prompt": 'what to write, in words (style, mood, instruments; for a take also "busier", "more aggressive")',
}


def _explain(parser: argparse.ArgumentParser) -> None:
    """Fill in the help of shared arguments wherever a command left it out."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sp in action.choices.values():
                _explain(sp)
        elif action.help is None and action.dest in _COMMON_HELP:
            action.help = _COMMON_HELP[action.dest]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BridgeError as e:
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "error": e.code, "message": e.message}))
        print(f"resonant: error [{e.code}]: {e.message}", file=sys.stderr)
        return EXIT_REFUSED if isinstance(e, WriteRefused) else EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
