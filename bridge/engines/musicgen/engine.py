"""The MusicGen engine: audiocraft's MusicGen behind the engine protocol.

Per request: the model (loaded once per worker process, kept) writes every role asked for in one
batched generate call, each with its own text (``conditioning.describe``); with locked audio before
the range, it continues from that audio (the audio prompt), and a melody model also follows the
chroma of the locked mix over the range. MusicGen writes full mixes, so a role's stem comes from
demucs separation when its weights are on this machine, else from the role's text alone; the
result says which. The output is fitted to the bar range at the session rate and normalised like
every stem. A regeneration continues the previous take from just before the range and is joined
into it with short crossfades.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from bridge.ardour.tempo import TempoMap
from bridge.audio.features import integrated_loudness
from bridge.engines.base import GenerationContext, GenerationRequest, Progress, Stem, no_progress
from bridge.engines.fit import finish, fit
from bridge.engines.musicgen import compat, conditioning, separate
from bridge.engines.musicgen.model import ModelSource, load, pick_device, resolve
from bridge.errors import EngineUnavailable, OutOfMemory
from bridge.music.prompt import parse_prompt

DEFAULT_BPM = 120.0
SEPARATION_FLOOR_LU = 30.0  # a separated role this far below the whole output is the model not writing it


def _settings() -> dict[str, str | None]:
    return {"model": os.environ.get("RESONANT_MUSICGEN_MODEL") or None,
            "device": os.environ.get("RESONANT_MUSICGEN_DEVICE") or None,
            "separator": os.environ.get("RESONANT_SEPARATOR")}


def _require_packages() -> None:
    missing = compat.missing_packages()
    if missing:
        raise EngineUnavailable(f"the musicgen engine needs {', '.join(missing)}, which are not installed here: "
                                f"run scripts/install-musicgen (docs/musicgen.md)")


class MusicGenEngine:
    name = "musicgen"

    def __init__(self) -> None:
        _require_packages()
        self._models: dict[tuple[str, str], Any] = {}
        self._separators: dict[tuple[str, str], separate.Separator] = {}

    @staticmethod
    def probe() -> str:
        """Whether this machine can run the engine, and with what; raises an EngineError saying why not."""
        _require_packages()
        s = _settings()
        source = resolve(s["model"])
        shims = compat.prepare()
        import torch

        device = pick_device(s["device"])
        sep, why = separate.status(s["separator"])
        return (f"model {source.spec} ({'local folder' if source.kind == 'folder' else 'from the cache'}) on "
                f"{device}{' (float16)' if device != 'cpu' else ''}; torch {torch.__version__}; torchaudio "
                f"{shims['torchaudio']}; stems: {why if sep else 'prompted by role, ' + why}")

    # -- the model --------------------------------------------------------------------------------

    def _model(self, source: ModelSource, device: str) -> tuple[Any, float]:
        key = (source.location, device)
        if key in self._models:
            return self._models[key], 0.0
        t = time.perf_counter()
        self._models.clear()  # one model per worker: another setting replaces it
        self._models[key] = model = load(source, device)
        return model, time.perf_counter() - t

    def _separator(self, name: str | None, device: str) -> separate.Separator | None:
        if name is None:
            return None
        if (name, device) not in self._separators:
            self._separators[(name, device)] = separate.Separator(name, device)
        return self._separators[(name, device)]

    # -- generation -------------------------------------------------------------------------------

    def generate(self, request: GenerationRequest, context: GenerationContext | None,
                 progress: Progress = no_progress) -> list[Stem]:
        request.validate()
        t0 = time.perf_counter()
        settings = _settings()
        source = resolve(settings["model"])
        compat.prepare()
        device = pick_device(settings["device"])
        intent = parse_prompt(request.prompt)
        warnings: list[str] = []
        if context is None:
            context = GenerationContext(TempoMap.constant(request.sample_rate, intent.bpm or DEFAULT_BPM))
        elif intent.bpm is not None:
            warnings.append(f"the prompt's {intent.bpm:g} BPM was not used: the session's tempo map wins")
        tm = context.tempo_map
        rate = tm.sample_rate
        first_q, end_q = tm.quarters_at_bbt(request.first_bar), tm.quarters_at_bbt(request.last_bar + 1)
        start = tm.samples_at_quarters(first_q)
        frames = tm.samples_at_quarters(end_q) - start
        bpm = tm.bpm_at_samples(start)

        progress(0.0, "loading the model")
        model, load_s = self._model(source, device)
        sep_name, sep_why = separate.status(settings["separator"])
        separator = self._separator(sep_name, device)
        ctl = conditioning.controls_for(request, model.max_duration)

        # one batch for the new roles; a regeneration continues its own take, alone
        groups = [[r] for r in request.roles if r in request.previous]
        fresh = [r for r in request.roles if r not in request.previous]
        if fresh:
            groups.insert(0, fresh)
        done_roles = 0
        t_gen = t_fit = 0.0
        stems: list[Stem] = []
        for group in groups:
            tg = time.perf_counter()
            texts = [conditioning.describe(r, request, intent, context, bpm) for r in group]
            prompt, prompt_from = self._audio_prompt(request, context, group, start, rate, model)
            melody, melody_from = self._melody(model, context, start, frames, prompt, rate)
            span = len(group) / len(request.roles)
            base = 0.05 + 0.85 * done_roles / len(request.roles)
            wav = self._generate(model, request.seed, ctl, texts, prompt, melody, frames / rate,
                                 lambda f, _stage, b=base, s=span: progress(b + 0.85 * s * f, "generating"), device)
            t_gen += time.perf_counter() - tg
            tf = time.perf_counter()
            for i, role in enumerate(group):
                progress(base + 0.85 * span, f"fitting {role}")
                audio, method = self._stem(wav[i], model.sample_rate, role, separator, sep_why, rate, frames)
                audio, stem_start, lufs, tp = finish(audio, role, request, start, rate)
                stems.append(Stem(role, audio, rate, stem_start, None, {
                    "engine": self.name, "model": source.spec, "device": device,
                    "precision": "float32" if device == "cpu" else "float16", "seed": request.seed,
                    "prompt": request.prompt, "text": texts[i], "first_bar": request.first_bar,
                    "bars": request.bars, "stem_method": method, "conditioning": ["text"] + prompt_from + melody_from,
                    "controls": {"temperature": ctl.temperature, "top_k": ctl.top_k, "top_p": ctl.top_p,
                                 "cfg_coef": ctl.cfg_coef, "extend_stride": ctl.extend_stride,
                                 "density, complexity, swing": "said in the text"},
                    "batched_with": [r for r in group if r != role], "loudness_lufs": round(lufs, 2),
                    "true_peak_db": round(tp, 2), "understood": intent.understood(), "tempo_source": context.source,
                    "regenerated_from_previous": role in request.previous, "warnings": warnings,
                }))
            t_fit += time.perf_counter() - tf
            done_roles += len(group)
        progress(1.0, "done")
        order = {r: i for i, r in enumerate(request.roles)}
        stems.sort(key=lambda s: order[s.role])
        timings = {"model_load_s": round(load_s, 4), "generate_s": round(t_gen, 4), "fit_s": round(t_fit, 4),
                   "total_s": round(time.perf_counter() - t0, 4)}
        for s in stems:
            s.metadata["timings"] = timings
        return stems

    @staticmethod
    def _stem(mix: Any, mix_rate: int, role: str, separator: separate.Separator | None, sep_why: str, rate: int,
              frames: int) -> tuple[np.ndarray, str]:
        """The role's stem out of what the model wrote, at the session rate, and how it was made."""
        whole = fit(mix.detach().float().cpu().numpy(), mix_rate, rate, frames, remove_dc=True)
        if separator is None:
            return whole, f"prompted for the role in the text; not separated ({sep_why})"
        stem, stem_rate, method = separator.role(mix, mix_rate, role)
        audio = fit(stem.detach().float().cpu().numpy(), stem_rate, rate, frames, remove_dc=True)
        mix_lufs, stem_lufs = integrated_loudness(whole, rate), integrated_loudness(audio, rate)
        if mix_lufs is not None and (stem_lufs is None or stem_lufs < mix_lufs - SEPARATION_FLOOR_LU):
            # the model wrote (almost) none of the role: say so rather than hand back near-silence
            found = "nothing" if stem_lufs is None else f"{stem_lufs - mix_lufs:.0f} LU below the mix"
            return whole, (f"prompted for the role in the text; {method} found {found} of the {role}, so the "
                           f"unseparated output is used")
        return audio, f"prompted for the role in the text, then {method}"

    def _audio_prompt(self, request: GenerationRequest, context: GenerationContext, group: list[str], start: int,
                      rate: int, model: Any) -> tuple[Any, list[str]]:
        """The audio to continue from (batch x channels x samples at the model's rate), or None."""
        role = group[0]
        prev = request.previous.get(role)
        if prev is not None:  # the take itself, up to the range (or up to its end, when extending it)
            end = min(start, prev.start + prev.audio.shape[0]) - prev.start
            seconds = conditioning.prompt_seconds(request, max(0, end) / rate, model.max_duration)
            n = int(seconds * rate)
            if not n:
                return None, []
            audio = prev.audio[end - n:end]
            what = f"continuation: {seconds:.1f} s of the previous take before the range"
        else:
            if context.locked_audio is None:
                return None, []
            seconds = conditioning.prompt_seconds(request, start / rate, model.max_duration)
            n = int(seconds * rate)
            if not n:
                return None, []
            audio = context.locked_audio(start - n, start)
            if not np.any(audio):
                return None, []
            what = f"continuation: {seconds:.1f} s of the locked tracks before the range"
        x = self._to_model(audio, rate, model)
        hop = int(round(model.sample_rate / model.frame_rate))
        x = x[..., x.shape[-1] % hop:]  # whole codec frames, so the new audio starts exactly at the range
        return x[None].repeat(len(group), 1, 1), [what]

    def _melody(self, model: Any, context: GenerationContext, start: int, frames: int, prompt: Any,
                rate: int) -> tuple[Any, list[str]]:
        """For a melody model, the locked mix over the prompt and the range, to follow its chroma."""
        if "self_wav" not in model.lm.condition_provider.conditioners or context.locked_audio is None:
            return None, []
        before = 0 if prompt is None else int(round(prompt.shape[-1] * rate / model.sample_rate))
        audio = context.locked_audio(start - before, start + frames)
        if not np.any(audio):
            return None, []
        return self._to_model(audio, rate, model), ["melody: the chroma of the locked tracks over the range"]

    @staticmethod
    def _to_model(audio: np.ndarray, rate: int, model: Any) -> Any:
        import torch
        from audiocraft.data.audio_utils import convert_audio

        x = torch.from_numpy(np.ascontiguousarray(np.asarray(audio, dtype=np.float32).T))
        return convert_audio(x, rate, model.sample_rate, model.audio_channels)

    @staticmethod
    def _generate(model: Any, seed: int, ctl: conditioning.Controls, texts: list[str], prompt: Any, melody: Any,
                  seconds: float, progress: Progress, device: str) -> Any:
        """One batched generation; returns the new audio only (batch x channels x samples)."""
        import torch

        prompt_s = 0.0 if prompt is None else prompt.shape[-1] / model.sample_rate
        prompt_tokens = 0 if prompt is None else int(round(prompt_s * model.frame_rate))
        total = prompt_s + seconds + 1.0 / model.frame_rate  # one frame more than needed: fit() cuts exactly
        while not _windows_fit(total, model.frame_rate, model.max_duration, ctl.extend_stride, prompt_tokens):
            total += 1.0 / model.frame_rate
        model.set_generation_params(**ctl.params(total))
        n_tokens = max(1, int(total * model.frame_rate))
        reached = [0.0]

        def on_tokens(generated: int, _of: int) -> None:
            f = min(1.0, generated / n_tokens)
            if f > reached[0]:  # audiocraft's count restarts per window of a long generation
                reached[0] = f
                progress(f, "generating")

        model.set_custom_progress_callback(on_tokens)
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
        try:
            with torch.no_grad():
                melodies = None if melody is None else [melody] * len(texts)
                attributes, tokens = model._prepare_tokens_and_attributes(texts, prompt, melodies)
                tokens = model._generate_tokens(attributes, tokens, progress=True)
                wav = model.generate_audio(tokens)
        except (RuntimeError, MemoryError) as e:  # torch.OutOfMemoryError is a RuntimeError
            text = str(e).lower()
            if not isinstance(e, torch.OutOfMemoryError | MemoryError) and "out of memory" not in text \
                    and "can't allocate memory" not in text:  # the CPU allocator says it so
                raise
            _free(device)
            raise OutOfMemory(f"MusicGen ran out of memory on {device} writing {len(texts)} role(s) x "
                              f"{total:.1f} s: ask for fewer bars or roles, or set a smaller model "
                              f"({type(e).__name__})") from None
        finally:
            model.set_custom_progress_callback(None)
        return wav[..., int(round(prompt_s * model.sample_rate)):]


def _windows_fit(duration: float, frame_rate: float, max_duration: float, stride_s: float, prompt_len: int) -> bool:
    """Whether audiocraft 1.3.0's generation of ``duration`` seconds keeps every window longer than
    the context it carries in (its ``_generate_tokens`` and ``lm.generate`` assert it). The same
    float arithmetic as audiocraft's: a last window that ends within a token of the carried context
    fails there, so the caller asks for a token more until it fits (the surplus is cut)."""
    total_gen_len = int(duration * frame_rate)
    if duration <= max_duration:
        return prompt_len < total_gen_len
    stride_tokens = int(frame_rate * stride_s)
    offset = 0
    while offset + prompt_len < total_gen_len:
        max_gen_len = int(min(duration - offset / frame_rate, max_duration) * frame_rate)
        if prompt_len >= max_gen_len:
            return False
        prompt_len = max_gen_len - stride_tokens
        offset += stride_tokens
    return True


def _free(device: str) -> None:
    import gc

    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
