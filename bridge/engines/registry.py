"""Engines are found through the ``resonant.engines`` entry point group, so that a new model is a
new package, not an edit to the core. The embedded arranger is always there, installed or not."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from bridge.errors import InvalidInput

GROUP = "resonant.engines"
DEFAULT_ENGINE = "arranger"
_BUILTIN = {"arranger": "bridge.engines.arranger:ArrangerEngine", "musicgen": "bridge.engines.musicgen:MusicGenEngine"}
_loaded: dict[str, Any] = {}


def _targets() -> dict[str, str]:
    found = dict(_BUILTIN)
    for ep in entry_points(group=GROUP):
        found[ep.name] = ep.value
    return found


def available_engines() -> list[str]:
    return sorted(_targets())


def get_engine(name: str | None = None) -> Any:
    """The engine called ``name`` (default: the arranger), created once per process."""
    name = name or DEFAULT_ENGINE
    if name in _loaded:
        return _loaded[name]
    targets = _targets()
    if name not in targets:
        raise InvalidInput(f"unknown engine {name!r}; available: {', '.join(sorted(targets))}")
    module, _, attr = targets[name].partition(":")
    import importlib

    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise InvalidInput(f"engine {name!r} cannot be loaded here: {e}") from None
    _loaded[name] = engine = cls()
    return engine
