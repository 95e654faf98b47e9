"""The session watcher: one reload per save, by Ardour itself or by an atomic write."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bridge.ardour import SessionEditor, read_session
from bridge.ardour.files import atomic_write
from bridge.ardour.live.watcher import SessionWatcher
from tests import ardour_tools
from tests.test_service import new_session


async def _settle(seconds: float = 1.0) -> None:
    await asyncio.sleep(seconds)


def test_rapid_saves_make_one_reload_and_a_touch_none(tmp_path: Path) -> None:
    song = new_session(tmp_path)
    file = song / "Song.ardour"

    async def go() -> None:
        w = SessionWatcher(debounce_s=0.25)
        events: list[dict] = []
        w.subscribe(events.append)
        await w.watch(song)
        try:
            os.utime(file)  # touched, same bytes
            await _settle(0.6)
            assert events == []
            data = file.read_bytes()
            for i in range(5):  # five saves 20 ms apart, as an autosave burst
                atomic_write(file, data.replace(b'name="Fresh"', f'name="Fresh{i}"'.encode(), 1))
                await asyncio.sleep(0.02)
            await _settle(0.8)
            assert len(events) == 1 and events[0]["reloads"] == 1
            assert w.session(song).name == "Fresh4"
            # an unreadable save is logged, not fatal; the last good model stays
            atomic_write(file, b"<Session")
            await _settle(0.6)
            assert len(events) == 1 and w.session(song).name == "Fresh4"
        finally:
            await w.stop()

    asyncio.run(go())


def test_reloads_never_overlap_and_the_newest_save_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save that lands while the previous one is still being read (a big session, a slow disk)
    is read after it: subscribers hear Save1 then Save2, and the model ends as Save2."""
    import time

    from bridge.ardour.live import watcher as watcher_mod

    song = new_session(tmp_path)
    file = song / "Song.ardour"
    slow_once = {"first": True}
    real_read = watcher_mod.read_session

    def slow_read(path):  # the first reload takes 0.8 s, the next ones are quick
        if slow_once.pop("first", False):
            time.sleep(0.8)
        return real_read(path)

    monkeypatch.setattr(watcher_mod, "read_session", slow_read)

    async def go() -> None:
        w = SessionWatcher(debounce_s=0.1)
        heard: list[tuple[int, str]] = []  # (reload count, the session's name as each subscriber saw it)
        w.subscribe(lambda e: heard.append((e["reloads"], w.session(song).name)))
        await w.watch(song)
        try:
            data = file.read_bytes()
            atomic_write(file, data.replace(b'name="Fresh"', b'name="Save1"', 1))
            await asyncio.sleep(0.3)  # its reload has started and is slow
            atomic_write(file, data.replace(b'name="Fresh"', b'name="Save2"', 1))
            await _settle(1.5)
            assert heard == [(1, "Save1"), (2, "Save2")]
            assert w.session(song).name == "Save2"
        finally:
            await w.stop()

    asyncio.run(go())


@pytest.mark.ardour
def test_ardour_moves_a_locked_region_and_the_watcher_sees_it(recorded_copy: Path) -> None:
    folder = recorded_copy
    ed = SessionEditor(read_session(folder))
    ed.set_role("Drums", role="drums", locked=True)
    ed.commit()

    async def go() -> None:
        w = SessionWatcher()
        events: list[dict] = []
        w.subscribe(events.append)
        before = await w.watch(folder)
        first = min(before.regions_of(before.track("Drums")), key=lambda r: r.position)
        try:
            await asyncio.to_thread(ardour_tools.run_lua, ardour_tools.LUA / "move_region.lua", folder, "Recorded",
                                    TRACK="Drums", POS="96000")
            await _settle(1.5)
            assert len(events) == 1, events
            assert events[0]["locked_regions_changed"] == ["Drums"]
            now = w.session(folder)
            moved = [r for r in now.regions_of(now.track("Drums")) if r.name == first.name]
            assert any(r.position == 96000 for r in moved)
            assert now.track("Drums").locked  # Ardour kept our lock across its save
        finally:
            await w.stop()

    asyncio.run(go())
