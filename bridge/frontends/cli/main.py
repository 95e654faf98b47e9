"""``resonant``: the command line. It only translates arguments into calls and prints results.

Exit codes: 0 done; 1 a bridge error (bad input, bad file); 2 bad usage; 3 the write was refused
to protect the session (open in Ardour, unsaved changes, changed on disk).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bridge import __version__
from bridge.ardour import Clip, SessionEditor, read_session
from bridge.ardour.model import Session
from bridge.ardour.paths import check_inside, session_roots_from_env
from bridge.ardour.reader import find_session_file
from bridge.ardour.tempo import parse_bar_range
from bridge.errors import BridgeError, InvalidInput, WriteRefused
from bridge.roles import ROLES

EXIT_ERROR, EXIT_USAGE, EXIT_REFUSED = 1, 2, 3


def _open(path: str) -> Session:
    file = find_session_file(path)
    check_inside(file, session_roots_from_env())
    return read_session(file)


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


def _sample_of_bar(s: Session, bar: float) -> int:
    if bar < 1:
        raise InvalidInput(f"bar {bar} is before the first bar (bars count from 1)")
    whole = int(bar)
    q = s.tempo_map.quarters_at_bbt(whole)
    if bar != whole:
        q += (bar - whole) * s.tempo_map.meter_at_quarters(q).bar_quarters
    return s.tempo_map.samples_at_quarters(q)


def cmd_show(args: argparse.Namespace) -> int:
    s = _open(args.path)
    print(json.dumps(s.to_dict(), indent=2) if args.json else show_text(s))
    return 0


def _written(args: argparse.Namespace, message: str, result: object) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"ok": True, "message": message, "file": str(result.file),
                          "backup": str(result.backup) if result.backup else None,
                          "created": [str(p) for p in result.created]}))
    else:
        print(message)
        if result.backup:
            print(f"  backup: {result.backup}")
    return 0


def cmd_add_track(args: argparse.Namespace) -> int:
    s = _open(args.path)
    ed = SessionEditor(s, resample=args.resample, allow_missing_sources=args.allow_missing)
    ed.add_audio_track(args.name, [Clip(args.file, _sample_of_bar(s, args.bar))], role=args.role,
                       locked=args.lock)
    return _written(args, f"added track {args.name!r} at bar {args.bar:g}", ed.commit())


def cmd_add_take(args: argparse.Namespace) -> int:
    s = _open(args.path)
    ed = SessionEditor(s, resample=args.resample, allow_missing_sources=args.allow_missing)
    pid = ed.add_take(args.track, [Clip(args.file, _sample_of_bar(s, args.bar))], take_name=args.name)
    return _written(args, f"track {args.track!r} now plays a new take (playlist {pid});"
                          " the previous take stays in the session", ed.commit())


def cmd_use_take(args: argparse.Namespace) -> int:
    s = _open(args.path)
    ed = SessionEditor(s, allow_missing_sources=True)
    pid = ed.use_take(args.track, args.take)
    return _written(args, f"track {args.track!r} now plays take {args.take!r} (playlist {pid})", ed.commit())


def cmd_lock(args: argparse.Namespace, locked: bool) -> int:
    s = _open(args.path)
    ed = SessionEditor(s, allow_missing_sources=True)
    track = s.track(args.track)
    role = args.role or (track.role if track.role in ROLES else None)
    ed.set_role(track.name, role=role, locked=locked)
    word = "locked" if locked else "unlocked"
    return _written(args, f"{word} track {track.name!r}" + (f" (role {role})" if role else ""), ed.commit())


def _tracks(s: Session, names: str | None) -> list | None:
    if not names:
        return None
    return [s.track(n.strip()) for n in names.split(",") if n.strip()]


def cmd_analyze(args: argparse.Namespace) -> int:
    from bridge.audio.analysis import analyze, describe

    s = _open(args.path)
    ctx = analyze(s, _tracks(s, args.tracks), parse_bar_range(args.bars))
    print(json.dumps(ctx.to_dict(), indent=2) if args.json else describe(ctx))
    return 0


def cmd_mixdown(args: argparse.Namespace) -> int:
    import soundfile as sf

    from bridge.audio.analysis import bar_range
    from bridge.audio.mixdown import render

    s = _open(args.path)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise InvalidInput(f"{out} exists; pass --force to replace it")
    if out.suffix.lower() != ".wav":
        raise InvalidInput(f"{out.name}: the mixdown is written as WAV; name it .wav")
    tracks = _tracks(s, args.tracks)
    if args.bars:
        start, end, _, _ = bar_range(s, parse_bar_range(args.bars))
    else:
        start = end = None
    audio = render(s, tracks, start, end)
    tmp = out.with_name(f".{out.name}.resonant-tmp")
    sf.write(str(tmp), audio, s.sample_rate, subtype="PCM_24", format="WAV")
    tmp.replace(out)
    names = ", ".join(t.name for t in tracks) if tracks else "all audio tracks"
    print(f"wrote {out} ({len(audio) / s.sample_rate:.2f} s of {names} at {s.sample_rate} Hz)")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    import soundfile as sf

    from bridge.engines import GenerationRequest, get_engine
    from bridge.engines.context import context_for

    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    request = GenerationRequest(
        roles=roles, first_bar=args.first_bar, bars=args.bars, prompt=args.prompt, seed=args.seed,
        temperature=args.temperature, density=args.density, complexity=args.complexity, swing=args.swing,
        engine=args.engine, sample_rate=args.sample_rate, loudness_lufs=args.loudness).validate()
    out = Path(args.out)
    targets = [out / f"{r}.{ext}" for r in roles for ext in ("wav", "mid")] + [out / "generation.json"]
    clash = [p.name for p in targets if p.exists()]
    if clash and not args.force:
        raise InvalidInput(f"{out} already holds {', '.join(clash)}; pass --force to replace them")
    context = None
    if args.session:
        session = _open(args.session)
        request.sample_rate = session.sample_rate
        context = context_for(session, request)
    engine = get_engine(args.engine)

    def progress(fraction: float, stage: str) -> None:
        if not args.json:
            print(f"  [{fraction * 100:5.1f}%] {stage}", file=sys.stderr)

    stems = engine.generate(request, context, progress)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"ok": True, "engine": engine.name, "out": str(out), "stems": []}
    for st in stems:
        wav = out / f"{st.role}.wav"
        tmp = wav.with_name(f".{wav.name}.resonant-tmp")
        sf.write(str(tmp), st.audio, st.sample_rate, subtype="PCM_24", format="WAV")
        tmp.replace(wav)
        info = {**st.info(), "wav": str(wav)}
        if st.midi:
            (out / f"{st.role}.mid").write_bytes(st.midi)
            info["mid"] = str(out / f"{st.role}.mid")
        summary["stems"].append(info)
    (out / "generation.json").write_text(json.dumps(summary, indent=2, default=str))
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        meta = stems[0].metadata
        plan = meta.get("plan")
        if plan:  # the arranger says what it decided
            print(f"wrote {len(stems)} stem(s) to {out}: {plan.get('style')} in {plan.get('key')}, "
                  f"chords {' '.join(plan.get('chords', [])[:8])}")
        else:  # an audio model says what it was given and how the stems were made
            print(f"wrote {len(stems)} stem(s) to {out} with {engine.name} ({meta.get('model', '')} on "
                  f"{meta.get('device', '?')}): {'; '.join(meta.get('conditioning', []))}")
        for info in summary["stems"]:
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
    from bridge.core.newsession import create

    def progress(fraction: float, stage: str) -> None:
        if not args.json:
            print(f"  [{fraction * 100:5.1f}%] {stage}", file=sys.stderr)

    r = create(Path(args.dir), args.template, args.prompt, args.bars, args.seed, args.engine, args.loudness,
               args.force, progress)
    if args.json:
        print(json.dumps({"ok": True, "session": str(r.session), "tempo_bpm": r.tempo_bpm, "key": r.key,
                          "mix_lufs": r.mix_lufs, "mix_true_peak_db": r.mix_true_peak_db, "tracks": r.tracks,
                          "understood": r.understood}))
    else:
        print(f"new session {r.session}: {r.tempo_bpm:g} BPM, {r.key}, {len(r.tracks)} tracks, mix "
              f"{r.mix_lufs} LUFS ({r.mix_true_peak_db} dBTP); open it in Ardour")
    return 0


def cmd_install_templates(args: argparse.Namespace) -> int:
    import shutil

    from bridge.ardour.live.scripts import config_home
    from bridge.ardour.programs import majors_to_configure
    from bridge.core.newsession import TEMPLATES

    installed = []
    home = config_home()
    majors = tuple(args.major or ()) or majors_to_configure(home)
    for base in (Path(args.dir),) if args.dir else tuple(home / f"ardour{m}" / "templates" for m in majors):
        for tpl in sorted(TEMPLATES.glob("*/*.template")):
            dest = base / tpl.parent.name
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tpl, dest / tpl.name)
            installed.append(str(dest / tpl.name))
    print("\n".join(f"installed {p}" for p in installed))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bridge.core.demo import run_demo

    r = run_demo(Path(args.dir) if args.dir else None)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"Demo session: {r['session']}  (open it in Ardour)")
        print(f"  {', '.join(r['tracks'])}; {r['tempo_bpm']:g} BPM, {r['key']}; mix {r['mix_lufs']} LUFS")
        print(f"Preview mix:  {r['mix']}  (rendered by {r['rendered_by']})")
        print(f"Took {r['seconds']} s. Next: docs/getting-started.md")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="resonant", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"resonant {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sess = sub.add_parser("session", help="look at and change an Ardour session (closed in Ardour)")
    ss = sess.add_subparsers(dest="action", required=True)

    show = ss.add_parser("show", help="tracks, roles, locks, regions, tempo and meter")
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

    add = ss.add_parser("add-track", help="add an audio track that plays FILE from --bar")
    add.add_argument("path")
    add.add_argument("name", help="the new track's name")
    add.add_argument("file", help="a WAV file at the session's sample rate")
    add.add_argument("--role", choices=ROLES)
    add.add_argument("--lock", action="store_true", help="mark the new track locked")
    audio_args(add)
    add.set_defaults(func=cmd_add_track)

    take = ss.add_parser("add-take", help="give TRACK a new take (playlist) that plays FILE")
    take.add_argument("path")
    take.add_argument("track")
    take.add_argument("file")
    take.add_argument("--name", help="the take's name (default: TRACK.N)")
    audio_args(take)
    take.set_defaults(func=cmd_add_take)

    use = ss.add_parser("use-take", help="make TRACK play one of its earlier takes")
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

    demo = sub.add_parser("demo", help="make a demo session with every role generated, and a preview mix")
    demo.add_argument("dir", nargs="?", help="a new folder (default: ./resonant-demo-<date>-<time>)")
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(func=cmd_demo)

    new = sub.add_parser("new", help="a new Ardour session from a template, every role generated")
    new.add_argument("dir", help="the new session folder (its name names the session)")
    new.add_argument("--template", default="band")
    new.add_argument("--prompt", default="")
    new.add_argument("--bars", type=int, default=8)
    new.add_argument("--seed", type=int, default=0)
    new.add_argument("--engine", default=None)
    new.add_argument("--loudness", type=float, default=-16.0, help="mix loudness target, LUFS")
    new.add_argument("--force", action="store_true", help="replace a session resonant new made in DIR before")
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

    doc = sub.add_parser("doctor", help="check the install: Ardour, JACK, SoundFont, engines, ports, config")
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

    gen = sub.add_parser("generate", help="write new stems (drums, bass, harmony, melody) from a prompt")
    gen.add_argument("--prompt", default="", help='e.g. "dark techno in A minor, 128 bpm, strings"')
    gen.add_argument("--roles", default="drums,bass,harmony,melody", help="comma-separated roles")
    gen.add_argument("--bars", type=int, default=8, help="how many bars")
    gen.add_argument("--first-bar", type=int, default=1, help="the bar the stems start on")
    gen.add_argument("--out", required=True, help="folder for ROLE.wav, ROLE.mid and generation.json")
    gen.add_argument("--session", help="fit the locked tracks of this Ardour session (its tempo, key, chords)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--engine", default=None, help="engine name (default: arranger)")
    gen.add_argument("--temperature", type=float, default=0.5, help="0 plain .. 1 adventurous")
    gen.add_argument("--density", type=float, default=0.5, help="0 sparse .. 1 busy")
    gen.add_argument("--complexity", type=float, default=0.5, help="0 simple .. 1 intricate")
    gen.add_argument("--swing", type=float, default=None, help="0 straight .. 1 triplet (default: the style's)")
    gen.add_argument("--sample-rate", type=int, default=48000, help="without --session")
    gen.add_argument("--loudness", type=float, default=-23.0,
                     help="per-stem target, LUFS (four stems at -23 mix to about -17 LUFS, with headroom)")
    gen.add_argument("--force", action="store_true", help="replace stems already in --out")
    gen.add_argument("--json", action="store_true")
    gen.set_defaults(func=cmd_generate)

    an = sub.add_parser("analyze", help="tempo, key, chords, groove and loudness of the locked tracks")
    an.add_argument("path")
    an.add_argument("--tracks", help="comma-separated track names (default: the locked tracks, else all)")
    an.add_argument("--bars", help="bar range A-B (default: the whole session)")
    an.add_argument("--json", action="store_true")
    an.set_defaults(func=cmd_analyze)

    mx = sub.add_parser("mixdown", help="render tracks to a stereo WAV as Ardour plays them")
    mx.add_argument("path")
    mx.add_argument("out", help="the WAV file to write")
    mx.add_argument("--tracks", help="comma-separated track names (default: all audio tracks)")
    mx.add_argument("--bars", help="bar range A-B (default: the session range)")
    mx.add_argument("--force", action="store_true", help="replace OUT if it exists")
    mx.set_defaults(func=cmd_mixdown)

    for name, locked in (("lock", True), ("unlock", False)):
        sp = ss.add_parser(name, help=f"{name} TRACK: locked tracks are kept and generated around")
        sp.add_argument("path")
        sp.add_argument("track")
        sp.add_argument("--role", choices=ROLES, help="also set the track's role")
        sp.add_argument("--json", action="store_true")
        sp.set_defaults(func=lambda a, locked=locked: cmd_lock(a, locked))
    return p


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
