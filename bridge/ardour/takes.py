"""How every take the bridge delivered was made, kept beside the session so that a regeneration finds
it again: the recipe (engine, style, instruments, controls, loudness, seed, prompt, key, chords,
form) and the notes (a standard MIDI file).

Ardour renames what its hook imports (7.3 names the source of ``Bass.2-60848993.wav``
``Bass.2-60848993%L.wav``), so a take is keyed by its job and role (``60848993-bass``), and an index
maps every source name the take's audio has, or gets from Ardour, to that key. A name that is not in
the index is still found by the job id it carries. Files under ``.resonant/takes``:

- ``<key>.json``  the recipe;  ``<key>.mid``  the notes;  ``index.json``  source stem -> key.

Written atomically; a damaged or missing entry is "no recipe" (the regeneration then starts from the
audio alone), never an error.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from bridge.ardour.files import atomic_write, open_dir, read_within, session_lock
from bridge.errors import UnsafePath

TAKES_DIR = ".resonant/takes"
LEGACY_MIDI_DIR = ".resonant/midi"  # before recipes: <audio file stem>.mid
MAX_RECIPE_BYTES = 256 * 1024
_JOB = re.compile(r"(?<![0-9a-f])([0-9a-f]{8})(?![0-9a-f])")
# Ardour's channel suffixes on imported or recorded sources: %L, %R, %a.., -L, -R, -0, -1
_CHANNEL = re.compile(r"(%[A-Za-z]|-[LR0-9])$")
_AUDIO_EXT = {".wav", ".flac", ".w64", ".rf64", ".aif", ".aiff", ".caf", ".ogg", ".mid", ".smf"}


def take_key(job_id: str, role: str) -> str:
    return f"{job_id[:8]}-{role}"


def source_stem(name: str) -> str:
    """``Bass.1-60848993%L.wav`` -> ``Bass.1-60848993``: the name without extension and channel."""
    base = Path(name).name
    stem = base[: -len(Path(base).suffix)] if Path(base).suffix.lower() in _AUDIO_EXT else base
    return _CHANNEL.sub("", stem)


def _dir(folder: Path) -> Path:
    return Path(folder) / TAKES_DIR


def _names(folder: Path) -> list[str]:
    try:
        fd = open_dir(Path(folder), TAKES_DIR)
    except (OSError, UnsafePath):
        return []
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


def _read_json(folder: Path, path: Path) -> Any:
    data = read_within(folder, path, MAX_RECIPE_BYTES)
    try:
        return json.loads(data) if data is not None else None
    except ValueError:
        return None


def _index(folder: Path) -> dict[str, str]:
    data = _read_json(folder, _dir(folder) / "index.json")
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(data, dict) else {}


def remember(folder: Path, key: str, recipe: dict[str, Any], midi: bytes | None, sources: list[str]) -> None:
    """Keep a delivered take's recipe and notes, and index its source names."""
    d = _dir(folder)
    with session_lock(folder):
        atomic_write(d / f"{key}.json", json.dumps(recipe, indent=1, default=str).encode(), within=folder)
        if midi:
            atomic_write(d / f"{key}.mid", midi, within=folder)
        index = _index(folder)
        for s in sources:
            if s:
                index[source_stem(s)] = key
        atomic_write(d / "index.json", json.dumps(index, indent=1, sort_keys=True).encode(), within=folder)


def add_sources(folder: Path, key: str, sources: list[str]) -> None:
    """Index names Ardour gave the take's sources after the fact (the hook's acknowledgement)."""
    if not sources or not _read_json(folder, _dir(folder) / f"{key}.json"):
        return
    with session_lock(folder):
        index = _index(folder)
        for s in sources:
            if s:
                index[source_stem(s)] = key
        atomic_write(_dir(folder) / "index.json", json.dumps(index, indent=1, sort_keys=True).encode(),
                     within=folder)


def key_for_source(folder: Path, name: str, role: str | None = None) -> str | None:
    """The take key of a source, by the index or by the job id in its name."""
    stem = source_stem(name)
    index = _index(folder)
    if stem in index:
        return index[stem]
    for m in _JOB.finditer(stem):
        cands = sorted(n[:-5] for n in _names(folder) if n.startswith(f"{m.group(1)}-") and n.endswith(".json"))
        if role and f"{m.group(1)}-{role}" in cands:
            return f"{m.group(1)}-{role}"
        if len(cands) == 1:
            return cands[0]
    return None


def recall(folder: Path, source_names: list[str], role: str | None = None) -> tuple[dict | None, bytes | None]:
    """The recipe and notes of the take whose sources these are (the first one found), or (None, None).
    Takes the bridge wrote before recipes existed still give their notes (``.resonant/midi``)."""
    for name in source_names:
        key = key_for_source(folder, name, role)
        if key is None:
            continue
        recipe = _read_json(folder, _dir(folder) / f"{key}.json")
        midi = read_within(folder, _dir(folder) / f"{key}.mid", MAX_RECIPE_BYTES)
        if isinstance(recipe, dict) or midi:
            return (recipe if isinstance(recipe, dict) else None), midi
    for name in source_names:
        legacy = read_within(folder, Path(folder) / LEGACY_MIDI_DIR / (Path(name).stem + ".mid"), MAX_RECIPE_BYTES)
        if legacy is not None:
            return None, legacy
    return None, None
