"""Stems out of a full mix with demucs, when its weights are already on this machine.

MusicGen writes full mixes. Asking for a role in the text gets a mix that leans towards it;
separating that mix with demucs' ``htdemucs`` (drums, bass, other, vocals) gets the role's stem.
The checkpoint must already be in torch hub's cache (where ``demucs`` keeps it after one online
run); it is looked for before demucs is asked, so that nothing tries the network.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_SEPARATOR = "htdemucs"
ROLE_SOURCES = {"drums": ("drums",), "bass": ("bass",), "harmony": ("other",), "melody": ("vocals", "other")}


def checkpoint_files(name: str) -> list[Path]:
    """Where demucs' pretrained ``name`` lives in torch hub's cache (every model of the bag)."""
    import torch
    import yaml
    from demucs.pretrained import REMOTE_ROOT, _parse_remote_files

    bag = REMOTE_ROOT / f"{name}.yaml"
    if not bag.is_file():
        raise ValueError(f"unknown demucs model {name!r}")
    urls = _parse_remote_files(REMOTE_ROOT / "files.txt")
    sigs = yaml.safe_load(bag.read_text())["models"]
    return [Path(torch.hub.get_dir()) / "checkpoints" / urls[s].rsplit("/", 1)[1] for s in sigs]


def status(setting: str | None = None) -> tuple[str | None, str]:
    """(the separator to use or None, why): ``setting`` is a demucs model name or ``none``."""
    name = (setting if setting is not None else os.environ.get("RESONANT_SEPARATOR", DEFAULT_SEPARATOR)).strip()
    if name.lower() in ("", "none", "off"):
        return None, "separation is off (engines.separator = none)"
    try:
        files = checkpoint_files(name)
    except ImportError:
        return None, "demucs is not installed (scripts/install-musicgen installs it)"
    except ValueError as e:
        return None, str(e)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        return None, f"demucs {name} weights are not on this machine (looked for {', '.join(missing)})"
    return name, f"demucs {name} ({files[0].parent})"


class Separator:
    """One demucs model, loaded once, that splits mixes into the sources a role needs."""

    def __init__(self, name: str, device: str) -> None:
        from demucs.pretrained import get_model

        self.name, self.device = name, device
        self.model = get_model(name).to(device).eval()

    def role(self, mix: Any, rate: int, role: str) -> tuple[Any, int, str]:
        """``mix`` (channels x samples, a torch tensor at ``rate``) -> the role's stem (at demucs' rate)."""
        import torch
        from demucs.apply import apply_model
        from demucs.audio import convert_audio

        model = self.model
        wav = convert_audio(mix.float().cpu(), rate, model.samplerate, model.audio_channels)
        ref = wav.mean(0)
        mean, std = ref.mean(), ref.std().clamp_min(1e-8)
        with torch.no_grad():
            sources = apply_model(model, ((wav - mean) / std)[None].to(self.device), device=self.device,
                                  split=True, overlap=0.25, progress=False)[0].cpu()
        sources = sources * std + mean
        wanted = ROLE_SOURCES[role]
        stem = sum(sources[model.sources.index(s)] for s in wanted)
        return stem, model.samplerate, f"separated with demucs {self.name} (source {' + '.join(wanted)})"
