"""The MusicGen engine (audiocraft), for machines with local weights and, ideally, a GPU.

Importing this package needs nothing beyond the core: torch and audiocraft are imported when the
engine is created (``scripts/install-musicgen`` installs them).
"""

from bridge.engines.musicgen.engine import MusicGenEngine

__all__ = ["MusicGenEngine"]
