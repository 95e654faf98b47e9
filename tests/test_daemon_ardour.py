"""End to end against the real Ardour: the daemon generates into a session over OSC, then headless
Ardour (hardour, on a private JACK dummy server, OSC surface on) loads it and lists the new tracks."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bridge.ardour import SessionEditor, read_session
from bridge.ardour.live.client import ArdourOsc, ArdourUnreachable
from bridge.ardour.programs import ArdourInstall
from tests import ardour_tools
from tests.daemon_tools import OscClient, start_daemon

pytestmark = pytest.mark.ardour


def _need(tool: str) -> None:
    if shutil.which(tool) is None and not Path(tool).exists():
        msg = f"{tool} not found (apt-get install ardour jackd2)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)


def test_generate_over_osc_then_ardour_lists_the_tracks(tmp_path: Path) -> None:
    a = ardour_tools.require_ardour()
    _need("jackd")
    _need(a.hardour or f"{a.libdir}/hardour-*")
    folder = ardour_tools.new_session(tmp_path, "Live")
    proc, port = start_daemon(tmp_path / "data")
    c = OscClient(port)
    try:
        assert c.ask("/resonant/subscribe") == ("/resonant/subscribe", [1])
        _, (job,) = c.ask("/resonant/generate", str(folder), "drums,bass", "hip hop", 2, 1, 4)
        final = c.until(lambda m: m[0] == "/resonant/job/status" and m[1][0] == job and m[1][1] in ("done", "failed"))
        assert final[-1][1][1] == "done", final[-1]
        # with no Ardour running, asking it is a clear error, not a hang
        assert c.ask("/resonant/ardour/strips")[1][:2] == ["/resonant/ardour/strips", "ardour_unreachable"]
        ed = SessionEditor(read_session(folder))
        ed.set_control_protocol("Open Sound Control (OSC)", True)
        ed.commit()
        _with_ardour(folder, c, a)
    finally:
        c.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_hardour_on_a_resonant_new_session_answers_the_bridge_with_no_settings(tmp_path: Path) -> None:
    """`resonant new` switches Ardour's OSC surface on: the daemon's /resonant/ardour/strips works as is."""
    from bridge.frontends.cli.main import main as cli

    a = ardour_tools.require_ardour()
    _need("jackd")
    _need(a.hardour or f"{a.libdir}/hardour-*")
    folder = tmp_path / "Fresh"
    assert cli(["new", str(folder), "--bars", "2", "--prompt", "funk"]) == 0
    proc, port = start_daemon(tmp_path / "data")
    c = OscClient(port)
    try:
        _with_ardour(folder, c, a, "Fresh", {"Drums", "Bass", "Harmony", "Melody"})
    finally:
        c.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def _with_ardour(folder: Path, c: OscClient, a: ArdourInstall, snapshot: str = "Live",
                 tracks: set[str] | None = None) -> None:
    tracks = tracks or {"Drums", "Bass"}
    # one fixed name: the JACK registry holds few servers, and a name reused is a slot reused
    server = "resonant-test"
    env = {**os.environ, **a.env(), "JACK_DEFAULT_SERVER": server}
    jack = subprocess.Popen(["jackd", "-n", server, "-d", "dummy", "-r", "48000", "-p", "1024"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    hardour = None
    log = folder.parent / "hardour.log"
    try:
        # wait until the JACK server really runs: hardour gives up at once without one
        subprocess.run(["jack_wait", "-w", "-t", "30", "-s", server], env=env, capture_output=True, timeout=40)
        strips = None
        with ArdourOsc(timeout=2.0) as ardour, open(log, "w") as out:
            for attempt in range(3):  # on a loaded machine hardour may still miss the server once
                hardour = subprocess.Popen([a.hardour, str(folder), snapshot], stdout=out, stderr=subprocess.STDOUT,
                                           env=env)
                for _ in range(40):
                    try:
                        strips, info = ardour.strip_list()
                        break
                    except ArdourUnreachable:
                        if hardour.poll() is not None:
                            break
                        time.sleep(1.0)
                if strips is not None:
                    break
                assert attempt < 2, "hardour exited three times:\n" + log.read_text()[-3000:]
                time.sleep(2.0)
        assert strips is not None, "Ardour's OSC surface never answered"
        assert {s.name for s in strips if s.kind == "AT"} == tracks
        assert info["sample_rate"] == 48000
        # the same, through the daemon's own address space
        c.send("/resonant/ardour/strips")
        got = c.until(lambda m: m[0] in ("/resonant/ardour/strips/end", "/resonant/error"), timeout=10)
        assert got[-1][0] == "/resonant/ardour/strips/end", got[-1]
        assert {m[1][1] for m in got if m[0] == "/resonant/ardour/strips" and m[1][0] == "AT"} == tracks
    finally:
        if hardour is not None and hardour.poll() is None:
            hardour.send_signal(signal.SIGKILL)
            hardour.wait(10)
        if jack.poll() is None:
            jack.send_signal(signal.SIGTERM)  # killed hard, jackd would leave its registry slot behind
            try:
                jack.wait(10)
            except subprocess.TimeoutExpired:
                jack.kill()
                jack.wait(10)
