"""The MCP server with the SDK's real Client: in-process, over stdio, over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from bridge.ardour import read_session
from bridge.core.config import load_config
from bridge.core.service import BridgeService
from mcp_server.server import build_server
from tests import ardour_tools
from tests.ardour_tools import folder_state
from tests.daemon_tools import free_port, start_daemon
from tests.synth import bass_and_chords
from tests.test_analysis import make_session


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def song(tmp_path: Path) -> Path:
    """An Ardour-made session (tests/fixtures) holding a chord track in F# minor at 97 BPM."""
    _, keys = bass_and_chords(97.0, 4)
    folder = make_session(tmp_path / "s", 97.0, {"Keys": (keys, "harmony")})
    # the fixture locks what it adds; start from an unlocked track, as a user would
    from bridge.ardour import SessionEditor

    ed = SessionEditor(read_session(folder))
    ed.set_role("Keys", locked=False)
    ed.commit()
    return folder


async def _with_client(tmp_path: Path, body, roots: list[Path] | None = None):
    cfg = load_config(data_dir=str(tmp_path / "data"), env={})
    if roots is not None:
        cfg.session_roots = roots
    svc = await BridgeService.start(cfg)
    try:
        async with Client(build_server(svc), raise_exceptions=False) as c:
            return await body(c)
    finally:
        await svc.stop()


def test_an_assistant_session(song: Path, tmp_path: Path) -> None:
    """describe -> lock -> generate two roles (with progress) -> poll -> regenerate one -> choose the
    earlier take; the session ends as expected."""

    async def body(c: Client) -> None:
        tools = {t.name for t in (await c.list_tools()).tools}
        assert tools == {"describe_session", "set_tracks", "generate", "regenerate", "job_status", "cancel_job",
                         "job_history", "takes", "render_preview"}
        d = (await c.call_tool("describe_session", {"session": str(song)})).structured_content
        assert d["tempo_bpm"] == 97.0 and [t["name"] for t in d["tracks"]] == ["Keys"] and d["locked"] == []
        r = await c.call_tool("set_tracks", {"session": str(song), "tracks": ["Keys"], "locked": True})
        assert r.structured_content["tracks"][0]["locked"] is True
        d = (await c.call_tool("describe_session", {"session": str(song)})).structured_content
        assert d["key"] == "F# minor" and d["chords"][:4] == ["F#m", "D", "A", "E"]
        progress: list[float] = []

        async def on_progress(p: float, total: float | None, message: str | None) -> None:
            progress.append(p)

        r = await c.call_tool("generate", {"session": str(song), "roles": ["drums", "bass"], "bars": "1-4",
                                           "prompt": "hip hop", "wait_seconds": 0}, progress_callback=on_progress)
        job = r.structured_content
        assert not r.is_error and job["status"] in ("pending", "running") and "job_status" in job["hint"]
        for _ in range(100):
            job = (await c.call_tool("job_status", {"job_id": job["id"], "wait_seconds": 5},
                                     progress_callback=on_progress)).structured_content
            if job["status"] not in ("pending", "running", "delivering"):
                break
        assert job["status"] == "done", job["error"]
        assert progress and max(progress) > 0
        assert [s["plan"]["key"] for s in job["stems"]] == ["F# minor", "F# minor"]
        r = await c.call_tool("regenerate", {"session": str(song), "track": "Bass", "bars": "2-3", "seed": 9,
                                             "wait_seconds": 50})
        assert r.structured_content["status"] == "done", r.structured_content["error"]
        t = (await c.call_tool("takes", {"session": str(song), "track": "Bass"})).structured_content
        assert [x["name"] for x in t["takes"]] == ["Bass", "Bass.1"] and t["active"] == "Bass.1"
        t = (await c.call_tool("takes", {"session": str(song), "track": "Bass", "choose": "Bass"})).structured_content
        assert t["active"] == "Bass"
        p = (await c.call_tool("render_preview", {"session": str(song), "bars": "1-2"})).structured_content
        assert p["seconds"] == pytest.approx(2 * 4 * 60 / 97, abs=0.01) and Path(p["wav"]).is_file()
        h = (await c.call_tool("job_history", {"session": str(song)})).structured_content["result"]
        assert [j["kind"] for j in h] == ["regenerate", "generate"]
        res = await c.read_resource(f"resonant://jobs/{job['id']}")
        assert job["id"] in res.contents[0].text
        conf = json.loads((await c.read_resource("resonant://config")).contents[0].text)
        assert conf["default_engine"] == "arranger" and "arranger" in conf["engines"]
        # listed as usable only where it can run; else with the reason
        assert "musicgen" in conf["engines"] or "musicgen" in conf["engines_not_usable"]
        assert "musicgen" not in conf["engines"] or "musicgen" not in conf["engines_not_usable"]
        prompts = {p.name for p in (await c.list_prompts()).prompts}
        assert "arrange_around_locked_tracks" in prompts

    run(_with_client(tmp_path, body))
    s = read_session(song)
    assert [(t.name, t.locked) for t in s.tracks] == [("Keys", True), ("Drums", False), ("Bass", False)]
    assert s.playlist_of(s.track("Bass")).name == "Bass"
    assert [p.name for p in s.takes_of(s.track("Bass"))] == ["Bass", "Bass.1"]
    # and Ardour loads what the assistant made (required in CI; skipped here only without Ardour)
    if os.environ.get("CI") == "true" or ardour_tools.host() is not None:
        theirs = ardour_tools.dump(song, "Song")
        assert sorted(theirs) == ["Bass", "Drums", "Keys"] and theirs["Bass"][0]["playlist"] == "Bass"


