"""What can be done to a session, for every frontend alike: open it (inside the configured roots),
describe it, add tracks and takes, choose takes, set roles and locks, render it, analyse it.

One decision for every frontend: a change to roles and locks goes beside the XML (the overlay) while
Ardour has the session open, and into the XML when it is closed; audio edits of an open session are
refused (Ardour's next save would overwrite them; deliveries go through its hook instead).
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bridge.ardour import Clip, SessionEditor, read_session
from bridge.ardour.files import session_lock, tmp_name
from bridge.ardour.live import overlay
from bridge.ardour.live.notices import write_locks
from bridge.ardour.live.procs import ardour_processes_in
from bridge.ardour.model import Session, Track
from bridge.ardour.paths import check_inside, check_path_length, outside
from bridge.ardour.reader import ReadLimits, find_session_file
from bridge.audio.limits import check_audio_span
from bridge.core.config import Config
from bridge.errors import BridgeError, InvalidInput, SessionChangedOnDisk, UnsafePath
from bridge.roles import ROLES

log = logging.getLogger("resonant.sessions")
T = TypeVar("T")
EDIT_ATTEMPTS = 5  # reads of a session an edit makes when something else keeps changing it


def is_open_in_ardour(session_file: Path) -> bool:
    return bool(ardour_processes_in(Path(session_file).parent))


def written(result: Any, message: str) -> dict[str, Any]:
    return {"ok": True, "message": message, "file": str(result.file),
            "backup": str(result.backup) if result.backup else None,
            "created": [str(p) for p in result.created]}


class Sessions:
    def __init__(self, config: Config) -> None:
        self.config = config

    # -- reading ---------------------------------------------------------------------------------

    def file(self, path: str) -> Path:
        if not isinstance(path, str) or not path or "\x00" in path:
            raise InvalidInput("a session path must be a non-empty string")
        given = Path(path).expanduser()
        # the roots first, so that nothing about a path outside them shows in the answer
        check_inside(given, self.config.session_roots)
        found = find_session_file(given)
        try:
            return check_inside(found, self.config.session_roots)
        except UnsafePath:
            raise outside(path, self.config.session_roots) from None

    def file_in_roots(self, path: Path) -> Path:
        """A path (a new session folder, say) resolved and refused unless inside the roots."""
        return check_inside(path, self.config.session_roots)

    def open(self, path: str) -> Session:
        return read_session(self.file(path), self.config.session_roots or None, self.read_limits)

    @property
    def read_limits(self) -> ReadLimits:
        return ReadLimits(self.config.limit_regions, self.config.limit_tracks)

    def audio_in(self, wav: str) -> Path:
        """An audio file to import: inside the roots like everything else the bridge reads."""
        if not isinstance(wav, str) or not wav or "\x00" in wav:
            raise InvalidInput("an audio file path must be a non-empty string")
        check_path_length(wav)
        return check_inside(Path(wav).expanduser(), self.config.session_roots)

    def edit(self, path: str, change: Callable[[Session], tuple[SessionEditor, T]]) -> tuple[Any, T]:
        """Read, change and commit one session as one step: bridge processes take turns (the session
        lock is held from the read to the rename), and a commit that finds the file changed by
        something else (Ardour saved it, a tool rewrote it) reads it again and re-applies ``change``."""
        file = self.file(path)
        roots = self.config.session_roots or None
        # first on a plain read, so that a refused request leaves no trace (not even the lock file)
        ed, _ = change(read_session(file, roots, self.read_limits))
        ed.check_commit()
        for attempt in range(EDIT_ATTEMPTS):
            with session_lock(file.parent):
                ed, out = change(read_session(file, roots, self.read_limits))
                try:
                    return ed.commit(), out
                except SessionChangedOnDisk:
                    if attempt == EDIT_ATTEMPTS - 1:
                        raise
            time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def describe(self, path: str, regions: bool = True) -> dict[str, Any]:
        s = self.open(path)
        d = s.to_dict(regions)
        d["locked"] = [t.name for t in s.locked_tracks()]
        return d

    def text(self, path: str) -> str:
        from bridge.core.show import show_text

        return show_text(self.open(path))

    def tracks_named(self, s: Session, names: list[str] | None) -> list[Track] | None:
        return [s.track(n) for n in names] if names else None

    # -- bars ------------------------------------------------------------------------------------

    @staticmethod
    def sample_of_bar(s: Session, bar: float) -> int:
        """The sample where ``bar`` starts (1 = the first bar; fractions are parts of the bar)."""
        if isinstance(bar, bool) or not isinstance(bar, int | float) or not math.isfinite(bar):
            raise InvalidInput(f"bar {bar!r} is not a number")
        if bar < 1:
            raise InvalidInput(f"bar {bar:g} is before the first bar (bars count from 1)")
        if bar > 100_000:
            raise InvalidInput(f"bar {bar:g} is past bar 100000, further than Ardour's timeline goes in practice")
        whole = int(bar)
        q = s.tempo_map.quarters_at_bbt(whole)
        if bar != whole:
            q += (bar - whole) * s.tempo_map.meter_at_quarters(q).bar_quarters
        return s.tempo_map.samples_at_quarters(q)

    # -- changes ---------------------------------------------------------------------------------

    def add_track(self, path: str, name: str, wav: str, bar: float = 1.0, role: str | None = None,
                  locked: bool = False, resample: bool = False, allow_missing: bool = False) -> dict[str, Any]:
        audio = self.audio_in(wav)

        def change(s: Session) -> tuple[SessionEditor, str]:
            ed = SessionEditor(s, resample=resample, allow_missing_sources=allow_missing)
            ed.add_audio_track(name, [Clip(audio, self.sample_of_bar(s, bar))], role=role, locked=locked)
            return ed, ed.result.names.get(name, name)

        result, made = self.edit(path, change)
        return {**written(result, f"added track {made!r} at bar {bar:g}"), "track": made}

    def add_take(self, path: str, track: str, wav: str, bar: float = 1.0, name: str | None = None,
                 resample: bool = False, allow_missing: bool = False) -> dict[str, Any]:
        audio = self.audio_in(wav)

        def change(s: Session) -> tuple[SessionEditor, str]:
            ed = SessionEditor(s, resample=resample, allow_missing_sources=allow_missing)
            return ed, ed.add_take(track, [Clip(audio, self.sample_of_bar(s, bar))], take_name=name)

        result, pid = self.edit(path, change)
        return {**written(result, f"track {track!r} now plays a new take (playlist {pid}); the previous take"
                                  " stays in the session"), "playlist": pid}

    def use_take(self, path: str, track: str, take: str) -> dict[str, Any]:
        def change(s: Session) -> tuple[SessionEditor, str]:
            ed = SessionEditor(s, allow_missing_sources=True)
            return ed, ed.use_take(s.track(track).name, take)

        result, pid = self.edit(path, change)
        return {**written(result, f"track {track!r} now plays take {take!r} (playlist {pid})"), "playlist": pid}

    def set_tracks(self, path: str, tracks: list[str], role: str | None = None,
                   locked: bool | None = None) -> dict[str, Any]:
        if not tracks or not all(isinstance(t, str) for t in tracks):
            raise InvalidInput("name at least one track")
        if role is not None and role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
        s = self.open(path)
        targets = [s.track(name) for name in tracks]
        if is_open_in_ardour(s.file):
            # Ardour would overwrite the XML on its next save: keep the change beside it
            overlay.set_entries(s.folder, {t.id: {**({"role": role} if role is not None else {}),
                                                  **({"locked": locked} if locked is not None else {})}
                                           for t in targets})
            where = "beside the session (Ardour has it open; it applies at once and moves into the file later)"
        else:
            def change(s: Session) -> tuple[SessionEditor, None]:
                ed = SessionEditor(s, allow_missing_sources=True)
                for name in tracks:
                    ed.set_role(s.track(name).name, role=role, locked=locked)  # folds in what the overlay held
                return ed, None

            self.edit(path, change)
            where = "in the session file"
        s2 = read_session(s.file, self.config.session_roots or None)
        try:  # for Ardour's hook, which shows the locked tracks there
            write_locks(s.folder, [(t.name, t.role or "", t.locked) for t in s2.tracks])
        except (OSError, BridgeError) as e:
            log.warning("could not write the lock list beside %s: %s", s.file, e)
        names = {t.name for t in targets}
        return {"tracks": [{"name": t.name, "role": t.role, "locked": t.locked} for t in s2.tracks if t.name in names],
                "stored": where}

    def takes(self, path: str, track: str) -> dict[str, Any]:
        s = self.open(path)
        t = s.track(track)
        return {"track": t.name, "active": s.playlist_of(t).name if s.playlist_of(t) else None,
                "takes": [{"name": p.name, "id": p.id, "regions": len(p.regions), "active": p.id == t.playlist_id}
                          for p in s.takes_of(t)]}

    # -- listening -------------------------------------------------------------------------------

    def mixdown(self, path: str, out: Path | None, tracks: list[str] | None = None,
                bars: tuple[int, int] | None = None, force: bool = False) -> dict[str, Any]:
        """The session (or some tracks, some bars) as Ardour plays it, as a WAV: at ``out``, or in
        the data folder's previews when ``out`` is None."""
        import soundfile as sf

        from bridge.audio.analysis import bar_range
        from bridge.audio.features import integrated_loudness
        from bridge.audio.mixdown import render

        s = self.open(path)
        chosen = self.tracks_named(s, tracks)
        if out is None:
            out = self.config.data_dir / "previews" / f"{s.snapshot}-{uuid.uuid4().hex[:8]}.wav"
            out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        else:
            if out.suffix.lower() != ".wav":
                raise InvalidInput(f"{out.name}: the mixdown is written as WAV; name it .wav")
            if out.exists() and not force:
                raise InvalidInput(f"{out} exists; pass --force to replace it")
        start = end = None
        if bars is not None:
            start, end, _, _ = bar_range(s, bars)
        rng = s.session_range or (0, s.end_sample())
        check_audio_span(rng[0] if start is None else start, rng[1] if end is None else end, s.sample_rate,
                         self.config.limit_audio_seconds, "the mixdown")
        audio = render(s, chosen, start, end)
        tmp = out.with_name(tmp_name(out.name))
        sf.write(str(tmp), audio, s.sample_rate, subtype="PCM_24", format="WAV")
        tmp.replace(out)
        lufs = integrated_loudness(audio, s.sample_rate)
        return {"wav": str(out), "seconds": round(len(audio) / s.sample_rate, 3), "sample_rate": s.sample_rate,
                "loudness_lufs": round(lufs, 2) if lufs is not None else None,
                "tracks": [t.name for t in (chosen or s.tracks) if t.kind == "audio"]}

    def analysis(self, path: str, bars: tuple[int, int] | None = None, tracks: list[str] | None = None):
        from bridge.audio.analysis import analyze, bar_range

        s = self.open(path)
        start, end, _, _ = bar_range(s, bars)
        check_audio_span(start, end, s.sample_rate, self.config.limit_audio_seconds, "the analysis")
        return analyze(s, self.tracks_named(s, tracks), bars)
