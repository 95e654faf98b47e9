"""Confinement: the folders the bridge may read and write (the configured session roots)."""

from __future__ import annotations

import os
from pathlib import Path

from bridge.errors import UnsafePath


def check_inside(path: Path, roots: list[Path]) -> Path:
    """``path`` resolved, and refused unless it lies inside one of ``roots`` (when any are set)."""
    resolved = Path(os.path.realpath(path))
    if not roots:
        return resolved
    for root in roots:
        r = Path(os.path.realpath(root))
        if resolved == r or r in resolved.parents:
            return resolved
    raise UnsafePath(f"{path} is outside the allowed session roots ({', '.join(map(str, roots))})")


def session_roots_from_env() -> list[Path]:
    """``RESONANT_SESSION_ROOTS``: folders (':'-separated) the bridge may read and write."""
    value = os.environ.get("RESONANT_SESSION_ROOTS", "")
    return [Path(p).expanduser() for p in value.split(":") if p]
