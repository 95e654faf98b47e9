"""Operating the bridge: the systemd user unit and ``resonant doctor``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bridge import PROJECT

UNIT_TEMPLATE = PROJECT / "systemd" / "resonant.service"


def unit_text(executable: str | None = None) -> str:
    beside = Path(sys.executable).parent / "resonant"  # the install this code runs from, first
    exe = executable or (str(beside) if beside.is_file() else None) or shutil.which("resonant") \
        or f"{sys.executable} -m bridge.frontends.cli.main"
    return UNIT_TEMPLATE.read_text().replace("@RESONANT@", exe)


def install_unit(target_dir: Path | None = None, enable: bool = True) -> Path:
    target_dir = target_dir or Path.home() / ".config" / "systemd" / "user"
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / "resonant.service"
    path.write_text(unit_text())
    if enable and shutil.which("systemctl"):
        subprocess.run(["systemctl", "--user", "daemon-reload"], check=False)
        subprocess.run(["systemctl", "--user", "enable", "--now", "resonant.service"], check=False)
    return path


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True  # False: reported, but not a broken install (a busy port, an optional engine)
    info: dict | None = None  # machine-readable details for --json (the Ardour found: path, major, version)


def hook_check() -> Check:
    """Is the inbox hook registered with Ardour 7, 8 or 9 (needed to deliver into open sessions)?"""
    from bridge.ardour.live.scripts import HOOK_NAME, config_home
    from bridge.ardour.programs import MAJORS

    found = []
    for major in sorted(MAJORS):
        try:
            if HOOK_NAME in (config_home() / f"ardour{major}" / "ui_scripts").read_text(errors="replace"):
                found.append(f"Ardour {major}")
        except OSError:
            pass
    if found:
        return Check("ardour hook", True, f"registered for {', '.join(found)}", required=False)
    return Check("ardour hook", False, "not registered: run `resonant ardour install-scripts` to receive stems"
                                       " in sessions open in Ardour", required=False)


def ardour_check() -> Check:
    """Which Ardour the bridge uses (newest major, or RESONANT_ARDOUR), its version, and the others."""
    from bridge.ardour.programs import find_ardour, installed
    from bridge.errors import BridgeError

    try:
        a = find_ardour()
    except BridgeError as e:
        return Check("ardour", False, e.message)
    others = [o.label for o in installed() if a is None or o.major != a.major]
    info = {"found": a.to_dict() if a else None, "others": [o.to_dict() for o in installed()
                                                             if a is None or o.major != a.major]}
    if a is None:
        return Check("ardour", False, "no Ardour found (ardour7/8/9-lua): apt-get install ardour", info=info)
    missing = a.missing_tools()
    if missing:
        return Check("ardour", False, f"{a.label}: missing {', '.join(missing)}: apt-get install ardour", info=info)
    also = f"; also installed: {', '.join(others)}" if others else ""
    hard = "" if a.hardour else " (no hardour: the OSC surface tests need it)"
    return Check("ardour", True, f"{a.label} at {a.tool('lua')}{hard}{also}", info=info)


def _port_free(host: str, port: int, kind: int) -> bool:
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _ping(host: str, port: int, timeout: float) -> str | None:
    """The version a Resonant daemon answers /resonant/ping with, or None."""
    from pythonosc.osc_message import OscMessage
    from pythonosc.osc_message_builder import OscMessageBuilder

    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(OscMessageBuilder("/resonant/ping").build().dgram, (host, port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = OscMessage(s.recv(65536))
            if m.address == "/resonant/ping" and len(m.params) >= 2:
                return str(m.params[1])
    except (OSError, ValueError):
        return None
    finally:
        s.close()
    return None


def daemon_checks(cfg, timeout: float = 1.5) -> list[Check]:
    """Is the daemon running where the config says: OSC answered, MCP over HTTP answering."""
    host = "127.0.0.1" if cfg.bind in ("0.0.0.0", "") else "::1" if cfg.bind == "::" else cfg.bind
    version = _ping(host, cfg.osc_port, timeout)
    out = []
    if version is not None:
        out.append(Check("daemon", True, f"running (version {version}), OSC on {host}:{cfg.osc_port}", required=False))
    elif _port_free(cfg.bind, cfg.osc_port, socket.SOCK_DGRAM):
        out.append(Check("daemon", False, f"not running (nothing on OSC port {cfg.osc_port}): start it with"
                                          " `resonant serve`, or `resonant service install` to have it always on",
                         required=False))
    else:
        out.append(Check("daemon", False, f"OSC port {cfg.osc_port} is taken by something that is not a Resonant"
                                          " daemon (no answer to /resonant/ping): stop it, or set [daemon] osc_port",
                         required=False))
    if cfg.mcp_port:
        code = _http_status(host, cfg.mcp_port, timeout)
        if code == 401:
            out.append(Check("mcp http", True, f"answering at http://{host}:{cfg.mcp_port}/mcp (clients send the"
                                               f" token in {cfg.data_dir}/mcp-token)", required=False))
        elif code is None:
            out.append(Check("mcp http", False, f"nothing answers on port {cfg.mcp_port}"
                                                + (" (the daemon runs with MCP off?)" if version else ""),
                             required=False))
        else:
            out.append(Check("mcp http", False, f"port {cfg.mcp_port} answers HTTP {code}, not like the daemon's"
                                                " MCP endpoint: is another program using it?", required=False))
    return out


def _http_status(host: str, port: int, timeout: float) -> int | None:
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", "/mcp", body=b"{}", headers={"Content-Type": "application/json"})
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def doctor(config_path: str | None = None) -> list[Check]:
    from bridge.core.config import load_config
    from bridge.errors import BridgeError

    checks: list[Check] = []
    try:
        cfg = load_config(config_path)
        checks.append(Check("config", True, f"data in {cfg.data_dir}; roots: "
                                             f"{', '.join(map(str, cfg.session_roots)) or 'anywhere'}"))
    except BridgeError as e:
        return [Check("config", False, e.message)]
    checks.append(ardour_check())
    checks.append(Check("jack", bool(shutil.which("jackd")),
                        "jackd found" if shutil.which("jackd") else "jackd missing: apt-get install jackd2 "
                                                                       "(needed for headless Ardour with OSC)"))
    try:
        from bridge.audio.synth import renderer, soundfont_path

        checks.append(Check("soundfont", True, f"{soundfont_path()} (rendered with {renderer()})"))
    except BridgeError as e:
        checks.append(Check("soundfont", False, e.message))
    from bridge.engines.registry import available_engines, get_engine

    os.environ.update(cfg.engine_env())  # engines read their settings from the environment, as in a worker
    for name in available_engines():
        try:
            engine = get_engine(name)
            probe = getattr(engine, "probe", None)
            checks.append(Check(f"engine {name}", True, f"usable: {probe()}" if probe else "usable"))
        except BridgeError as e:
            # an engine nobody chose is optional: its absence is news, not a broken install
            checks.append(Check(f"engine {name}", False, e.message, required=name == cfg.default_engine))
    checks.append(hook_check())
    checks += daemon_checks(cfg)
    return checks


def install_templates(target: Path | None = None, majors: tuple[int, ...] | None = None) -> list[str]:
    """Copy the session templates where each Ardour major finds them (or into ``target``)."""
    import shutil

    from bridge.ardour.live.scripts import config_home
    from bridge.ardour.programs import majors_to_configure
    from bridge.core.newsession import TEMPLATES

    home = config_home()
    majors = majors or majors_to_configure(home)
    installed = []
    for base in (target,) if target else tuple(home / f"ardour{m}" / "templates" for m in majors):
        for tpl in sorted(TEMPLATES.glob("*/*.template")):
            dest = base / tpl.parent.name
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tpl, dest / tpl.name)
            installed.append(str(dest / tpl.name))
    return installed


def running_ardour_guis() -> list:
    """Ardour GUIs running now (their ui_scripts would overwrite an install)."""
    from bridge.ardour.live.procs import ardour_guis

    return ardour_guis()


def install_scripts(config_home: Path | None = None, majors: tuple[int, ...] | None = None,
                    register_hook: bool = True, buttons: bool = True, uri: str | None = None):
    """Copy the Lua scripts for each Ardour major, register the inbox hook and bind the actions to toolbar
    buttons (bridge.ardour.live.scripts)."""
    from bridge.ardour.live.scripts import install

    return install(config_home, majors, register_hook=register_hook, buttons=buttons, uri=uri)


def available_engines() -> list[str]:
    """The engines installed (by entry point); whether each can run here is ``doctor``'s question."""
    from bridge.engines.registry import available_engines as installed

    return installed()


_usable: tuple[float, dict[str, str]] | None = None


def usable_engines(max_age_s: float = 60.0) -> dict[str, str]:
    """The engines that can run here, with why each other installed one cannot (asked at most once a
    minute: probing an engine can load its libraries)."""
    global _usable
    if _usable is not None and time.monotonic() - _usable[0] < max_age_s:
        return _usable[1]
    from bridge.engines.registry import get_engine
    from bridge.errors import BridgeError

    out = {}
    for name in available_engines():
        try:
            engine = get_engine(name)
            probe = getattr(engine, "probe", None)
            out[name] = f"usable: {probe()}" if probe else "usable"
        except BridgeError as e:
            out[name] = f"not usable here: {e.message}"
    _usable = (time.monotonic(), out)
    return out
