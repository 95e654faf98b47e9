"""The most audio one request may render or analyse: memory and time grow with it (a stereo
float64 buffer is 0.77 MB per second at 48 kHz), so a range is refused before any work starts,
with the limit and the setting that raises it."""

from __future__ import annotations

from bridge.errors import LimitExceeded

DEFAULT_AUDIO_SECONDS = 480.0


def check_audio_span(start: int, end: int, sample_rate: int, limit_s: float | None, what: str) -> None:
    limit = DEFAULT_AUDIO_SECONDS if limit_s is None else limit_s
    seconds = (end - start) / sample_rate
    if seconds > limit:
        raise LimitExceeded(
            f"{what} would be {seconds:.0f} s of audio, more than the {limit:g} s the bridge takes on per"
            " request; ask for fewer bars (or fewer tracks' range), or raise [limits] audio_seconds in the config")
