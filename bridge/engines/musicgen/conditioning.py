"""What MusicGen is told: a text per role, and the request's controls in audiocraft's terms.

MusicGen understands text, so the controls it has no knob for (density, complexity, swing) are
said in words, and what the session establishes (tempo, key) is said too: a text-conditioned model
follows "120 bpm, in A minor" far better than it guesses it. Everything said is returned, so the
result shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.engines.base import GenerationContext, GenerationRequest
from bridge.music.prompt import _TEMPO, Intent  # the same reading of "128 bpm" as the arranger

ROLE_TEXT = {
    "drums": "solo drum kit and percussion only, no bass, no chords, no melody",
    "bass": "solo bass line only, no drums, no chords, no melody",
    "harmony": "chords only, sustained keys and pads, no drums, no bass, no lead melody",
    "melody": "solo lead melody only, one instrument, no drums, no bass, no chords",
}
MAX_PROMPT_S = 10.0  # audio prompt: enough context to continue from, short enough to leave room


@dataclass
class Controls:
    temperature: float
    top_k: int
    top_p: float
    cfg_coef: float
    extend_stride: float

    def params(self, duration: float) -> dict:
        return {"use_sampling": True, "temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p,
                "cfg_coef": self.cfg_coef, "duration": duration, "extend_stride": self.extend_stride}


def controls_for(request: GenerationRequest, max_duration: float) -> Controls:
    """temperature ("weirdness") 0..1 -> sampling temperature 0.7..1.3 (0.5 is audiocraft's 1.0);
    complexity 0..1 -> top_k 50..450 (0.5 is audiocraft's 250); loyalty (regeneration) -> how strongly
    the text is followed against the take's own audio: cfg 3.0 at 0 down to 2.0 at 1; the stride
    of long generations keeps 40% of the model's window as context, as audiocraft's 18 s of 30 do."""
    loyal = request.loyalty if request.previous else 0.0
    return Controls(temperature=round(0.7 + 0.6 * request.temperature, 3),
                    top_k=int(round(50 + 400 * request.complexity)), top_p=0.0,
                    cfg_coef=round(3.0 - 1.0 * loyal, 3), extend_stride=round(max_duration * 0.6, 3))


def describe(role: str, request: GenerationRequest, intent: Intent, context: GenerationContext,
             bpm: float) -> str:
    """The text for one role."""
    # the tempo is said once, as the session (or the prompt) sets it: a stale "150 bpm" would fight it
    said = " ".join(_TEMPO.sub("", request.prompt).split()).strip(" ,")
    parts = [said] if said else []
    parts.append(ROLE_TEXT[role])
    parts.append(f"{bpm:.0f} bpm")
    musical = context.musical
    key = getattr(musical, "key", None) or (intent.key.name if intent.key else None)
    if key:
        parts.append(f"in {key}")
    if request.density <= 0.3:
        parts.append("sparse, few notes")
    elif request.density >= 0.7:
        parts.append("busy, many notes")
    if request.complexity >= 0.7:
        parts.append("intricate")
    elif request.complexity <= 0.3:
        parts.append("simple")
    if request.swing is not None and request.swing >= 0.3:
        parts.append("swung rhythm" if request.swing < 0.7 else "heavy triplet swing")
    return ", ".join(parts)


def prompt_seconds(request: GenerationRequest, available_s: float, max_duration: float) -> float:
    """How much audio before the range to continue from: up to 10 s (at most half the model's
    window); for a regeneration, more of the previous take the more loyal it is to it."""
    cap = min(MAX_PROMPT_S, max_duration / 2)
    if request.previous:
        cap = min(cap, 2.0 + (cap - 2.0) * request.loyalty)
    seconds = min(cap, available_s)
    return seconds if seconds >= 0.5 else 0.0  # less than half a second gives the model nothing to follow
