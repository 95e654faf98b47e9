"""Finding and loading MusicGen weights: a local folder, or a model already in the Hugging Face
cache. Nothing is ever downloaded (the engine runs with ``HF_HUB_OFFLINE=1``), so every way this
can fail is checked first and named: the folder or file that is missing, the cache that lacks
the model, the checkpoint that does not load.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.errors import EngineUnavailable, ModelNotFound, ModelUnreadable, UnknownModel

DEFAULT_MODEL = "facebook/musicgen-small"
SHORT_NAMES = {n: f"facebook/musicgen-{n}" for n in ("small", "medium", "large", "melody")}
FILES = ("state_dict.bin", "compression_state_dict.bin")  # audiocraft's exported checkpoint format
MUSICGEN_DEVICES = re.compile(r"auto|cpu|cuda(:\d{1,2})?")  # what musicgen_device may say
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")


@dataclass(frozen=True)
class ModelSource:
    spec: str  # what the user configured
    location: str  # what audiocraft is given: a folder, or a repo id found in the cache
    kind: str  # "folder" or "cache"


def resolve(spec: str | None) -> ModelSource:
    """Where the weights for ``spec`` are, without loading anything; a clear error otherwise."""
    spec = (spec or DEFAULT_MODEL).strip()
    if not spec or len(spec) > 4096 or "\0" in spec:
        raise UnknownModel("the MusicGen model setting is empty or not a usable name")
    spec = SHORT_NAMES.get(spec, spec)
    path = Path(spec).expanduser()
    looks_like_path = spec.startswith(("/", ".", "~")) or os.sep in spec and path.exists()
    if path.exists() or looks_like_path and not _REPO_ID.fullmatch(spec):
        return ModelSource(spec, str(_folder(path)), "folder")
    if not _REPO_ID.fullmatch(spec):
        raise UnknownModel(f"unknown MusicGen model {spec!r}: give a folder with {' and '.join(FILES)}, a "
                           f"Hugging Face id already in the local cache (e.g. {DEFAULT_MODEL}), or one of "
                           f"{', '.join(SHORT_NAMES)}")
    from huggingface_hub import try_to_load_from_cache

    cache_dir = hub_cache()
    missing = [f for f in FILES if not isinstance(try_to_load_from_cache(spec, f, cache_dir=cache_dir), str)]
    if missing:
        from huggingface_hub.constants import HF_HUB_CACHE

        raise ModelNotFound(f"MusicGen model {spec!r} is not in the local Hugging Face cache "
                            f"({cache_dir or HF_HUB_CACHE}; missing {', '.join(missing)}); nothing is downloaded "
                            f"here: copy the model's folder onto this machine and set engines.musicgen_model "
                            f"to it, or fill the cache with `huggingface-cli download {spec}` where there is "
                            f"internet")
    return ModelSource(spec, spec, "cache")


def hub_cache() -> str | None:
    """The Hugging Face cache as the environment names it now. huggingface_hub reads HF_HOME once, when
    it is first imported; a process that imported it earlier (a probe of the engines) would look in
    the wrong place."""
    env = os.environ
    if env.get("AUDIOCRAFT_CACHE_DIR"):
        return env["AUDIOCRAFT_CACHE_DIR"]
    if env.get("HF_HUB_CACHE"):
        return env["HF_HUB_CACHE"]
    if env.get("HF_HOME"):
        return str(Path(env["HF_HOME"]).expanduser() / "hub")
    return None


def _folder(path: Path) -> Path:
    if not path.exists():
        raise ModelNotFound(f"MusicGen model folder {path} does not exist")
    if not path.is_dir():
        raise ModelNotFound(f"MusicGen model {path} is a file; give the folder that holds {' and '.join(FILES)}")
    missing = [f for f in FILES if not (path / f).is_file()]
    if missing:
        raise ModelNotFound(f"MusicGen model folder {path} lacks {', '.join(missing)} (audiocraft's checkpoint "
                            f"format: state_dict.bin for the language model, compression_state_dict.bin for "
                            f"the audio codec)")
    return path


def pick_device(setting: str | None) -> str:
    """``auto`` (the default) is the first GPU when torch sees one, else the CPU."""
    import torch

    setting = (setting or "auto").strip().lower()
    if not MUSICGEN_DEVICES.fullmatch(setting):  # the environment is read here without the config's check
        raise UnknownModel(f"unknown device {setting!r}: use auto, cpu, cuda or cuda:N")
    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting != "cpu" and not torch.cuda.is_available():
        raise EngineUnavailable(f"device {setting!r} was asked for, but torch sees no CUDA GPU here "
                                f"(torch {torch.__version__}); use 'auto' or 'cpu'")
    return setting


def load(source: ModelSource, device: str) -> Any:
    """audiocraft's MusicGen from ``source`` on ``device`` (half precision on a GPU, as audiocraft
    does it), through audiocraft's own loader."""
    from audiocraft.models import MusicGen

    saved = os.environ.get("AUDIOCRAFT_CACHE_DIR")
    try:
        if source.kind == "cache" and saved is None and hub_cache():
            os.environ["AUDIOCRAFT_CACHE_DIR"] = hub_cache()  # audiocraft's loader reads it at call time
        return MusicGen.get_pretrained(source.location, device=device)
    except ModelNotFound:
        raise
    except Exception as e:
        if isinstance(e, FileNotFoundError | ConnectionError) or _is_network(e):
            # a part the checkpoint refers to (the T5 text encoder, demucs for a melody model) is not
            # in the local caches: transformers, huggingface_hub and torch hub say so in these words
            raise ModelNotFound(f"MusicGen model {source.spec!r} needs files that are not on this machine: "
                                f"{_first_line(e)} (nothing is downloaded; put them in the local cache)") from None
        # unpickling, a truncated archive, a missing key, a state dict of the wrong shape
        raise ModelUnreadable(f"the MusicGen weights at {source.location} do not load: {type(e).__name__}: "
                              f"{_first_line(e)}") from None
    finally:
        if saved is None:
            os.environ.pop("AUDIOCRAFT_CACHE_DIR", None)


def _is_network(e: BaseException) -> bool:
    text = f"{type(e).__name__} {e}".lower()
    return any(w in text for w in ("urlopen", "offline", "connect", "resolve host", "localentrynotfound",
                                   "cached files", "name resolution"))


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [""])[0][:300]