BAD = [
    ("describe_session", {}, "session"),
    ("describe_session", {"session": 5}, "session"),
    # outside the roots: refused as such, telling nothing about what is there
    ("describe_session", {"session": "/no/such/session"}, "unsafe_path"),
    ("describe_session", {"session": "{song}/../no-such-session"}, "session_not_found"),
    ("describe_session", {"session": "{song}/../../etc"}, ""),
    ("set_tracks", {"session": "{song}", "tracks": []}, "tracks"),
    ("set_tracks", {"session": "{song}", "tracks": ["Keys"]}, "locked and/or role"),
    ("set_tracks", {"session": "{song}", "tracks": ["Nobody"], "locked": True}, "unknown_track"),
    ("set_tracks", {"session": "{song}", "tracks": ["Keys"], "role": "vocals"}, "role"),
    ("generate", {"roles": []}, "roles"),
    ("generate", {"roles": ["vocals"]}, "roles"),
    ("generate", {"roles": ["bass"], "bars": 8}, "bars"),
    ("generate", {"roles": ["bass"], "bars": "many"}, "bars"),
    ("generate", {"roles": ["bass"], "bars": "0-3"}, "bars"),
    ("generate", {"roles": ["bass"], "bars": "1-300"}, "at most 256 bars"),
    ("generate", {"roles": ["bass"], "temperature": 2}, "temperature"),
    ("generate", {"roles": ["bass"], "seed": -1}, "seed"),
    ("generate", {"roles": ["bass"], "prompt": "x" * 2001}, "prompt"),
    ("generate", {"roles": ["bass"], "wait_seconds": 999}, "wait_seconds"),
    ("generate", {"roles": ["bass"], "session": "/etc/passwd"}, "session"),
    ("regenerate", {"session": "{song}", "track": "Keys", "bars": "9"}, "bars"),
    ("regenerate", {"session": "{song}", "track": "Keys", "bars": "5-2"}, "bars"),
    ("regenerate", {"session": "{song}", "track": "Nobody"}, "unknown_track"),
    ("regenerate", {"session": "{song}", "track": "Keys", "loyalty": -0.5}, "loyalty"),
    ("job_status", {"job_id": "../../x"}, "job_id"),
    ("job_status", {"job_id": "0123456789ab"}, "unknown_job"),
    ("cancel_job", {"job_id": "0123456789ab"}, "unknown_job"),
    ("job_history", {"limit": 0}, "limit"),
    ("takes", {"session": "{song}", "track": "Keys", "choose": "Keys.7"}, "no take"),
    ("takes", {"session": "{song}", "track": "Nobody"}, "unknown_track"),
    ("render_preview", {"session": "{song}", "bars": "0-1"}, "bars"),
    ("render_preview", {"session": "{song}", "tracks": ["Nobody"]}, "unknown_track"),
    ("generate", {"session": "{song}", "roles": ["drums"], "engine": "nope"}, "unknown engine 'nope'"),
    ("generate", {"session": "{song}", "roles": ["drums"], "engine": "Bad Name!"}, "engine"),
    ("regenerate", {"session": "{song}", "track": "Keys", "engine": "nope"}, "engine"),
]


