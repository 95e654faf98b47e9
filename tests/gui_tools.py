"""The real Ardour GUI under a virtual X screen, for tests of the Lua hook.

No JACK and no dialogs: Ardour's Dummy backend is unhidden and marked as the active engine state
with autostart on, in a private ``XDG_CONFIG_HOME`` (``gtk2_ardour/engine_dialog.cc`` and
``startup_fsm.cc``: with a known backend, ``try-autostart-engine`` skips the Audio/MIDI Setup dialog;
``.aN`` skips the first-run wizard of Ardour N; ``<no-memory-warning/>`` in ``instant.xml`` the
locked-memory dialog of 8 and 9). The bridge's installer registers the hook there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.ardour.live.client import ArdourOsc, ArdourUnreachable
from bridge.ardour.live.scripts import install
from bridge.ardour.programs import ArdourInstall
from tests import ardour_tools

ENGINE_CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<Ardour>
  <Config>
    <Option name="try-autostart-engine" value="1"/>
    <Option name="hide-dummy-backend" value="0"/>
  </Config>
  <Extra>
    <AudioMIDISetup>
      <EngineStates>
        <State backend="None (Dummy)" driver="" device="Silence" input-device="" output-device=""
               sample-rate="{rate}" buffer-size="1024" n-periods="2" input-latency="0" output-latency="0"
               lm-input="" lm-output="" active="1" use-buffered-io="0" midi-option="" lru="{now}">
          <MIDIDevices/>
        </State>
      </EngineStates>
    </AudioMIDISetup>
  </Extra>
</Ardour>
"""


def require_gui(ardour: ArdourInstall | None = None) -> ArdourInstall:
    a = ardour or ardour_tools.require_ardour()
    missing = ([] if shutil.which("Xvfb") else ["Xvfb"]) + ([] if a.gui else [f"{a.label}'s GUI"])
    if missing:
        msg = f"{', '.join(missing)} not found (apt-get install ardour xvfb)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return a


def _free_display() -> int:
    for n in range(91, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


def config_home(base: Path, ardour: ArdourInstall, rate: int = 48000, uri: str | None = None) -> Path:
    cfg = base / "ardour-config"
    mine = cfg / ardour.config_name
    mine.mkdir(parents=True, exist_ok=True)
    (mine / f".a{ardour.major}").touch()
    (mine / "config").write_text(ENGINE_CONFIG.format(rate=rate, now=int(time.time())))
    # Ardour 8 and 9 warn about locked memory in a modal dialog, even on the Dummy backend
    (mine / "instant.xml").write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                                      "<instant><no-memory-warning/></instant>\n")
    install(cfg, (ardour.major,), uri=uri)  # the hook, and the buttons sending to ``uri``
    return cfg


# What the GUI logs at start that is about this machine or about the readiness probe, not the session:
# its MIDI audition synth (Debian's builds have no General MIDI Synth), its check of the video tools
# (Ardour runs `xjadeo --version` with a deadline; on a loaded machine it misses it and calls the
# installed 0.8.15 "too old"), and Ardour 9's OSC answering a /strip/list that came while the session
# was still loading (ardour_gui asks until it answers).
GUI_STARTUP = ("Falling back to Reasonable Synth for Midi Audition", "Video-monitor 'xjadeo' is too old",
               "OSC: No such strip")


def gui_complaints(workdir: Path) -> list[str]:
    """The GUI's [ERROR] and [WARNING] lines in ``workdir``'s log, less its start-up ones (GUI_STARTUP)."""
    log = (workdir / "ardour-gui.log").read_text(errors="replace").splitlines()
    return [line for line in log if ("[ERROR]" in line or "[WARNING]" in line)
            and not any(known in line for known in GUI_STARTUP)]


@contextlib.contextmanager
def ardour_gui(session_file: Path, workdir: Path, timeout: float = 120, ardour: ArdourInstall | None = None,
               uri: str | None = None) -> Iterator[subprocess.Popen]:
    """Ardour's GUI on ``session_file`` (with its OSC surface on), ready once OSC answers; its buttons send
    to the daemon at ``uri``. The process has ``display`` (the X display it shows on)."""
    a = require_gui(ardour)
    display = _free_display()
    xvfb = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ardour_tools.mount(a)
    cfg = config_home(workdir, a, uri=uri)
    cmd, env = a.command([a.gui, "-a", "-n", str(session_file)],
                         {**a.env(), "DISPLAY": f":{display}", "XDG_CONFIG_HOME": str(cfg)})
    log = open(workdir / "ardour-gui.log", "w")  # noqa: SIM115 (closed below)
    gui = None
    try:
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{display}").exists():
                break
            time.sleep(0.1)
        gui = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        gui.display = f":{display}"
        with ArdourOsc(timeout=1.0) as osc:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    osc.strip_list()
                    break
                except ArdourUnreachable:
                    if gui.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError("the Ardour GUI did not come up:\n"
                                             + (workdir / "ardour-gui.log").read_text()[-3000:]) from None
                    time.sleep(1.0)
        yield gui
    finally:
        if gui is not None and gui.poll() is None:
            os.killpg(gui.pid, signal.SIGKILL)  # the wrapper script and Ardour itself
            gui.wait(10)
        xvfb.terminate()
        xvfb.wait(10)
        log.close()
