"""CLI, OSC and MCP are one core: the same request gives the same result and the same error code, on a
closed session and on one open in Ardour, and all three read the default config file's session roots
(``$XDG_CONFIG_HOME/resonant/config.toml``) without being told about it.

Each frontend works on its own copy of the same session; the copies must end alike."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from bridge.ardour import SessionEditor, read_session
from bridge.ardour.live import inbox
from bridge.ardour.writer import Clip
from bridge.core.config import load_config
from bridge.core.service import BridgeService
from bridge.frontends.cli.main import main as cli
from mcp_server.server import build_server
from tests import ardour_tools
from tests.conftest import FIXTURES, write_wav
from tests.daemon_tools import OscClient, start_daemon

FRONTENDS = ("cli", "osc", "mcp")
CODE = re.compile(r"\[([a-z_]+)\]")


def _song(folder: Path, wav: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "empty-ardour-7.3.ardour", folder / "Song.ardour")
    ed = SessionEditor(read_session(folder))
    ed.add_audio_track("Bass", [Clip(wav, 0)], role="bass")
    ed.add_audio_track("Keys", [Clip(wav, 0)], role="harmony")
    ed.commit()
    return folder


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A default config file that confines sessions to ``roots/`` and waits 2 s for Ardour's hook;
    a session per frontend inside the roots, and one outside them."""
    roots = tmp_path / "roots"
    xdg = tmp_path / "xdg"
    (xdg / "resonant").mkdir(parents=True)
    (xdg / "resonant" / "config.toml").write_text(
        f'[sessions]\nroots = ["{roots}"]\n[daemon]\ndata_dir = "{tmp_path / "data"}"\n'
        '[ardour]\nack_timeout_s = 2\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.delenv("RESONANT_CONFIG", raising=False)
    monkeypatch.delenv("RESONANT_SESSION_ROOTS", raising=False)
    wav = write_wav(tmp_path / "tone.wav", 8.0, channels=2, freq=110, amp=0.3)  # 4 bars at 120 BPM
    songs = {f: _song(roots / f / "Song", wav) for f in FRONTENDS}
    return {"xdg": xdg, "songs": songs, "outside": _song(tmp_path / "elsewhere" / "Song", wav), "tmp": tmp_path}


# -- one way to ask each frontend; each answers ("ok" or an error code, what it returned) -------------

def _cli(*argv: str) -> tuple[str, Any]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = cli([*argv, "--json"])
    out = json.loads(buf.getvalue().strip().splitlines()[-1])
    if "status" in out:  # a job
        return _job_outcome(out)
    return ("ok" if rc == 0 else out["error"]), out


def _job_outcome(job: dict) -> tuple[str, Any]:
    if job["status"] == "done":
        return "ok", job
    m = CODE.search(job["error"] or "")
    return (m.group(1) if m else job["status"]), job


class Osc:
    def __init__(self, world: dict) -> None:
        self.proc, port = start_daemon(world["tmp"] / "osc-data", env={"XDG_CONFIG_HOME": str(world["xdg"])})
        self.c = OscClient(port, timeout=10)

    def ask(self, address: str, *args: Any) -> tuple[str, Any]:
        addr, reply = self.c.ask(address, *args)
        if addr == "/resonant/error":
            return reply[1], reply
        if address in ("/resonant/generate", "/resonant/regenerate"):
            job = reply[0]
            for _ in range(400):
                _, st = self.c.ask("/resonant/job/status", job)
                if st[1] in ("done", "failed", "cancelled"):
                    break
                time.sleep(0.1)
            m = CODE.search(st[4])
            return ("ok" if st[1] == "done" else (m.group(1) if m else st[1])), st
        return "ok", reply

    def close(self) -> None:
        self.c.close()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


async def _mcp(c: Client, tool: str, args: dict) -> tuple[str, Any]:
    r = await c.call_tool(tool, args)
    if r.is_error:
        text = " ".join(getattr(x, "text", "") for x in r.content)
        m = CODE.search(text)
        return (m.group(1) if m else text), text
    out = r.structured_content
    if tool in ("generate", "regenerate"):
        while out["status"] in ("pending", "running", "delivering"):
            out = (await c.call_tool("job_status", {"job_id": out["id"], "wait_seconds": 5})).structured_content
        return _job_outcome(out)
    return "ok", out


# -- the requests, as each frontend spells them ------------------------------------------------------

def _requests(song: Path) -> list[tuple[str, tuple | None, tuple | None, tuple[str, dict] | None]]:
    """(what, CLI argv, OSC message, MCP call) for the same request."""
    s = str(song)
    return [
        ("lock Bass", ("session", "lock", s, "Bass"), ("/resonant/track/lock", s, "Bass"),
         ("set_tracks", {"session": s, "tracks": ["Bass"], "locked": True})),
        ("unlock Bass", ("session", "unlock", s, "Bass"), ("/resonant/track/unlock", s, "Bass"),
         ("set_tracks", {"session": s, "tracks": ["Bass"], "locked": False})),
        ("role of Keys", ("session", "role", s, "Keys", "melody"), ("/resonant/track/role", s, "Keys", "melody"),
         ("set_tracks", {"session": s, "tracks": ["Keys"], "role": "melody"})),
        ("lock nobody", ("session", "lock", s, "Nobody"), ("/resonant/track/lock", s, "Nobody"),
         ("set_tracks", {"session": s, "tracks": ["Nobody"], "locked": True})),
        ("generate drums", ("generate", "--into", s, "--roles", "drums", "--bars", "2", "--prompt", "funk",
                            "--seed", "3"),
         ("/resonant/generate", s, "drums", "funk", 2, 1, 3),
         ("generate", {"session": s, "roles": ["drums"], "bars": "1-2", "prompt": "funk", "seed": 3})),
        ("generate past the end", ("generate", "--into", s, "--roles", "drums", "--bars", "2", "--first-bar", "9"),
         ("/resonant/generate", s, "drums", "", 2, 9, 0),
         ("generate", {"session": s, "roles": ["drums"], "bars": "9-10"})),
        ("regenerate Bass", ("regenerate", s, "Bass", "--bars", "2-3", "--seed", "4"),
         ("/resonant/regenerate", s, "Bass", "2-3", "", 4),
         ("regenerate", {"session": s, "track": "Bass", "bars": "2-3", "seed": 4})),
        ("lock, then regenerate the locked Bass", None, None, None),
        ("regenerate nobody", ("regenerate", s, "Nobody"), ("/resonant/regenerate", s, "Nobody", "", "", 0),
         ("regenerate", {"session": s, "track": "Nobody"})),
    ]


def _state(song: Path) -> list[tuple]:
    s = read_session(song)
    return [(t.name, t.role, t.locked, [p.name for p in s.takes_of(t)], len(s.regions_of(t))) for t in s.tracks]


async def _ask_all(world: dict, osc: Osc, mcp: Client, what: str) -> dict[str, str]:
    """The same request through every frontend, each on its own copy; the outcome of each. The CLI
    and the OSC client block, so they run in threads beside the MCP client's loop."""
    out: dict[str, str] = {}
    for f in FRONTENDS:
        reqs = {r[0]: r for r in _requests(world["songs"][f])}
        if what == "lock, then regenerate the locked Bass":
            steps = [reqs["lock Bass"], reqs["regenerate Bass"], reqs["unlock Bass"]]
        else:
            steps = [reqs[what]]
        codes = []
        for _, argv, msg, call in steps:
            if f == "cli":
                codes.append((await asyncio.to_thread(_cli, *argv))[0])
            elif f == "osc":
                codes.append((await asyncio.to_thread(osc.ask, *msg))[0])
            else:
                codes.append((await _mcp(mcp, *call))[0])
        out[f] = "/".join(codes)
    return out


def _check_all(world: dict, expected: dict[str, str]) -> None:
    """Every request gives the same outcome through every frontend, and the copies end alike."""

    async def go() -> None:
        osc = await asyncio.to_thread(Osc, world)
        svc = await BridgeService.start(load_config())  # the default config file, as `resonant mcp` reads it
        try:
            async with Client(build_server(svc), raise_exceptions=False) as mcp:
                for what, want in expected.items():
                    got = await _ask_all(world, osc, mcp, what)
                    assert set(got.values()) == {want}, (what, got)
                    states = {f: _state(world["songs"][f]) for f in FRONTENDS}
                    assert states["cli"] == states["osc"] == states["mcp"], (what, states)
                # the config file's roots confine all three
                out = str(world["outside"])
                assert (await asyncio.to_thread(_cli, "session", "lock", out, "Bass"))[0] == "unsafe_path"
                assert (await asyncio.to_thread(osc.ask, "/resonant/track/lock", out, "Bass"))[0] == "unsafe_path"
                assert (await _mcp(mcp, "set_tracks", {"session": out, "tracks": ["Bass"], "locked": True}))[0] \
                    == "unsafe_path"
                assert (await asyncio.to_thread(_cli, "generate", "--into", out, "--roles", "bass", "--bars", "1")
                        )[0] == "unsafe_path"
        finally:
            await svc.stop()
            await asyncio.to_thread(osc.close)

    asyncio.run(go())


CLOSED = {"lock Bass": "ok", "unlock Bass": "ok", "role of Keys": "ok", "lock nobody": "unknown_track",
          "generate drums": "ok", "generate past the end": "invalid_input", "regenerate Bass": "ok",
          "lock, then regenerate the locked Bass": "ok/invalid_input/ok", "regenerate nobody": "unknown_track"}


def test_closed_session_same_results_and_codes_everywhere(world: dict) -> None:
    _check_all(world, CLOSED)
    s = read_session(world["songs"]["mcp"])
    assert [t.name for t in s.tracks] == ["Bass", "Keys", "Drums"]
    assert s.track("Keys").role == "melody" and [p.name for p in s.takes_of(s.track("Bass"))] == ["Bass", "Bass.1"]


@pytest.mark.ardour
def test_open_session_same_results_and_codes_everywhere(world: dict) -> None:
    """Ardour has each copy open (its own Lua holds it; no hook runs in it): locks and roles go beside
    the file, generated parts go to the inbox and, unacknowledged, fail alike; the file is untouched."""
    ardour_tools.require_ardour()
    files = {f: world["songs"][f] / "Song.ardour" for f in FRONTENDS}
    with contextlib.ExitStack() as stack:
        for f in FRONTENDS:
            stack.enter_context(ardour_tools.hold_open(world["songs"][f], "Song"))
        before = {f: files[f].read_bytes() for f in FRONTENDS}
        _check_all(world, {**CLOSED, "generate drums": "not_acknowledged", "regenerate Bass": "not_acknowledged"})
        assert all(files[f].read_bytes() == before[f] for f in FRONTENDS)  # never written while open
        for f in FRONTENDS:  # the parts wait in each inbox for the hook, two jobs each
            assert len(inbox.waiting(inbox.inbox_of(world["songs"][f]))) == 2
        s = read_session(world["songs"]["cli"])  # the overlay applies at once
        assert s.track("Keys").role == "melody" and not s.track("Bass").locked
