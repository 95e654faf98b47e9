"""The engine protocol: ``generate(request, context, progress) -> list[Stem]``.

A request says what to write (roles, bars, prompt, seed and the controls users know from
generation tools); the context says what the locked tracks establish (``MusicalContext``) or is
None when nothing is locked; a stem is audio at the session rate plus, when the engine has it,
a standard MIDI file. Every value from outside is checked here, once, for every engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from bridge.ardour.tempo import TempoMap
from bridge.errors import InvalidInput
from bridge.roles import GENERATED as ROLES

MAX_BARS = 512
MAX_PROMPT = 2000

Progress = Callable[[float, str], None]


def no_progress(fraction: float, stage: str) -> None:
    """The default progress callback."""


@dataclass
class PreviousTake:
    """The take a regeneration starts from: its audio (frames x 2) placed at ``start`` (samples),
    and its MIDI when the engine wrote one."""

    audio: np.ndarray
    start: int
    midi: bytes | None = None
    recipe: dict[str, Any] | None = None  # how the take was made (bridge.engines.recipe), when known


@dataclass
class GenerationRequest:
    roles: list[str]
    first_bar: int = 1
    bars: int = 8
    prompt: str = ""
    seed: int = 0
    temperature: float = 0.5  # "weirdness": 0 plain, 1 adventurous
    density: float = 0.5  # how many notes
    complexity: float = 0.5  # rhythmic and harmonic detail
    swing: float | None = None  # 0 straight .. 1 full triplet swing; None = the style's
    loyalty: float = 0.5  # regeneration: 1 keeps the previous take's notes, 0 ignores them
    engine: str | None = None
    sample_rate: int = 48000  # used when there is no session
    loudness_lufs: float = -23.0  # per stem (EBU R 128 level): four stems mix to about -17 LUFS with headroom
    true_peak_db: float = -1.0
    previous: dict[str, PreviousTake] = field(default_factory=dict)  # by role
    given: tuple[str, ...] = ()  # the controls the caller set (the rest: as the previous take, or the style's)

    @property
    def last_bar(self) -> int:
        return self.first_bar + self.bars - 1

    def validate(self) -> GenerationRequest:
        if not isinstance(self.roles, list | tuple) or not self.roles:
            raise InvalidInput(f"roles must be a non-empty list of {', '.join(ROLES)}")
        bad = [r for r in self.roles if r not in ROLES]
        if bad:
            raise InvalidInput(f"unknown role(s) {', '.join(map(repr, bad))}; roles are {', '.join(ROLES)}")
        if len(set(self.roles)) != len(self.roles):
            raise InvalidInput("roles: each role may be asked for once")
        _int_in("first_bar", self.first_bar, 1, 100_000)
        _int_in("bars", self.bars, 1, MAX_BARS)
        _int_in("seed", self.seed, 0, 2**31 - 1)
        _int_in("sample_rate", self.sample_rate, 8000, 384_000)
        for name in ("temperature", "density", "complexity", "loyalty"):
            _float_in(name, getattr(self, name), 0.0, 1.0)
        if self.swing is not None:
            _float_in("swing", self.swing, 0.0, 1.0)
        _float_in("loudness_lufs", self.loudness_lufs, -40.0, -6.0)
        _float_in("true_peak_db", self.true_peak_db, -12.0, 0.0)
        if not isinstance(self.prompt, str) or len(self.prompt) > MAX_PROMPT:
            raise InvalidInput(f"prompt must be text of at most {MAX_PROMPT} characters")
        if any(ord(c) < 32 and c not in "\t\n" for c in self.prompt):
            raise InvalidInput("prompt contains control characters")
        for role, prev in self.previous.items():
            if role not in self.roles:
                raise InvalidInput(f"a previous take was given for {role!r}, which is not being generated")
            a = np.asarray(prev.audio)
            if a.ndim != 2 or a.shape[1] != 2 or not np.isfinite(a).all():
                raise InvalidInput(f"the previous {role} take must be finite stereo audio")
        return self


def _int_in(name: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not lo <= value <= hi:
        raise InvalidInput(f"{name} must be a whole number from {lo} to {hi} (got {value!r})")


def _float_in(name: str, value: Any, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value) \
            or not lo <= value <= hi:
        raise InvalidInput(f"{name} must be a number from {lo:g} to {hi:g} (got {value!r})")


@dataclass
class Stem:
    role: str
    audio: np.ndarray  # frames x 2, float32, at sample_rate
    sample_rate: int
    start: int  # first sample on the session timeline
    midi: bytes | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k not in ("audio", "midi")}
        d["frames"] = int(self.audio.shape[0])
        return d


@dataclass
class GenerationContext:
    """What generation must fit: the session's tempo map and, when tracks are locked, their
    analysis over the bars being written (``bridge.audio.analysis.MusicalContext``)."""

    tempo_map: TempoMap
    musical: object | None = None
    locked_roles: list[str] = field(default_factory=list)
    locked_pitches: list[int] = field(default_factory=list)
    source: str = "prompt"  # "session" when the tempo map is a session's
    # the locked audio tracks mixed as Ardour plays them, between two sample positions (frames x 2,
    # float32, zeros outside the session): what an audio model continues from or follows
    locked_audio: Callable[[int, int], np.ndarray] | None = None
    # the song around the bars (bridge.music.plan.SongInfo): its length, markers, key, chords and the
    # notes of the other tracks, locked or not
    song: object | None = None


class Engine(Protocol):
    name: str

    def generate(self, request: GenerationRequest, context: GenerationContext | None,
                 progress: Progress = no_progress) -> list[Stem]: ...
