"""Generation engines behind one protocol (``bridge.engines.base``), found by entry point."""

from bridge.engines.base import Engine, GenerationContext, GenerationRequest, PreviousTake, Stem
from bridge.engines.registry import available_engines, get_engine

__all__ = ["Engine", "GenerationContext", "GenerationRequest", "PreviousTake", "Stem", "available_engines",
           "get_engine"]
