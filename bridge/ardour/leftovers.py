"""What a killed bridge process leaves in a session, found and removed: temp files of the bridge's
own naming whose writer is gone, and audio a cut-off commit placed but the session never named.

A commit writes an intent record (``.resonant/intent-PID-RANDOM.json``: the audio files it is about
to place) before it places anything, and removes it once the session file is renamed into place or
the commit rolled back. Both happen under the session lock, so whoever holds the lock and finds an
intent of a process that no longer runs knows that commit was cut off: the files it lists that no
snapshot of the session names are removed. Runs at every commit (under its lock) and at daemon start
for the sessions of jobs the previous daemon left active.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import time
from pathlib import Path

from bridge.ardour.files import TMP_SUFFIX, atomic_write, open_dir, read_within
from bridge.errors import UnsafePath

log = logging.getLogger(__name__)

INTENT_DIR = ".resonant"
_OURS = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}" + re.escape(TMP_SUFFIX) + r"$")
# names of older bridge versions (no pid) and the inbox's old copies: removed once surely stale
_LEGACY = re.compile(r"^\..+\.[A-Za-z0-9_]{6,8}" + re.escape(TMP_SUFFIX) + r"$|^.+\.wav\.part$")
LEGACY_AGE_S = 600
_INTENT = re.compile(r"^intent-(\d+)-[0-9a-f]{8}\.json$")
# folders below the session where the bridge writes (each reached without following symlinks)
PLACES = (".", ".resonant", ".resonant/backups", ".resonant/takes", ".resonant/inbox", ".resonant/stems")


def running(pid: int) -> bool:
    """Whether a process with this pid exists (one of another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def alive(pid: int) -> bool:
    return pid == os.getpid() or running(pid)


class Intent:
    """The record a commit keeps while it places audio: removed when the commit is over."""

    def __init__(self, folder: Path, targets: list[Path]) -> None:
        self.folder = folder
        self.path = folder / INTENT_DIR / f"intent-{os.getpid()}-{os.urandom(4).hex()}.json"
        atomic_write(self.path, json.dumps({"files": [str(t.relative_to(folder)) for t in targets]}).encode(),
                     within=folder)

    def close(self) -> None:
        try:
            fd = open_dir(self.folder, INTENT_DIR)
        except (OSError, UnsafePath):
            return
        try:
            os.unlink(self.path.name, dir_fd=fd)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)


def _named_by_snapshots(folder: Path) -> str:
    text = []
    for p in folder.glob("*.ardour"):
        data = read_within(folder, p)
        if data is not None:
            text.append(data.decode(errors="replace"))
    return "\n".join(text)


def _in(folder: Path, rel: str) -> list[tuple[int, str]]:
    """(dir fd, name) of each entry of ``folder/rel``; the caller closes the fd (first item)."""
    try:
        fd = open_dir(folder, rel)
    except (OSError, UnsafePath):
        return []
    return [(fd, n) for n in os.listdir(fd)] or [(fd, "")]


def clean(folder: Path, dry_run: bool = False) -> list[str]:
    """Remove what dead bridge processes left in the session folder; call it holding the session
    lock (or with ``dry_run``, which only says what there is). Returns the paths, relative."""
    folder = Path(folder)
    removed: list[str] = []
    now = time.time()
    audio_dirs = []
    try:
        interchange = open_dir(folder, "interchange")
        try:
            audio_dirs = [f"interchange/{n}/{kind}" for n in os.listdir(interchange)
                          for kind in ("audiofiles", "midifiles")]
        finally:
            os.close(interchange)
    except (OSError, UnsafePath):
        pass
    # a MIDI track's synth state the bridge wrote (plugins/<processor id>/<state dir>/)
    for pid in _subdirs(folder, "plugins"):
        audio_dirs += _subdirs(folder, pid)
    inbox_jobs = []
    try:
        ifd = open_dir(folder, ".resonant/inbox")
        try:
            inbox_jobs = [f".resonant/inbox/{n}" for n in os.listdir(ifd)
                          if stat.S_ISDIR(os.stat(n, dir_fd=ifd, follow_symlinks=False).st_mode)]
        finally:
            os.close(ifd)
    except (OSError, UnsafePath):
        pass
    for rel in (*PLACES, *audio_dirs, *inbox_jobs):
        entries = _in(folder, rel)
        if not entries:
            continue
        fd = entries[0][0]
        try:
            for _, name in entries:
                if not name:
                    continue
                m = _OURS.match(name)
                stale = m is not None and not alive(int(m.group(1)))
                if not stale and m is None and _LEGACY.match(name):
                    try:
                        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                        stale = now - st.st_mtime > LEGACY_AGE_S
                    except FileNotFoundError:
                        continue
                if stale and (dry_run or _unlink_file(fd, name)):
                    removed.append(os.path.normpath(f"{rel}/{name}"))
        finally:
            os.close(fd)
    removed += _clean_intents(folder, dry_run)
    for r in [] if dry_run else removed:
        log.warning("removed %s in %s, left by a bridge process that was stopped while writing", r, folder.name)
    return removed


def _subdirs(folder: Path, rel: str) -> list[str]:
    try:
        fd = open_dir(folder, rel)
    except (OSError, UnsafePath):
        return []
    try:
        return [f"{rel}/{n}" for n in os.listdir(fd)
                if stat.S_ISDIR(os.stat(n, dir_fd=fd, follow_symlinks=False).st_mode)]
    except OSError:
        return []
    finally:
        os.close(fd)


def _unlink_file(fd: int, name: str) -> bool:
    try:
        if not stat.S_ISREG(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
            return False
        os.unlink(name, dir_fd=fd)
        return True
    except FileNotFoundError:
        return False


def _clean_intents(folder: Path, dry_run: bool = False) -> list[str]:
    entries = _in(folder, INTENT_DIR)
    if not entries:
        return []
    fd = entries[0][0]
    removed = []
    named: str | None = None
    try:
        for _, name in entries:
            m = _INTENT.match(name)
            if m is None or alive(int(m.group(1))):
                continue
            data = read_within(folder, folder / INTENT_DIR / name, 1 << 20)
            try:
                files = json.loads(data)["files"] if data else []
            except (ValueError, KeyError, TypeError):
                files = []
            if dry_run:
                removed.append(f"{INTENT_DIR}/{name}")
                continue
            named = _named_by_snapshots(folder) if named is None else named
            for rel in files if isinstance(files, list) else []:
                p = Path(str(rel))
                if p.is_absolute() or ".." in p.parts or p.name in named:
                    continue
                try:
                    dfd = open_dir(folder, p.parent)
                except (OSError, UnsafePath):
                    continue
                try:
                    if _unlink_file(dfd, p.name):
                        removed.append(str(p))
                finally:
                    os.close(dfd)
            _unlink_file(fd, name)
    finally:
        os.close(fd)
    return removed
