"""The MCP adapter: a few whole-task tools over ``BridgeService``, with typed, bounded arguments
and structured results, plus resources (a session, a job, the config) and two prompts.

Tools never touch XML, audio or the database themselves; every bridge error becomes a
``ToolError`` whose message says what to change, so a model can correct itself.
"""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
from typing import Annotated, Any
from urllib.parse import unquote

from mcp.server import MCPServer
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.resources.templates import ResourceSecurity
from pydantic import Field, ValidationError

from bridge import __version__
from bridge.core.progress import Eased
from bridge.core.show import parse_bar_range
from bridge.errors import BridgeError, LimitExceeded
from bridge.roles import GeneratedRole as Role
from bridge.roles import Role as AnyRole
from mcp_server.models import (
    Analyze,
    BarRange,
    Complexity,
    DeliveredTrack,
    Delivery,
    Density,
    EngineName,
    Extend,
    JobId,
    JobInfo,
    Locked,
    Loyalty,
    NewDeliver,
    PreviewInfo,
    Prompt,
    Seed,
    SessionInfo,
    SessionPath,
    StemInfo,
    Swing,
    TakeDeliver,
    TakesInfo,
    Temperature,
    TrackInfo,
    TrackName,
    TracksInfo,
    Wait,
)


def _tool_errors(fn):
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except BridgeError as e:
            raise ToolError(f"[{e.code}] {e.message}") from None

    return wrapper


def _hint(j: dict, hints: dict[str, str]) -> str:
    """What the assistant should tell the user and do next, true to what reached the session."""
    if j["status"] == "failed" and j.get("stage") == "partial":
        landed = ", ".join(t["track"] for t in (j.get("delivery") or {}).get("tracks", []))
        return (f"Failed part-way: {landed or 'some tracks'} reached the session (see delivery) and the rest did"
                " not; the error says why. Tell the user, then regenerate only the missing roles.")
    if j["status"] == "failed" and "written into the session before" in (j.get("error") or ""):
        return "Failed after the stems were written: they are in the session (describe_session shows them)."
    return hints.get(j["status"], "")


def _job(j: dict) -> JobInfo:
    hints = {
        "pending": "Queued. Call job_status with this id (wait_seconds up to 50) until it is done.",
        "running": "Running. Call job_status with this id (wait_seconds up to 50) until it is done.",
        "delivering": "Writing the session. Call job_status again in a moment.",
        "done": "Done. The stems are in the session (see delivery); describe_session shows them.",
        "done-files": "Done. No session was given, so the stems are files only (see stems[].wav); nothing was"
                      " added to a session.",
        "failed": "Failed; the error says why. Nothing was written to the session.",
        "cancelled": "Cancelled. Nothing was written to the session.",
    }
    stems = [StemInfo(role=s.get("role"), wav=s.get("wav"), frames=s.get("frames"),
                      loudness_lufs=s.get("metadata", {}).get("loudness_lufs"),
                      understood=s.get("metadata", {}).get("understood"),
                      plan=s.get("metadata", {}).get("plan")) for s in j.get("stems", [])]
    d = j.get("delivery") or {}
    delivery = Delivery(method=d.get("method"), folder=d.get("folder"), note=d.get("note"),
                        warnings=list(d.get("warnings", [])), partial=bool(d.get("partial")),
                        tracks=[DeliveredTrack(track=t.get("track", ""), take=t.get("take"), role=t.get("role"),
                                               bars=t.get("bars"), changed_bars=t.get("changed_bars"),
                                               kind=t.get("kind", "audio"))
                                for t in d.get("tracks", [])])
    if j["status"] == "done" and d.get("method") == "files":
        hints["done"] = hints["done-files"]
    return JobInfo(id=j["id"], kind=j["kind"], status=j["status"], progress=round(j["progress"], 3),
                   stage=j["stage"], session=j["session"], track=j["track"], error=j["error"],
                   delivery=delivery, stems=stems, hint=_hint(j, hints))


