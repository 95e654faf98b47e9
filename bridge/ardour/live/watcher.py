"""Watching session folders: when Ardour saves (it writes X.tmp and renames it over X.ardour), the
model is read again, once per save, and subscribers hear what changed.

watchdog's observer thread only notes that a snapshot file moved or changed; the event loop waits
for a quiet period (debounce: several saves close together make one reload), compares a content
hash (a touch without a change is no reload), reads the session and publishes a summary of what
changed, e.g. that regions of a locked track moved, so an automatic regeneration may be offered.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from bridge.ardour.model import Session
from bridge.ardour.reader import find_session_file, read_session
from bridge.errors import BridgeError

log = logging.getLogger("resonant.watcher")
DEBOUNCE_S = 0.25

Listener = Callable[[dict[str, Any]], None]


def _regions_signature(s: Session) -> dict[str, list[tuple[str, int, int, int]]]:
    return {t.name: [(r.name, r.position, r.start, r.length) for r in s.regions_of(t)] for t in s.tracks}


def diff(old: Session | None, new: Session) -> dict[str, Any]:
    """What changed between two reads of a session, in words a caller can act on."""
    if old is None:
        return {"tracks_added": [t.name for t in new.tracks], "tracks_removed": [], "regions_changed": [],
                "locked_regions_changed": [], "locks_changed": []}
    a, b = _regions_signature(old), _regions_signature(new)
    changed = sorted(n for n in b if n in a and a[n] != b[n])
    old_locks = {t.name: t.locked for t in old.tracks}
    locked_now = {t.name for t in new.tracks if t.locked}
    return {
        "tracks_added": sorted(set(b) - set(a)), "tracks_removed": sorted(set(a) - set(b)),
        "regions_changed": changed, "locked_regions_changed": [n for n in changed if n in locked_now],
        "locks_changed": sorted(t.name for t in new.tracks if old_locks.get(t.name, False) != t.locked),
    }


@dataclass
class _Watched:
    file: Path
    digest: str
    session: Session
    reloads: int = 0
    pending: asyncio.TimerHandle | None = None
    watch: Any = field(default=None, repr=False)
    running: asyncio.Task | None = None  # the reload in progress: one at a time per folder
    again: bool = False  # a save came while it ran: read once more after it (the newest wins)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: SessionWatcher, folder: Path) -> None:
        self.watcher = watcher
        self.folder = folder

    def on_any_event(self, event: FileSystemEvent) -> None:
        # an atomic save shows as moved(tmp -> X.ardour) with inotify, deleted+created when polling
        for p in (getattr(event, "dest_path", "") or "", event.src_path):
            if p and str(p).endswith(".ardour"):
                self.watcher._threadsafe_touch(self.folder, Path(p))


class SessionWatcher:
    def __init__(self, debounce_s: float = DEBOUNCE_S) -> None:
        self.debounce_s = debounce_s
        self.loop: asyncio.AbstractEventLoop | None = None
        self.observer: Any = None  # made on the first watch: watchdog's holds an inotify instance from birth
        self.watched: dict[Path, _Watched] = {}
        self.listeners: list[Listener] = []
        self._started = False

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    async def watch(self, path: str | Path) -> Session:
        """Start watching a session's folder; returns the session as read now."""
        self.loop = asyncio.get_running_loop()
        file = find_session_file(path)
        folder = file.parent.resolve()
        if folder in self.watched:
            return self.watched[folder].session
        data = await asyncio.to_thread(file.read_bytes)
        session = await asyncio.to_thread(read_session, file)
        w = _Watched(file, hashlib.sha256(data).hexdigest(), session)
        if self.observer is None:
            self.observer = Observer()
        w.watch = self.observer.schedule(_Handler(self, folder), str(folder), recursive=False)
        self.watched[folder] = w
        if not self._started:
            self.observer.start()
            self._started = True
        log.info("watching %s", file)
        return session

    def unwatch(self, path: str | Path) -> None:
        folder = find_session_file(path).parent.resolve()
        w = self.watched.pop(folder, None)
        if w is not None:
            if w.pending:
                w.pending.cancel()
            self.observer.unschedule(w.watch)

    def session(self, path: str | Path) -> Session | None:
        w = self.watched.get(find_session_file(path).parent.resolve())
        return w.session if w else None

    def _threadsafe_touch(self, folder: Path, changed: Path) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._touch, folder, changed)

    def _touch(self, folder: Path, changed: Path) -> None:
        w = self.watched.get(folder)
        if w is None or changed.name != w.file.name:
            return
        if w.pending is not None:
            w.pending.cancel()
        w.pending = self.loop.call_later(self.debounce_s, self._start_reload, folder)

    def _start_reload(self, folder: Path) -> None:
        """Reloads of one folder never overlap: a save during a reload makes one more after it, so
        subscribers hear the saves in order and the last one last."""
        w = self.watched.get(folder)
        if w is None:
            return
        w.pending = None
        if w.running is not None and not w.running.done():
            w.again = True
            return
        w.running = asyncio.ensure_future(self._reload_until_quiet(folder))

    async def _reload_until_quiet(self, folder: Path) -> None:
        while True:
            w = self.watched.get(folder)
            if w is None:
                return
            w.again = False
            await self._reload(folder)
            if not w.again:
                return

    async def _reload(self, folder: Path) -> None:
        w = self.watched.get(folder)
        if w is None:
            return
        try:
            data = await asyncio.to_thread(w.file.read_bytes)
        except OSError:
            return  # between Ardour's rename steps; the next event brings us back
        digest = hashlib.sha256(data).hexdigest()
        if digest == w.digest:
            return
        try:
            new = await asyncio.to_thread(read_session, w.file)
        except BridgeError as e:
            log.warning("%s changed but cannot be read: %s", w.file, e.message)
            return
        change = diff(w.session, new)
        w.session, w.digest = new, digest
        w.reloads += 1
        event = {"event": "session_changed", "session": str(w.file), "reloads": w.reloads, **change}
        log.info("reloaded %s: %s", w.file.name, change)
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:
                log.exception("watch listener failed")

    async def stop(self) -> None:
        running = []
        for w in self.watched.values():
            if w.pending:
                w.pending.cancel()
            if w.running is not None and not w.running.done():
                running.append(w.running)
        self.watched.clear()
        if running:
            await asyncio.wait(running, timeout=5)
        if self._started:
            self.observer.stop()
            await asyncio.to_thread(self.observer.join, 5)
            self._started = False
        self.observer = None
