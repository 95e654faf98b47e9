"""docs/getting-started.md: every command in it runs, in order, and does what the text says."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from bridge.ardour import read_session
from tests.ardour_tools import require_ardour

ROOT = Path(__file__).resolve().parents[1]


def commands() -> list[str]:
    text = (ROOT / "docs" / "getting-started.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


@pytest.mark.ardour
def test_getting_started_walkthrough(tmp_path: Path) -> None:
    require_ardour()
    cmds = commands()
    assert len(cmds) >= 10 and cmds[0] == "scripts/setup"
    env = {**os.environ, "WORK": str(tmp_path)}
    for cmd in cmds:
        proc = subprocess.run(["bash", "-c", cmd], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert (tmp_path / "demo" / "export" / "demo-mix.wav").is_file()
    s = read_session(tmp_path / "song")
    bass = s.track("Bass")
    assert s.track("Drums").locked
    # add-take made Bass.1, use-take went back to Bass, then regenerate made Bass.2 and plays it
    assert [p.name for p in s.takes_of(bass)] == ["Bass", "Bass.1", "Bass.2"] and s.playlist_of(bass).name == "Bass.2"
    mine = require_ardour().config_name  # the scripts go to the installed Ardour's folder
    assert (tmp_path / "config" / mine / "scripts" / "resonant_inbox.lua").is_file()
    assert "Resonant: import delivered stems" in (tmp_path / "config" / mine / "ui_scripts").read_text()
    assert (tmp_path / "song-mix.wav").is_file() and (tmp_path / "data" / "jobs.sqlite3").is_file()


def readme_commands() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## Set up and run", 1)[1].splitlines()[1:]
    out = []
    for line in section:
        if line.startswith("    ") and line.strip():
            out.append(line.split(" # ", 1)[0].strip())
        elif line.strip() and out:
            break  # the prose after the commands
    return out


@pytest.mark.ardour
def test_readme_first_command_in_a_fresh_copy(tmp_path: Path) -> None:
    """The README's first command, in a fresh copy of the repository with a new venv and no pip cache."""
    require_ardour()
    first = readme_commands()[0]
    assert first.startswith("scripts/setup") and "resonant demo" in first
    copy = tmp_path / "repo"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in files.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            (copy / name).write_bytes((ROOT / name).read_bytes())
            os.chmod(copy / name, (ROOT / name).stat().st_mode)
    env = {**os.environ, "PIP_NO_CACHE_DIR": "1"}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(["bash", "-c", first], cwd=copy, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Demo session:" in proc.stdout and "Preview mix:" in proc.stdout
    assert list(copy.glob("resonant-demo-*/export/demo-mix.wav"))