def _plain(tool: str, exc: ValidationError, schema: dict[str, Any]) -> str:
    """A schema violation in words a model acts on: which argument, what it must be, what it got."""
    props = schema.get("properties", {})
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        name = ".".join(loc) or "the arguments"
        t, ctx, got = err.get("type", ""), err.get("ctx") or {}, err.get("input")
        shown = repr(got) if len(repr(got)) <= 60 else repr(got)[:57] + "..."
        if t == "missing":
            what = f"`{name}` is required"
        elif t in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            bound = {"greater_than_equal": ("at least", "ge"), "greater_than": ("more than", "gt"),
                     "less_than_equal": ("at most", "le"), "less_than": ("less than", "lt")}[t]
            what = f"`{name}` must be {bound[0]} {ctx.get(bound[1])} (got {shown})"
        elif t == "string_pattern_mismatch":
            what = f"`{name}` is not in the form asked for (got {shown})"
        elif t in ("too_short", "too_long", "string_too_short", "string_too_long"):
            n = ctx.get("min_length", ctx.get("max_length"))
            what = f"`{name}` must have {'at least' if 'short' in t else 'at most'} {n} " + \
                   ("characters" if t.startswith("string") else "items") + f" (got {shown})"
        elif t in ("literal_error", "enum"):
            what = f"`{name}` must be one of {ctx.get('expected')} (got {shown})"
        elif t.endswith("_parsing") or t.endswith("_type"):
            kind = t.removesuffix("_parsing").removesuffix("_type").replace("_", " ")
            what = f"`{name}` must be {'an' if kind[:1] in 'aeiou' else 'a'} {kind} (got {shown})"
        elif t == "extra_forbidden":
            what = f"`{name}` is not an argument of {tool}"
        else:
            what = f"`{name}`: {err.get('msg', 'not valid')}"
        prop = props.get(loc[0], {}) if loc else {}
        desc = prop.get("description") or next((a["description"] for a in prop.get("anyOf", []) if "description" in a),
                                               None)
        out.append(what + (f" \u2014 {desc}" if desc and t != "extra_forbidden" else ""))
    return (f"[invalid_input] {tool}: " + "; ".join(out) + ". Change these arguments and call it again.")


class _Server(MCPServer):
    """The SDK's server, with schema violations told in plain words instead of pydantic's report."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context=None):
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as e:
            if isinstance(e.__cause__, ValidationError) and not isinstance(e, UnexpectedToolError):
                tool = self._tool_manager.get_tool(name)
                raise ToolError(_plain(name, e.__cause__, tool.parameters if tool else {})) from e.__cause__
            raise


class StaticTokenVerifier:
    """Bearer-token check for the HTTP transport: one shared secret, compared in constant time."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def verify_token(self, token: str) -> AccessToken | None:
        if token and secrets.compare_digest(token.encode(), self.token.encode()):
            return AccessToken(token=token, client_id="resonant-user", scopes=[])
        return None


