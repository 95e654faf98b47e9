"""Bounded work under hostile input, measured on the real daemon (OSC and MCP over HTTP).

    .venv/bin/python bench/hardening.py

Starts ``resonant serve`` with a session root holding sessions built to hurt (10k/40k/90k regions,
a range ending at 2^62, a 24-hour range, a 70,000-character track name), fires each request of
the limits corpus, and prints for each: the answer, how long it took as a ratio to a plain
describe of a one-region session measured in the same run, the daemon's peak RSS (VmHWM) after
it, and whether ping was answered right after. Target: every refusal under 1 s, RSS under 1 GB (also for
the heaviest request allowed: four tracks as long as [limits] audio_seconds, analysed and rendered),
90,000 regions described in under 5 s.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import FIXTURES, write_wav  # noqa: E402
from tests.daemon_tools import OscClient, free_port, start_daemon  # noqa: E402


def session(parent: Path, name: str, regions: int = 0, end: str | None = None, route: str | None = None) -> Path:
    folder = parent / name
    audio = folder / "interchange" / name / "audiofiles"
    audio.mkdir(parents=True)
    (folder / "interchange" / name / "midifiles").mkdir()
    write_wav(audio / "drums.wav", 10.0, freq=110.0)
    text = (FIXTURES / "v7003.ardour").read_text()
    text = text.replace('<Source name="keys.mid"', '<Source name="keys-missing.mid"')
    if regions:
        m = re.compile(r"<Region [^>]*/>|<Region [^>]*>.*?</Region>", re.S).search(text, text.index("<Playlists>"))
        one = m.group(0)
        copies = "".join(re.sub(r'id="\d+"', f'id="{900000 + i}"', one, count=1) for i in range(regions))
        text = text[:m.end()] + copies + text[m.end():]
    if end:
        text = re.sub(r'(<Location[^>]*name="session"[^>]*end=")[^"]*"', rf'\g<1>{end}"', text)
    if route:
        text = text.replace('name="Drums"', f'name="{route}"', 1)
    (folder / f"{name}.ardour").write_text(text)
    return folder


def long_song(parent: Path, seconds: float, tracks: int = 4) -> Path:
    """A song at the audio limit: ``tracks`` stereo tracks of ``seconds`` each (the heaviest a request may be)."""
    import numpy as np
    import soundfile as sf

    from bridge.ardour import Clip, SessionEditor, read_session

    folder = parent / "Long"
    folder.mkdir()
    shutil.copy(FIXTURES / "empty-ardour-7.3.ardour", folder / "Long.ardour")
    ed = SessionEditor(read_session(folder))
    n = int(seconds * 48000)
    for i in range(tracks):
        w = parent / f"long{i}.wav"
        tone = (0.1 * np.sin(2 * np.pi * 110 * (i + 1) * np.arange(n) / 48000)).astype(np.float32)
        sf.write(str(w), np.stack([tone, tone], axis=1), 48000, subtype="PCM_24")
        ed.add_audio_track(f"T{i}", [Clip(w, 0)], role=["bass", "harmony", "melody", "other"][i], locked=True)
    ed.commit()
    return folder


def rss(pid: int) -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    get = lambda k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) / 1024  # noqa: E731
    return get("VmRSS"), get("VmHWM")


async def mcp_calls(url: str, token: str, calls: list[tuple[str, dict]]) -> list[tuple[str, float]]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    out = []
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120) as hc, \
            Client(streamable_http_client(url, http_client=hc)) as c:
        for tool, args in calls:
            t0 = time.perf_counter()
            r = await c.call_tool(tool, args)
            text = r.content[0].text if r.content else ""
            if not r.is_error and tool == "describe_session":
                text = f"{len(r.structured_content['tracks'])} tracks, notes {r.structured_content['analysis_notes']}"
            out.append((text[:110].replace("\n", " "), time.perf_counter() - t0))
    return out


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="resonant-hardening-"))
    roots = tmp / "roots"
    roots.mkdir()
    plain = session(roots, "Plain")
    big = {n: session(roots, f"R{n}", regions=n) for n in (10_000, 40_000, 90_000)}
    far = session(roots, "Far", end=f"a{2**62 + 5}")
    day = session(roots, "Day", end=f"a{24 * 3600 * 282240000}")
    named = session(roots, "Named", route="N" * 70_000)
    from bridge.core.config import Config

    limit = Config().limit_audio_seconds
    long = long_song(roots, limit - 1)
    port = free_port()
    proc, osc = start_daemon(tmp / "data", "--mcp-port", str(port), env={"RESONANT_SESSION_ROOTS": str(roots)})
    c = OscClient(osc, timeout=120)
    rows = []
    time.sleep(5)  # the worker process loads its SoundFont at start: not part of any request

    def osc_row(label: str, *call: object) -> None:
        t0 = time.perf_counter()
        reply = c.ask(*call)
        dt = time.perf_counter() - t0
        while True:  # describe sends one message per track and an end: drain them
            try:
                c.sock.settimeout(0.2)
                c.recv()
            except TimeoutError:
                break
        c.sock.settimeout(120)
        t1 = time.perf_counter()
        pong = c.ask("/resonant/ping")[0] == "/resonant/ping"
        rows.append((label, str(reply[1][:3])[:110], dt, pong, time.perf_counter() - t1, *rss(proc.pid)))

    try:
        osc_row("baseline: describe, 1 region", "/resonant/session/describe", str(plain))
        base = rows[0][2]
        for n, folder in big.items():
            for k in range(3 if n == 90_000 else 1):  # the one with a target: three times
                osc_row(f"describe, {n} regions" + (f" (#{k + 1})" if n == 90_000 else ""),
                        "/resonant/session/describe", str(folder))
        osc_row("describe, range to 2^62", "/resonant/session/describe", str(far))
        osc_row("describe, 70,000-char name", "/resonant/session/describe", str(named))
        osc_row("describe, 8100-byte path", "/resonant/session/describe", str(roots / ("x" * 8100)))
        osc_row("regenerate bars 1-99999", "/resonant/regenerate", str(plain), "Drums", "1-99999")
        token = (tmp / "data" / "mcp-token").read_text().strip()
        calls = [("render_preview", {"session": str(plain), "bars": "1-1500"}),
                 ("render_preview", {"session": str(plain), "bars": "1-99999"}),
                 ("render_preview", {"session": str(day)}),
                 ("describe_session", {"session": str(day), "analyze": True}),
                 ("describe_session", {"session": str(big[90_000]), "analyze": False}),
                 ("describe_session", {"session": str(big[90_000]), "analyze": False}),
                 ("describe_session", {"session": str(long), "analyze": True}),
                 ("render_preview", {"session": str(long)})]
        for (tool, args), (text, dt) in zip(calls, asyncio.run(mcp_calls(f"http://127.0.0.1:{port}/mcp", token,
                                                                          calls)), strict=True):
            t1 = time.perf_counter()
            pong = c.ask("/resonant/ping")[0] == "/resonant/ping"
            label = f"MCP {tool} {args.get('bars', '')} {Path(args['session']).name}"
            if Path(args["session"]).name == "Long":
                label = f"MCP {tool}, 4 tracks x {limit - 1:g} s"
            rows.append((label, text, dt, pong, time.perf_counter() - t1, *rss(proc.pid)))
    finally:
        c.close()
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'request':36} {'seconds':>8} {'x base':>7} {'ping':>5} {'RSS MB':>7} {'peak MB':>8}  answer")
    for label, text, dt, pong, _, now, peak in rows:
        print(f"{label:36} {dt:8.3f} {dt / base:7.1f} {'yes' if pong else 'NO':>5} {now:7.0f} {peak:8.0f}  {text}")


if __name__ == "__main__":
    main()
