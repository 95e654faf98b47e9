"""SIGKILLed writers (issue 18): a few rounds here; bench/crashes.py runs the full 200 CLI kills and
50 daemon kills. After the next operation, or the next daemon start: no temp files, no unreferenced
audio, and every job's state matches the session."""

from __future__ import annotations

import random
from pathlib import Path

from tests import crash_tools


def test_cli_writes_killed_at_random_leave_nothing_after_the_next_write(tmp_path: Path) -> None:
    rng = random.Random(18)
    folder = crash_tools.make_session(tmp_path)
    wav = crash_tools.tone(tmp_path)
    found = []
    for i in range(10):
        found += [f"round {i}: {p}" for p in crash_tools.cli_kill_round(folder, wav, i, rng)]
    assert not found, "\n".join(found)


def test_a_daemon_killed_while_a_job_delivers_tells_the_truth_after_its_restart(tmp_path: Path) -> None:
    rng = random.Random(5)
    data = tmp_path / "data"
    outcomes = []
    for i in range(3):
        folder = crash_tools.make_session(tmp_path, f"Song{i}")
        state, found = crash_tools.daemon_kill_round(tmp_path, folder, data, rng)
        assert not found, (i, state, found)
        outcomes.append(state)
    assert set(outcomes) <= {"done", "failed"}


def test_two_daemons_regenerating_one_track_at_once_both_land(tmp_path: Path) -> None:
    found = crash_tools.race_rounds(tmp_path, rounds=3, with_cli=False)
    assert not found, "\n".join(found)


def test_the_cli_and_a_daemon_regenerating_one_track_at_once_both_land(tmp_path: Path) -> None:
    found = crash_tools.race_rounds(tmp_path, rounds=2, with_cli=True)
    assert not found, "\n".join(found)


def test_four_lock_edits_in_one_bundle_all_apply(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder

    from bridge.ardour import read_session
    from tests.daemon_tools import OscClient, start_daemon

    folder = crash_tools.bass_session(tmp_path)
    wav = crash_tools.tone(tmp_path)
    for name in ("Drums", "Keys", "Lead"):
        subprocess.run([sys.executable, "-m", "bridge.frontends.cli", "session", "add-track", str(folder), name,
                        str(wav)], check=True, capture_output=True, timeout=120)
    proc, port = start_daemon(tmp_path / "data")
    c = OscClient(port, timeout=30)
    try:
        from pythonosc.osc_message_builder import OscMessageBuilder

        bundle = OscBundleBuilder(IMMEDIATELY)
        for name in ("Bass", "Drums", "Keys", "Lead"):
            m = OscMessageBuilder("/resonant/track/lock")
            m.add_arg(str(folder))
            m.add_arg(name)
            bundle.add_content(m.build())
        c.raw(bundle.build().dgram)
        replies = [c.recv() for _ in range(4)]
        assert all(r[0] == "/resonant/track/lock" for r in replies), replies
        tracks = read_session(folder).tracks
        assert all(t.locked for t in tracks), [(t.name, t.locked) for t in tracks]
    finally:
        c.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
