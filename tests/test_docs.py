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
    assert [p.name for p in s.takes_of(bass)] == ["Bass", "Bass.1"] and s.playlist_of(bass).name == "Bass"
    assert (tmp_path / "song-mix.wav").is_file() and (tmp_path / "data" / "jobs.sqlite3").is_file()