def build_server(service, token: str | None = None, url: str | None = None) -> MCPServer:
    """The server; with ``token`` (and its ``url``) HTTP clients must send ``Authorization: Bearer``."""
    auth = {}
    if token:
        auth = {"token_verifier": StaticTokenVerifier(token),
                # a static secret made for this server alone, never an OAuth token issued for a resource:
                # there is no audience to check (the SDK warns at every start unless told so)
                "auth": AuthSettings(issuer_url=url, resource_server_url=url, validate_token_resource=False)}
    mcp = _Server(
        "resonant-bridge", version=__version__, **auth,
        instructions=(
            "Resonant bridge writes new parts (drums, bass, harmony, melody) into the user's Ardour session "
            "that fit the tracks the user locked. Typical flow: describe_session -> set_tracks (lock what must "
            "stay) -> generate -> job_status until done -> regenerate a track or bars of it -> takes to go back. "
            "A session may be open in Ardour: locks and roles then go beside the session file (Ardour's next "
            "save keeps them), and new parts are imported by Ardour's Resonant hook (installed with "
            "`resonant ardour install-scripts`); a closed session's file is written directly."))

    async def wait_for(job_id: str, wait_seconds: float, ctx: Context | None) -> dict:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        j = await service.job(job_id)
        eased = Eased()  # progress notifications that move between the job's steps (bridge/core/progress.py)
        last = -1.0
        while j["status"] in ("pending", "running", "delivering") and loop.time() < deadline:
            eased.report(j["progress"])
            shown = round(eased.value(), 3)
            if ctx is not None and shown > last:
                await ctx.report_progress(shown, 1.0, j["stage"] or j["status"])
                last = shown
            await asyncio.sleep(0.25)
            j = await service.job(job_id)
        return j

    @mcp.tool()
    @_tool_errors
    async def describe_session(session: SessionPath, analyze: Analyze = True) -> SessionInfo:
        """Look at an Ardour session: tempo, meter, length, every track with its role, lock and takes,
        and (with analyze) the key and chord of each bar that the locked tracks establish.
        Call this first, before locking or generating."""
        d = await service.describe_session(session, regions=False)
        tm = d["tempo_map"]
        tracks = []
        for t in d["tracks"]:
            bars = t["bars"] or [None, None]  # from the first region's start to the last one's end
            tracks.append(TrackInfo(name=t["name"], kind=t["kind"], role=t["role"], role_guessed=t["role_guessed"],
                                    locked=t["locked"], take=t["take"], takes=len(t["takes"]),
                                    regions=t["region_count"], first_bar=bars[0], last_bar=bars[1]))
        info = SessionInfo(name=d["name"], file=d["file"], sample_rate=d["sample_rate"],
                           tempo_bpm=tm["tempos"][0]["bpm"], meter=f"{tm['meters'][0]['divisions_per_bar']:g}/"
                                                                     f"{tm['meters'][0]['note_value']}",
                           tempo_changes=len(tm["tempos"]) - 1, length_bars=d["length_bars"], tracks=tracks,
                           locked=d["locked"])
        if analyze and d["locked"]:
            try:
                a = await service.analysis(session)
            except LimitExceeded as e:  # the description still stands; say why there is no analysis
                info.analysis_notes = [f"not analysed: {e.message}"]
            else:
                info.key = a["key"]
                info.chords = [b["chord"] for b in a["bars"]]
                info.analysis_notes = a["warnings"] + [f"{k}: {v}" for k, v in a["unknown"].items()]
        return info

    @mcp.tool()
    @_tool_errors
    async def set_tracks(session: SessionPath,
                         tracks: Annotated[list[TrackName], Field(min_length=1, max_length=64,
                                                                  description="The tracks to change")],
                         locked: Locked | None = None,
                         role: Annotated[AnyRole, Field(description="The role to give them")] | None = None
                         ) -> TracksInfo:
        """Lock tracks (they are kept exactly and new parts fit them), unlock them, and/or set their role.
        Locked tracks are never changed by generation. Works on a closed session (written into its file)
        and on one open in Ardour (kept beside the file and applied at once; the result's `stored` says
        which)."""
        if locked is None and role is None:
            raise ToolError("give locked and/or role")
        return TracksInfo(**await service.set_tracks(session, list(tracks), role=role, locked=locked))

    @mcp.tool()
    @_tool_errors
    async def generate(roles: Annotated[list[Role], Field(min_length=1, max_length=4, description=(
                           "The parts to write: drums, bass, harmony, melody (each becomes a new track)"))],
                       session: SessionPath | None = None,
                       bars: Annotated[BarRange, Field(description=(
                           'The bars to write, "A-B" with both included, counted from 1: "1-8" is the first eight'
                           ' bars, "9-16" the eight after them (at most 256 bars)'))] = "1-8",
                       prompt: Prompt = "", seed: Seed = 0,
                       temperature: Temperature | None = None, density: Density | None = None,
                       complexity: Complexity | None = None,
                       swing: Swing | None = None, engine: EngineName | None = None, wait_seconds: Wait = 20.0,
                       extend: Extend = False,
                       deliver: NewDeliver | None = None,
                       ctx: Context | None = None) -> JobInfo:
        """Write new parts for the given roles over a bar range, fitting the session's locked tracks (tempo,
        key, chords, groove), and add them to the session as new tracks. The prompt can name a style (techno,
        house, hip hop, lo-fi, trap, rock, metal, funk, jazz, ambient, drum and bass, chiptune, orchestral),
        mood, energy, tempo, key and instruments; locked tracks win over it. Returns within wait_seconds:
        if the job is not done yet, poll job_status with its id. Without a session, stems are only files.
        engine: leave unset for the daemon's default; "arranger" writes MIDI parts and renders them (seconds,
        exact key and chords, always available); "musicgen" writes audio with a neural model (needs local
        weights, slow without a GPU; its result says how each stem was made)."""
        first, last = parse_bar_range(bars)
        if last - first + 1 > 256:
            raise ToolError(f"[invalid_input] bars {bars!r}: at most 256 bars at a time")
        j = await service.generate(session, list(roles), bars=last - first + 1, first_bar=first, prompt=prompt,
                                   seed=seed,
                                   temperature=temperature, density=density, complexity=complexity, swing=swing,
                                   engine=engine, extend=extend, deliver=deliver)
        return _job(await wait_for(j["id"], wait_seconds, ctx))

    @mcp.tool()
    @_tool_errors
    async def regenerate(session: SessionPath, track: TrackName,
                         bars: BarRange | None = None, prompt: Prompt = "",
                         seed: Seed = 0, loyalty: Loyalty = 0.5,
                         engine: EngineName | None = None, wait_seconds: Wait = 20.0, extend: Extend = False,
                         deliver: TakeDeliver | None = None, ctx: Context | None = None) -> JobInfo:
        """Write a new take of one unlocked track (or only bars A-B of it, joined smoothly to the rest). The old
        take stays in the session: use takes to list and choose. loyalty 1 keeps close to the old notes. A MIDI
        track gets a MIDI take from the notes it plays now (the user's edits included); notes outside the bars
        stay exactly as they were."""
        j = await service.regenerate(session, track, bars=parse_bar_range(bars), prompt=prompt, seed=seed,
                                     loyalty=loyalty, engine=engine, extend=extend, deliver=deliver)
        return _job(await wait_for(j["id"], wait_seconds, ctx))

    @mcp.tool()
    @_tool_errors
    async def job_status(job_id: JobId, wait_seconds: Wait = 0.0,
                         ctx: Context | None = None) -> JobInfo:
        """The state of a generation job (pending, running, delivering, done, failed, cancelled), optionally
        waiting up to wait_seconds for it to finish."""
        return _job(await wait_for(job_id, wait_seconds, ctx))

    @mcp.tool()
    @_tool_errors
    async def cancel_job(job_id: JobId) -> JobInfo:
        """Stop a pending or running job. Nothing it would have written reaches the session."""
        return _job(await service.cancel(job_id))

    @mcp.tool()
    @_tool_errors
    async def job_history(session: SessionPath | None = None,
                          limit: Annotated[int, Field(ge=1, le=100, description="At most this many jobs")] = 20
                          ) -> list[JobInfo]:
        """Recent jobs, newest first, for one session or all."""
        return [_job(j) for j in await service.jobs(session, limit=limit)]

    @mcp.tool()
    @_tool_errors
    async def takes(session: SessionPath, track: TrackName,
                    choose: Annotated[str, Field(min_length=1, max_length=128, description=(
                        "A take's name (from takes[].name) to make it the one that plays"))] | None = None
                    ) -> TakesInfo:
        """List a track's takes (oldest first) and which plays; with choose (a take name), make it play."""
        if choose:
            return TakesInfo(**await service.choose_take(session, track, choose))
        return TakesInfo(**await service.takes(session, track))

    @mcp.tool()
    @_tool_errors
    async def render_preview(session: SessionPath,
                             tracks: Annotated[list[TrackName], Field(max_length=64, description=(
                                 "Only these tracks; unset = every audio track"))] | None = None,
                             bars: BarRange | None = None) -> PreviewInfo:
        """Render a stereo WAV of the session (or some tracks / bars) as Ardour plays it, to listen to or
        analyse. Returns the file path and its loudness."""
        return PreviewInfo(**await service.preview(session, list(tracks) if tracks else None, parse_bar_range(bars)))

    @mcp.resource("resonant://config", mime_type="application/json")
    def config_resource() -> str:
        """The daemon's configuration: ports, roots, and the engines that can run here (with why the others
        cannot)."""
        from bridge.core.ops import usable_engines

        c = service.config
        engines = usable_engines()
        return json.dumps({"bind": c.bind, "osc_port": c.osc_port, "data_dir": str(c.data_dir),
                           "session_roots": [str(p) for p in c.session_roots], "default_engine": c.default_engine,
                           "engines": [n for n, why in engines.items() if why.startswith("usable")],
                           "engines_not_usable": {n: why for n, why in engines.items() if not why.startswith("usable")},
                           "musicgen_model": c.musicgen_model or None, "queue_size": c.queue_size,
                           "limits": {"audio_seconds": c.limit_audio_seconds, "regions": c.limit_regions,
                                      "tracks": c.limit_tracks}})

    @mcp.resource("resonant://jobs/{job_id}", mime_type="application/json")
    async def job_resource(job_id: str) -> str:
        """One job, as job_status returns it."""
        try:
            return _job(await service.job(job_id)).model_dump_json()
        except BridgeError as e:
            raise ToolError(e.message) from None

    # the path is absolute by nature; the service checks it against the session roots instead
    @mcp.resource("resonant://session/{+path}", mime_type="application/json",
                  security=ResourceSecurity(exempt_params={"path"}))
    async def session_resource(path: str) -> str:
        """A session's description: resonant://session/<absolute path, URL-encoded or not>."""
        try:
            return json.dumps(await service.describe_session(unquote(path)))
        except BridgeError as e:
            raise ToolError(e.message) from None

    @mcp.prompt()
    def arrange_around_locked_tracks(session: str, style: str = "") -> str:
        """Arrange a song around the tracks the user locked."""
        return (f"Open the Ardour session at {session} with describe_session. Lock the tracks the user wants to "
                "keep (set_tracks), then generate the missing roles (drums, bass, harmony, melody) over the "
                f"session's bars{' in the style ' + style if style else ''}, poll job_status until done, and "
                "render_preview to check the result. Offer to regenerate any part the user does not like; "
                "earlier takes stay available through takes.")

    @mcp.prompt()
    def try_another_take(session: str, track: str) -> str:
        """Regenerate one track and compare takes."""
        return (f"In {session}, regenerate the track {track!r} (keep its role), wait for the job, render a "
                "preview, and if the user prefers the old one, choose it back with takes.")

    return mcp
