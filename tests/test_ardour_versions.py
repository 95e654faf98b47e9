"""The bridge against every Ardour users run: 7 (Debian 12), 8 (Debian 13) and 9 (sid).

Each test runs once per major: with this machine's Ardour, and with the others from Debian chroots
(``scripts/ardour-chroot build-missing``, which ``scripts/test`` runs). Every session here is made by
that Ardour itself, and every judgement is that Ardour's: it loads what the bridge wrote with no
warning, plays it where it was placed, and its export is what the bridge's mixdown predicts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from bridge.ardour import read_session
from bridge.ardour.live import inbox
from bridge.ardour.live.scripts import SCRIPTS
from bridge.ardour.names import first_playlist_name, route_name
from bridge.ardour.programs import ArdourInstall
from bridge.audio.mixdown import render
from bridge.frontends.cli.main import main as cli
from tests import ardour_tools
from tests.conftest import write_wav

pytestmark = [pytest.mark.ardour, pytest.mark.parametrize("ardour,major", ardour_tools.params())]
RATE = 48000
DECLICK = 4096  # the export tools declick the first ~2200 samples of the master output


def _burst(path: Path, seconds: float, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    sf.write(str(path), rng.uniform(-0.4, 0.4, (int(seconds * RATE), 2)), RATE, subtype="PCM_24")
    return path


def _onset(data: np.ndarray, threshold: float = 1e-4) -> int:
    loud = np.nonzero(np.abs(data).max(axis=1) > threshold)[0]
    assert loud.size, "the export is silent"
    return int(loud[0])


def _ardour_session(tmp_path: Path, a: ArdourInstall, name: str, tracks: str = "Keys") -> Path:
    """A session that Ardour made, with tracks that Ardour made (its own playlist names)."""
    folder = ardour_tools.new_session(tmp_path, name, ardour=a)
    out = ardour_tools.run_lua(ardour_tools.LUA / "add_tracks.lua", folder, name, a, TRACKS=tracks)
    made = dict(line.split("\t")[1:3] for line in out.splitlines() if line.startswith("made\t"))
    assert made == {t: first_playlist_name(t, a.major) for t in tracks.split(",")}, made
    return folder


def test_track_take_and_lock_load_play_and_null(ardour: ArdourInstall | None, major: int, tmp_path: Path) -> None:
    a = ardour_tools.require(ardour, major)
    folder = _ardour_session(tmp_path, a, "Made")
    s = read_session(folder)
    assert s.program_version.startswith(f"Ardour {major}.")
    first = _burst(tmp_path / "first.wav", 1.0, 1)
    second = _burst(tmp_path / "second.wav", 0.5, 2)
    assert cli(["session", "add-track", str(folder), "Stem", str(first), "--bar", "2", "--role", "bass"]) == 0
    assert cli(["session", "add-take", str(folder), "Stem", str(second), "--bar", "3"]) == 0
    assert cli(["session", "lock", str(folder), "Stem"]) == 0
    assert cli(["session", "add-track", str(folder), 'Q"uote', str(first), "--bar", "5"]) == 0
    ours = read_session(folder)
    quote = route_name('Q"uote', major)  # 8 and 9 would rename it on load: the bridge writes what they keep
    assert {t.name for t in ours.tracks} == {"Keys", "Stem", quote}
    stem = ours.track("Stem")
    takes = [p.name for p in ours.takes_of(stem)]
    assert takes == [first_playlist_name("Stem", major), "Stem.1" if major < 8 else "Stem.2"]
    placed = ours.tempo_map.samples_at_bar(3)

    theirs = ardour_tools.dump(folder, "Made", save=True, ardour=a)  # no [WARNING]/[ERROR] while loading
    assert sorted(theirs) == sorted(["Keys", "Stem", quote])
    assert [(r["position"], r["playlist"]) for r in theirs["Stem"]] == [(placed, takes[-1])]
    assert theirs[quote][0]["position"] == ours.tempo_map.samples_at_bar(5)
    # Ardour saved it: the lock, role and both takes are still there
    saved = read_session(folder)
    assert saved.track("Stem").locked and saved.track("Stem").role == "bass"
    assert [p.name for p in saved.takes_of(saved.track("Stem"))] == takes

    mix, rate = ardour_tools.export(folder, "Made", tmp_path / "mix.wav", a)
    assert rate == RATE
    assert abs(_onset(mix) - placed) <= RATE // 1000, "the take plays more than 1 ms from where it was placed"
    ours_mix = render(saved)
    n = min(len(ours_mix), len(mix))
    residual = 10 * np.log10(np.sum((ours_mix[DECLICK:n] - mix[DECLICK:n]) ** 2) / np.sum(mix[DECLICK:n] ** 2))
    assert residual < -50, f"the bridge's mixdown differs from {a.label}'s export by only {-residual:.1f} dB"


def test_hook_makes_a_new_track_and_a_take_in_that_ardours_lua(ardour: ArdourInstall | None, major: int,
                                                               tmp_path: Path) -> None:
    a = ardour_tools.require(ardour, major)
    folder = _ardour_session(tmp_path, a, "Live", "Bass")
    assert cli(["session", "add-track", str(folder), "Source", str(write_wav(tmp_path / "s.wav", 2.0, channels=2,
                                                                              amp=0.3)), "--role", "other"]) == 0
    tone = write_wav(tmp_path / "t.wav", 2.0, channels=2, freq=220, amp=0.3)
    take = inbox.Drop(track="Bass", role="bass", file="", position=96000, first_bar=2, last_bar=2,
                      take="Bass.9", new_track=False, channels=2, frames=RATE * 2)
    new = inbox.Drop(track='Mel "new"', role="melody", file="", position=48000, first_bar=1, last_bar=1,
                     take="", new_track=True, channels=2, frames=RATE * 2)
    inbox.post(folder, "job-v1", "generate", [(tone, take), (tone, new)], None)
    out = ardour_tools.run_lua(ardour_tools.LUA / "hook_probe.lua", folder, "Live", a,
                               HOOK=str(SCRIPTS / "resonant_inbox.lua"), REGION_FROM="Source", SAVE="1",
                               ACK=str(inbox.inbox_of(folder) / "job-v1.ack"))
    made = route_name('Mel "new"', major)
    ack = inbox.read_ack(folder, "job-v1")
    assert ack is not None and ack["status"] == "ok", out[-3000:]
    # the ack says what Ardour really made, not what was asked
    assert ack["placed"][0]["track"] == "Bass" and ack["placed"][0]["take"] == "Bass.9"
    assert ack["placed"][1]["track"] == made
    theirs = ardour_tools.dump(folder, "Live", ardour=a)
    assert [(r["position"], r["playlist"]) for r in theirs["Bass"]] == [(96000, "Bass.9")]
    # (a renamed track's first playlist takes the new name without ".1" in 8 and 9: the ack is the truth)
    assert [(r["position"], r["playlist"]) for r in theirs[made]] == [(48000, ack["placed"][1]["take"])]


def test_resonant_new_loads_in_that_ardour_and_is_balanced(ardour: ArdourInstall | None, major: int,
                                                           tmp_path: Path) -> None:
    a = ardour_tools.require(ardour, major)
    folder = tmp_path / "Song"
    assert cli(["new", str(folder), "--prompt", "funk in E minor", "--bars", "4", "--loudness", "-16"]) == 0
    theirs = ardour_tools.dump(folder, "Song", ardour=a)
    assert sorted(theirs) == ["Bass", "Drums", "Harmony", "Melody"]
    assert all(len(regions) == 1 and regions[0]["position"] == 0 for regions in theirs.values())
    mix, rate = ardour_tools.export(folder, "Song", tmp_path / "mix.wav", a)
    lufs = pyloudnorm.Meter(rate).integrated_loudness(mix[DECLICK:])
    assert abs(lufs - (-16.0)) <= 2.0, f"{a.label} exports the new session at {lufs:.1f} LUFS"


def test_doctor_reports_that_ardour(ardour: ArdourInstall | None, major: int) -> None:
    """``resonant doctor --json`` run where that Ardour is the only one (inside its chroot, with this
    interpreter and checkout mounted at the same paths)."""
    a = ardour_tools.require(ardour, major)
    if a.root is None:
        argv, env = [sys.executable, "-m", "bridge.frontends.cli", "doctor", "--json"], None
    else:
        base = Path(sys.base_prefix).resolve()
        if str(base).startswith(("/usr", "/bin", "/lib")):
            pytest.skip(f"this Python lives in {base}, which cannot be mounted into the chroot")
        subprocess.run([str(ardour_tools.REPO / "scripts" / "ardour-chroot"), "mount", a.root, str(base)],
                       check=True, capture_output=True, timeout=60)
        argv, env = a.command([sys.executable, "-m", "bridge.frontends.cli", "doctor", "--json"],
                              {"PYTHONPATH": str(ardour_tools.REPO), "HOME": "/tmp"})
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=ardour_tools.REPO)
    found = next(c for c in json.loads(proc.stdout) if c["name"] == "ardour")
    assert found["ok"], found
    info = found["info"]["found"]
    assert info["major"] == major and info["version"] == a.version and info["lua"] == f"/usr/bin/ardour{major}-lua"
    assert info["version"].startswith(f"{major}.")

