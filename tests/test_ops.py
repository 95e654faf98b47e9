"""The systemd unit and `resonant doctor`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bridge.frontends.cli.main import main as cli


def test_unit_installs_and_verifies(tmp_path: Path) -> None:
    assert cli(["service", "install", "--dir", str(tmp_path), "--no-enable"]) == 0
    unit = tmp_path / "resonant.service"
    text = unit.read_text()
    assert "@RESONANT@" not in text and " serve" in text and "Restart=on-failure" in text
    exe = text.split("ExecStart=", 1)[1].split()[0]
    assert os.access(exe, os.X_OK)
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_doctor_reports_every_part(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANT_DATA_DIR", str(tmp_path))
    cli(["doctor", "--json"])
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    assert {"config", "ardour", "jack", "soundfont", "engine arranger"} <= set(checks)
    assert checks["engine arranger"]["ok"] and checks["soundfont"]["ok"]
    if os.environ.get("CI") == "true":
        assert checks["ardour"]["ok"] and checks["jack"]["ok"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[daemon]\nwhat = 1\n")
    assert cli(["doctor", "--config", str(bad), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)[0]["ok"] is False


def test_doctor_says_whether_the_ardour_hook_is_registered(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    code = cli(["doctor", "--json"])
    hook = {c["name"]: c for c in json.loads(capsys.readouterr().out)}["ardour hook"]
    assert not hook["ok"] and "install-scripts" in hook["detail"]
    assert cli(["ardour", "install-scripts", "--no-hook"]) == 0
    capsys.readouterr()
    assert cli(["doctor", "--json"]) == code  # advisory: a missing hook is not a broken install
    assert not {c["name"]: c for c in json.loads(capsys.readouterr().out)}["ardour hook"]["ok"]
    assert cli(["ardour", "install-scripts"]) == 0
    assert "registered the inbox hook" in capsys.readouterr().out
    cli(["doctor", "--json"])
    hook = {c["name"]: c for c in json.loads(capsys.readouterr().out)}["ardour hook"]
    from bridge.ardour.programs import majors_to_configure

    # registered for the Ardour majors installed here (or all three when there is none)
    expected = ", ".join(f"Ardour {m}" for m in majors_to_configure(tmp_path / "nothing-here"))
    assert hook["ok"] and hook["detail"] == f"registered for {expected}"


def test_engine_settings_reach_the_worker_as_its_environment(tmp_path: Path) -> None:
    from bridge.core.config import load_config
    from bridge.errors import InvalidInput

    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text('[engines]\nsoundfont = "/x/gm.sf2"\nmusicgen_model = "/models/mg"\n'
                        'musicgen_device = "cuda:1"\nseparator = "none"\n')
    cfg = load_config(cfg_file, env={})
    assert cfg.engine_env() == {"RESONANT_SOUNDFONT": "/x/gm.sf2", "RESONANT_MUSICGEN_MODEL": "/models/mg",
                                "RESONANT_MUSICGEN_DEVICE": "cuda:1", "RESONANT_SEPARATOR": "none"}
    # the environment wins over the file, as for every setting
    assert load_config(cfg_file, env={"RESONANT_MUSICGEN_MODEL": "small"}).engine_env()[
        "RESONANT_MUSICGEN_MODEL"] == "small"
    for bad in ("gpu", "cuda:x", "cuda:123"):
        with pytest.raises(InvalidInput, match="musicgen_device"):
            load_config(env={"RESONANT_MUSICGEN_DEVICE": bad})
    with pytest.raises(InvalidInput, match="unknown setting engines.musicgen"):
        cfg_file.write_text('[engines]\nmusicgen = "x"\n')
        load_config(cfg_file, env={})


def test_doctor_says_whether_the_daemon_is_running(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import signal
    import socket

    from tests.daemon_tools import free_port, start_daemon

    def checks() -> dict[str, dict]:
        cli(["doctor", "--json"])
        return {c["name"]: c for c in json.loads(capsys.readouterr().out)}

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    osc = s.getsockname()[1]
    s.close()
    mcp = free_port()
    monkeypatch.setenv("RESONANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESONANT_OSC_PORT", str(osc))
    monkeypatch.setenv("RESONANT_MCP_PORT", str(mcp))
    down = checks()
    assert not down["daemon"]["ok"] and "resonant serve" in down["daemon"]["detail"]
    assert not down["mcp http"]["ok"]
    proc, _ = start_daemon(tmp_path / "data", "--osc-port", str(osc), "--mcp-port", str(mcp))
    try:
        up = checks()
        assert up["daemon"]["ok"] and "running (version" in up["daemon"]["detail"], up["daemon"]
        assert up["mcp http"]["ok"] and "mcp-token" in up["mcp http"]["detail"], up["mcp http"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    # something else on the port: said so, not taken for the daemon
    squat = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    squat.bind(("127.0.0.1", osc))
    try:
        assert "not a Resonant daemon" in checks()["daemon"]["detail"]
    finally:
        squat.close()


def test_every_command_and_option_has_help() -> None:
    import argparse

    from bridge.frontends.cli.main import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, where: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                for name, sp in action.choices.items():
                    if not helps.get(name):
                        missing.append(f"{where} {name}")
                    walk(sp, f"{where} {name}")
            elif not action.help and action.dest != "help":
                missing.append(f"{where} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "resonant")
    assert not missing, missing
    text = build_parser().format_help()
    assert "``" not in text and "translates arguments" not in text  # not a developer's docstring