def test_bad_arguments_are_errors_that_change_nothing(song: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    other = make_session(outside, 97.0, {})
    before = folder_state(song)

    async def body(c: Client) -> None:
        for tool, args, needle in BAD:
            args = {k: (v.replace("{song}", str(song)) if isinstance(v, str) else v) for k, v in args.items()}
            r = await c.call_tool(tool, args)
            text = " ".join(getattr(x, "text", "") for x in r.content)
            assert r.is_error, (tool, args, text)
            assert needle in text, (tool, args, text)
        # a session outside the allowed roots
        r = await c.call_tool("describe_session", {"session": str(other)})
        assert r.is_error and "unsafe_path" in r.content[0].text

    run(_with_client(tmp_path, body, roots=[song.parent]))
    assert folder_state(song) == before


def test_stdio(song: Path, tmp_path: Path) -> None:
    async def go() -> None:
        params = StdioServerParameters(command=sys.executable, args=["-m", "bridge.frontends.cli", "mcp", "--data-dir",
                                                                     str(tmp_path / "data")])
        async with Client(params) as c:
            assert "generate" in {t.name for t in (await c.list_tools()).tools}
            r = await c.call_tool("describe_session", {"session": str(song), "analyze": False})
            assert r.structured_content["tracks"][0]["name"] == "Keys"

    run(go())


def test_http_needs_the_token(song: Path, tmp_path: Path) -> None:
    port = free_port()
    proc, _ = start_daemon(tmp_path / "data", "--mcp-port", str(port))
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        assert httpx2.post(url, json={}).status_code == 401
        assert httpx2.post(url, json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401
        token = (tmp_path / "data" / "mcp-token").read_text().strip()
        assert (tmp_path / "data" / "mcp-token").stat().st_mode & 0o077 == 0

        async def go() -> None:
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as hc, \
                    Client(streamable_http_client(url, http_client=hc)) as c:
                r = await c.call_tool("describe_session", {"session": str(song), "analyze": False})
                assert r.structured_content["name"] == "Fresh"

        run(go())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def _undescribed(schema: dict, where: str, defs: dict) -> list[str]:
    """Properties of a JSON schema (and of the models it refers to) that carry no description."""
    missing = []
    for name, prop in schema.get("properties", {}).items():
        options = [prop, *prop.get("anyOf", []), *prop.get("allOf", [])]
        if not any(o.get("description") for o in options):
            missing.append(f"{where}.{name}")
        nested = options + [opt.get("items", {}) for opt in options]
        for o in nested:
            ref = o.get("$ref")
            if ref and ref.split("/")[-1] not in defs.get("_seen", set()):
                defs.setdefault("_seen", set()).add(ref.split("/")[-1])
                missing += _undescribed(defs[ref.split("/")[-1]], ref.split("/")[-1], defs)
    return missing


def test_every_tool_parameter_and_output_field_is_described(tmp_path: Path) -> None:
    async def body(c: Client) -> None:
        missing = []
        for tool in (await c.list_tools()).tools:
            assert tool.description and len(tool.description) > 40, tool.name
            missing += _undescribed(tool.input_schema, f"{tool.name}(in)", tool.input_schema.get("$defs", {}))
            out = tool.output_schema or {}
            if out.get("type") == "object" and "result" in out.get("properties", {}):  # a list, wrapped
                out = {"properties": {}, **{"$defs": out.get("$defs", {})}} | {
                    "properties": {"result": {**out["properties"]["result"], "description": "wrapped"}}}
            missing += _undescribed(out, f"{tool.name}(out)", out.get("$defs", {}))
        assert not missing, missing

    run(_with_client(tmp_path, body))


def test_a_files_only_job_says_so_and_delivery_is_typed(tmp_path: Path) -> None:
    async def body(c: Client) -> None:
        r = (await c.call_tool("generate", {"roles": ["bass"], "bars": "1-1", "wait_seconds": 40})).structured_content
        assert r["status"] == "done", r
        assert r["delivery"]["method"] == "files" and r["delivery"]["folder"]
        assert "files only" in r["hint"] and "in the session" not in r["hint"]
        assert r["stems"][0]["wav"].endswith("bass.wav")

    run(_with_client(tmp_path, body))


def test_set_tracks_says_where_the_change_went_and_bars_are_true(song: Path, tmp_path: Path) -> None:
    async def body(c: Client) -> None:
        r = (await c.call_tool("set_tracks", {"session": str(song), "tracks": ["Keys"], "locked": True})
             ).structured_content
        assert r["stored"] == "in the session file" and r["tracks"] == [{"name": "Keys", "role": r["tracks"][0]["role"],
                                                                          "locked": True}]
        d = (await c.call_tool("describe_session", {"session": str(song), "analyze": False})).structured_content
        keys = d["tracks"][0]
        s = read_session(song)
        regions = s.regions_of(s.track("Keys"))
        assert keys["first_bar"] == s.tempo_map.bar_containing(min(r.position for r in regions))
        assert keys["last_bar"] == s.tempo_map.bar_containing(max(r.end for r in regions) - 1)
        assert keys["last_bar"] > keys["first_bar"], keys  # the end of the take, not its start again

    run(_with_client(tmp_path, body))


def test_schema_violations_are_told_in_plain_words(tmp_path: Path) -> None:
    async def body(c: Client) -> None:
        cases = [
            ({"roles": ["bass"], "bars": 8}, ["`bars` must be a string (got 8)", '"A-B" with both included']),
            ({"roles": ["bass"], "temperature": 2}, ["`temperature` must be at most 1.0 (got 2)", "0 = the most"]),
            ({"roles": ["vocals"]}, ["`roles.0` must be one of", "'drums'", "(got 'vocals')"]),
            ({}, ["`roles` is required"]),
            ({"roles": ["bass"], "bars": "8"}, ["`bars` is not in the form asked for (got '8')"]),
        ]
        for args, needles in cases:
            r = await c.call_tool("generate", args)
            text = " ".join(getattr(x, "text", "") for x in r.content)
            assert r.is_error and text.startswith("[invalid_input] generate: "), text
            assert "validation error" not in text and "pydantic" not in text, text  # not the library's report
            assert text.endswith("Change these arguments and call it again."), text
            for n in needles:
                assert n in text, (n, text)

    run(_with_client(tmp_path, body))


def test_progress_moves_between_the_jobs_steps(song: Path, tmp_path: Path) -> None:
    """A job's own progress comes in steps; what the assistant is told moves at least every half second,
    never back, and reaches 1 only when the job is done."""
    import time as _time

    async def body(c: Client) -> None:
        seen: list[tuple[float, float]] = []

        async def on_progress(p: float, total: float | None, message: str | None) -> None:
            seen.append((_time.monotonic(), p))

        r = await c.call_tool("generate", {"session": str(song), "roles": ["drums", "bass", "harmony", "melody"],
                                           "bars": "1-32", "prompt": "orchestral", "wait_seconds": 50,
                                           "extend": True}, progress_callback=on_progress)
        assert not r.is_error and r.structured_content["status"] == "done", r.content
        values = [p for _, p in seen]
        assert values == sorted(values) and max(values) < 1.0, values
        times = [t for t, _ in seen]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert len(seen) >= 4 and max(gaps) < 1.0, (gaps, values)

    run(_with_client(tmp_path, body))


def test_an_assistant_delivers_a_part_as_midi_and_regenerates_its_bars(song: Path, tmp_path: Path) -> None:
    """generate deliver="both" through the SDK's client: an audio and a MIDI track, each delivered track
    saying its kind; regenerate the MIDI track's bars 2-2: a MIDI take; musicgen asked for MIDI is told why."""
    async def body(c: Client) -> None:
        r = (await c.call_tool("generate", {"session": str(song), "roles": ["bass"], "bars": "1-2",
                                            "deliver": "both", "wait_seconds": 45})).structured_content
        assert r["status"] == "done", r
        assert [(t["track"], t["kind"]) for t in r["delivery"]["tracks"]] == [("Bass", "audio"), ("Bass MIDI", "midi")]
        g = (await c.call_tool("regenerate", {"session": str(song), "track": "Bass MIDI", "bars": "2-2",
                                              "wait_seconds": 45})).structured_content
        assert g["status"] == "done", g
        (take,) = g["delivery"]["tracks"]
        assert take["kind"] == "midi" and take["track"] == "Bass MIDI" and take["changed_bars"] == [2, 2]
        s = read_session(song)
        assert s.playlist_of(s.track("Bass MIDI")).name == take["take"] and len(s.takes_of(s.track("Bass MIDI"))) == 2
        bad = await c.call_tool("generate", {"session": str(song), "roles": ["bass"], "deliver": "midi",
                                             "engine": "musicgen"})
        text = " ".join(getattr(x, "text", "") for x in bad.content)
        assert bad.is_error and "audio only" in text, text

    run(_with_client(tmp_path, body))
