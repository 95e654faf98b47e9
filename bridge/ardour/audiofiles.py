"""Audio files going into a session: checked with libsndfile, resampled only when asked,
copied into ``interchange/<name>/audiofiles`` under names no other search folder has."""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

from bridge.errors import AudioFileError, SampleRateMismatch

# Formats Ardour plays through SndFileSource on every platform (§7.1).
PLAYABLE_FORMATS = {"WAV", "WAVEX", "W64", "RF64", "AIFF", "CAF", "FLAC", "OGG"}
MAX_CHANNELS = 2


@dataclass(frozen=True, slots=True)
class AudioInfo:
    path: Path
    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str


def inspect_audio(path: str | os.PathLike[str]) -> AudioInfo:
    p = Path(path)
    if not p.is_file():
        raise AudioFileError(f"audio file {p} does not exist")
    try:
        info = sf.info(str(p))
    except (RuntimeError, sf.LibsndfileError) as e:
        raise AudioFileError(f"{p.name} is not an audio file libsndfile can read ({e})") from None
    if info.format not in PLAYABLE_FORMATS:
        raise AudioFileError(f"{p.name}: format {info.format} is not one Ardour plays directly; use WAV")
    if info.frames <= 0:
        raise AudioFileError(f"{p.name} holds no audio")
    if not 1 <= info.channels <= MAX_CHANNELS:
        raise AudioFileError(f"{p.name} has {info.channels} channels; stems must be mono or stereo")
    if info.subtype in ("FLOAT", "DOUBLE"):
        data, _ = sf.read(str(p), dtype="float32", always_2d=True)
        if not np.isfinite(data).all():
            raise AudioFileError(f"{p.name} contains NaN or infinite samples")
    return AudioInfo(p, int(info.samplerate), int(info.channels), int(info.frames), info.format, info.subtype)


def resampled_frames(info: AudioInfo, rate: int) -> int:
    return math.ceil(info.frames * rate / info.sample_rate) if info.sample_rate != rate else info.frames


def check_rate(info: AudioInfo, session_rate: int, resample: bool) -> int:
    """Frames the file will have in the session; refuses a rate mismatch unless resampling."""
    if info.sample_rate != session_rate and not resample:
        raise SampleRateMismatch(
            f"{info.path.name} is {info.sample_rate} Hz but the session runs at {session_rate} Hz;"
            " Ardour would play it at the wrong speed and pitch. Resample it (or pass --resample)")
    return resampled_frames(info, session_rate)


def unique_name(stem: str, taken: set[str], ext: str = ".wav") -> str:
    """``stem.wav``, or ``stem-2.wav``… so that no search folder of the session has it."""
    lowered = {t.lower() for t in taken}
    name = f"{stem}{ext}"
    n = 1
    while name.lower() in lowered:
        n += 1
        name = f"{stem}-{n}{ext}"
    return name


def place_audio(info: AudioInfo, target: Path, session_rate: int, within: Path | None = None) -> None:
    """Copy (or resample) ``info.path`` to ``target``, atomically, never replacing a file; with
    ``within`` (the session folder) no symlink below it is followed on the way to ``target``."""
    from bridge.ardour.files import dir_of, tmp_name

    with dir_of(target, within, mode=0o755) as dfd:
        try:
            os.stat(target.name, dir_fd=dfd, follow_symlinks=False)
            raise AudioFileError(f"{target} already exists; refusing to overwrite it")
        except FileNotFoundError:
            pass
        tmp = tmp_name(target.name)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dfd)
        try:
            with os.fdopen(fd, "wb") as out:
                if info.sample_rate == session_rate:
                    with open(info.path, "rb") as src:
                        shutil.copyfileobj(src, out, 1 << 20)
                else:
                    _resample_file(info, out, session_rate)
                out.flush()
                os.fsync(out.fileno())
            # link() fails if the target appeared meanwhile, where rename() would replace it.
            os.link(tmp, target.name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
        finally:
            os.unlink(tmp, dir_fd=dfd)


def _resample_file(info: AudioInfo, out: BinaryIO, rate: int) -> None:
    from scipy.signal import resample_poly

    data, _ = sf.read(str(info.path), dtype="float64", always_2d=True)
    ratio = Fraction(rate, info.sample_rate)
    y = resample_poly(data, ratio.numerator, ratio.denominator, axis=0)
    frames = resampled_frames(info, rate)
    y = y[:frames] if y.shape[0] >= frames else np.pad(y, ((0, frames - y.shape[0]), (0, 0)))
    subtype = info.subtype if info.subtype in ("PCM_16", "PCM_24", "PCM_32", "FLOAT") else "FLOAT"
    if subtype.startswith("PCM"):
        y = np.clip(y, -1.0, 1.0)
    sf.write(out, y.astype(np.float32), rate, subtype=subtype, format="WAV")
