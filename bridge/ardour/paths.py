"""Confinement: the folders the bridge may read and write (the configured session roots)."""

from __future__ import annotations

import os
from pathlib import Path

from bridge.errors import InvalidInput, UnsafePath

MAX_PATH_BYTES = 4096  # Linux's PATH_MAX
MAX_NAME_BYTES = 255  # NAME_MAX of every common Linux file system


def check_path_length(path: str | os.PathLike[str]) -> None:
    raw = os.fsencode(path)
    if len(raw) > MAX_PATH_BYTES:
        raise InvalidInput(f"a path of {len(raw)} bytes is longer than the {MAX_PATH_BYTES} bytes Linux allows")
    long = next((c for c in raw.split(b"/") if len(c) > MAX_NAME_BYTES), None)
    if long is not None:
        raise InvalidInput(f"a path component of {len(long)} bytes is longer than the {MAX_NAME_BYTES} bytes"
                           " a file name may have")


def check_inside(path: Path, roots: list[Path]) -> Path:
    """``path`` resolved, and refused unless it lies inside one of ``roots`` (when any are set).
    The refusal is the same whatever is (or is not) at ``path``: it tells nothing about outside."""
    check_path_length(path)
    resolved = Path(os.path.realpath(path))
    if not roots:
        return resolved
    for root in roots:
        r = Path(os.path.realpath(root))
        if resolved == r or r in resolved.parents:
            return resolved
    raise outside(path, roots)


def outside(path: str | os.PathLike[str], roots: list[Path]) -> UnsafePath:
    return UnsafePath(f"{path} is outside the allowed session roots ({', '.join(map(str, roots))})")


def session_roots_from_env() -> list[Path]:
    """``RESONANT_SESSION_ROOTS``: folders (':'-separated) the bridge may read and write."""
    value = os.environ.get("RESONANT_SESSION_ROOTS", "")
    return [Path(p).expanduser() for p in value.split(":") if p]
