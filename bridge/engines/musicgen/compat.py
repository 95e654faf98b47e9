"""What audiocraft needs around it, made safe for this bridge: no network, and the two pieces of
its pinned stack that no modern wheel provides on every machine.

audiocraft 1.3.0 pins torch 2.1 together with a CUDA build of torchaudio and an old xformers. Of
torchaudio, what MusicGen inference touches is one transform (the chroma extractor's
``Spectrogram``); of xformers, ``ops.unbind`` and two names imported for a check. When the real
packages import, they are used; when they are absent or broken (torchaudio's only wheels here are
CUDA builds that fail on ``libc10_cuda.so``), small equivalents written on torch are put in their
place before audiocraft is imported. Everything else of audiocraft's is the real thing.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import types

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
REQUIRED = ("torch", "audiocraft", "omegaconf", "transformers", "spacy", "librosa", "einops", "julius", "flashy")
_prepared: dict[str, str] = {}


def missing_packages() -> list[str]:
    """The packages the engine needs that are not installed (without importing any of them)."""
    return [m for m in REQUIRED if importlib.util.find_spec(m) is None]


def prepare() -> dict[str, str]:
    """Go offline and make torchaudio and xformers importable; returns what is real and what is ours.
    Safe to call many times."""
    if _prepared:
        return _prepared
    os.environ.update(OFFLINE_ENV)  # weights come from local paths or an existing cache, never the network
    _prepared["torchaudio"] = _real_or_shim("torchaudio", _torchaudio_shim)
    _prepared["xformers"] = _real_or_shim("xformers", _xformers_shim)
    return _prepared


def _real_or_shim(name: str, build) -> str:
    try:
        importlib.import_module(name)
        return "installed"
    except Exception:  # ImportError, or OSError from a CUDA-only binary
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
        for mod in build():
            # a spec, so that importlib.util.find_spec (transformers probes with it) answers
            mod.__spec__ = importlib.machinery.ModuleSpec(mod.__name__, None, is_package="." not in mod.__name__)
            sys.modules[mod.__name__] = mod
        return "built in (the engine's own, on torch)"


def _torchaudio_shim() -> list[types.ModuleType]:
    import torch

    class Spectrogram(torch.nn.Module):
        """torchaudio.transforms.Spectrogram for the arguments audiocraft and demucs use: a Hann
        window, optional zero padding, ``normalized=True`` meaning the window's L2 norm, power 1 or 2."""

        def __init__(self, n_fft: int = 400, win_length: int | None = None, hop_length: int | None = None,
                     pad: int = 0, power: float | None = 2.0, normalized: bool | str = False, center: bool = True,
                     pad_mode: str = "reflect", onesided: bool = True, **_: object) -> None:
            super().__init__()
            self.n_fft, self.pad, self.power, self.center, self.pad_mode = n_fft, pad, power, center, pad_mode
            self.win_length = win_length or n_fft
            self.hop_length = hop_length or self.win_length // 2
            self.normalized, self.onesided = normalized, onesided
            self.register_buffer("window", torch.hann_window(self.win_length), persistent=False)

        def forward(self, waveform: torch.Tensor) -> torch.Tensor:
            if self.pad > 0:
                waveform = torch.nn.functional.pad(waveform, (self.pad, self.pad), "constant")
            shape = waveform.size()
            spec = torch.stft(waveform.reshape(-1, shape[-1]), n_fft=self.n_fft, hop_length=self.hop_length,
                              win_length=self.win_length, window=self.window.to(waveform.dtype), center=self.center,
                              pad_mode=self.pad_mode, normalized=self.normalized == "frame_length",
                              onesided=self.onesided, return_complex=True)
            spec = spec.reshape(shape[:-1] + spec.shape[-2:])
            if self.normalized is True or self.normalized == "window":
                spec = spec / self.window.pow(2.0).sum().sqrt()
            if self.power is None:
                return spec
            return spec.abs() if self.power == 1.0 else spec.abs().pow(self.power)

    def _needs_real(what: str):
        def fail(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"torchaudio.{what} is not available: install a torchaudio that matches torch "
                               f"to use it (the MusicGen engine does not need it)")
        return fail

    def _missing(name: str):
        raise AttributeError(name)

    ta = types.ModuleType("torchaudio")
    transforms = types.ModuleType("torchaudio.transforms")
    functional = types.ModuleType("torchaudio.functional")
    transforms.Spectrogram = Spectrogram
    transforms.Loudness = _needs_real("transforms.Loudness")

    def resample(waveform: torch.Tensor, orig_freq: int, new_freq: int, **_: object) -> torch.Tensor:
        import julius

        return julius.resample_frac(waveform, int(orig_freq), int(new_freq))

    functional.resample = resample
    ta.transforms, ta.functional = transforms, functional
    ta.__version__ = "0+resonant"
    for mod in (ta, transforms, functional):
        # anything else (training losses and metrics import MelSpectrogram, Resample, ...) imports,
        # and says what is missing only when used
        prefix = mod.__name__.partition(".")[2]
        mod.__getattr__ = lambda name, p=prefix: _missing(name) if name.startswith("__") else \
            _needs_real(f"{p}.{name}" if p else name)
    return [ta, transforms, functional]


def _xformers_shim() -> list[types.ModuleType]:
    import torch

    class LowerTriangularMask:
        """Only the name: audiocraft's torch attention backend never hands it to xformers."""

    def memory_efficient_attention(*args: object, **kwargs: object) -> None:
        raise RuntimeError("xformers' memory_efficient_attention is not installed; audiocraft's default "
                           "'torch' attention backend does not need it")

    xf = types.ModuleType("xformers")
    ops = types.ModuleType("xformers.ops")
    ops.unbind = lambda x, dim: torch.unbind(x, dim)
    ops.LowerTriangularMask = LowerTriangularMask
    ops.memory_efficient_attention = memory_efficient_attention
    xf.ops = ops
    return [xf, ops]
