from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests import ardour_tools

FIXTURES = Path(__file__).parent / "fixtures"
# An empty standard MIDI file (format 0, one track holding only end-of-track).
EMPTY_SMF = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x07\x80MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"


def write_wav(path: Path, seconds: float, rate: int = 48000, channels: int = 1, freq: float = 220.0,
              amp: float = 0.5, subtype: str = "PCM_24") -> Path:
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    mono = amp * np.sin(2 * np.pi * freq * t)
    data = np.stack([mono * (1.0 - 0.2 * c) for c in range(channels)], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, rate, subtype=subtype)
    return path


@pytest.fixture
def handmade(tmp_path: Path) -> Callable[[str], Path]:
    """A hand-written fixture session (tests/fixtures/vNNNN.ardour) with its audio synthesised."""

    def make(version: str) -> Path:
        name = {"7003": "Handmade7003", "6000": "Handmade6000"}[version]
        folder = tmp_path / name
        audio = folder / "interchange" / name / "audiofiles"
        audio.mkdir(parents=True)
        shutil.copy(FIXTURES / f"v{version}.ardour", folder / f"{name}.ardour")
        if version == "7003":
            write_wav(audio / "drums.wav", 10.0, freq=110.0)
            midi = folder / "interchange" / name / "midifiles"
            midi.mkdir()
            (midi / "keys.mid").write_bytes(EMPTY_SMF)
        else:
            write_wav(audio / "bass.wav", 10.0, freq=55.0)
        return folder

    return make


@pytest.fixture
def ardour() -> None:
    ardour_tools.require_ardour()


@pytest.fixture(scope="session")
def recorded_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session made by Ardour 7.3 itself: recorded, trimmed, moved, muted and layered regions."""
    ardour_tools.require_ardour()
    folder = ardour_tools.new_session(tmp_path_factory.mktemp("ardour"), "Recorded")
    ardour_tools.run_lua(ardour_tools.LUA / "build_session.lua", folder, "Recorded")
    return folder


@pytest.fixture
def recorded_copy(recorded_session: Path, tmp_path: Path) -> Path:
    """A private copy of the recorded session, for tests that write to it."""
    dest = tmp_path / "Recorded"
    shutil.copytree(recorded_session, dest)
    return dest


@pytest.fixture
def empty_session(tmp_path: Path) -> Path:
    """A new session straight from ardour7-new_session (stereo master, no tracks, no range)."""
    ardour_tools.require_ardour()
    return ardour_tools.new_session(tmp_path, "Empty")
