"""BridgeService with a real job store (SQLite file) and a real worker process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from pathlib import Path

import pytest

from bridge.ardour import read_session
from bridge.core.config import load_config
from bridge.core.events import JobProgress, JobStatus
from bridge.core.service import BridgeService
from bridge.errors import BridgeError
from bridge.jobs.store import JobStore
from tests.ardour_tools import folder_state
from tests.conftest import FIXTURES


def new_session(parent: Path, name: str = "Song") -> Path:
    folder = parent / name
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "empty-ardour-7.3.ardour", folder / f"{name}.ardour")
    return folder


async def wait(svc: BridgeService, job_id: str, timeout: float = 60) -> dict:
    for _ in range(int(timeout / 0.05)):
        j = await svc.job(job_id)
        if j["status"] in ("done", "failed", "cancelled"):
            return j
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.fixture
def config(tmp_path: Path):
    return load_config(data_dir=str(tmp_path / "data"), env={}, queue_size=2)


def run(coro):
    return asyncio.run(coro)


@contextlib.asynccontextmanager
async def running(config):
    """A started service, stopped whatever the test does."""
    svc = await BridgeService.start(config)
    try:
        yield svc
    finally:
        await svc.stop()


def test_generate_regenerate_cancel_and_history(tmp_path: Path, config) -> None:
    song = new_session(tmp_path)

    async def go() -> None:
        async with running(config) as svc:
            events: list[dict] = []
            svc.subscribe(events.append)
            job = await svc.generate(str(song), ["drums", "bass"], bars=4, prompt="house", seed=1)
            assert job["status"] == "pending"
            done = await wait(svc, job["id"])
            assert done["status"] == "done", done["error"]
            assert [t["track"] for t in done["delivery"]["tracks"]] == ["Drums", "Bass"]
            assert any(isinstance(e, JobProgress) for e in events)
            await asyncio.sleep(0.05)  # the store says done a moment before the event goes out
            assert [e.status for e in events if isinstance(e, JobStatus) and e.job == job["id"]][-1] == "done"
            s = read_session(song)
            expected = [("Drums", "drums", False), ("Bass", "bass", False)]
            assert [(t.name, t.role, t.locked) for t in s.tracks] == expected
            from lxml import etree

            from bridge.roles import COLOURS

            colours = {r.get("name"): int(r.find("PresentationInfo").get("color"))
                       for r in etree.parse(str(s.file)).iter("Route")}
            assert colours["Drums"] == COLOURS["drums"] and colours["Bass"] == COLOURS["bass"]  # by role
            # each take's recipe and notes are kept, keyed by job and role, and found by the take's sources
            from bridge.ardour import takes

            drums = s.track("Drums")
            names = [s.sources[i].name for r in s.regions_of(drums) for i in r.source_ids]
            recipe, midi = takes.recall(song, names, "drums")
            assert midi and recipe["style"] == "house" and recipe["job"] == job["id"] and recipe["role"] == "drums"
            # lock the drums; regenerate bars 2-3 of the bass as a new take
            await svc.set_tracks(str(song), ["Drums"], locked=True)
            with pytest.raises(BridgeError, match="locked"):
                await svc.regenerate(str(song), "Drums")
            j2 = await wait(svc, (await svc.regenerate(str(song), "Bass", bars=(2, 3), seed=5))["id"])
            assert j2["status"] == "done", j2["error"]
            s = read_session(song)
            bass = s.track("Bass")
            assert [p.name for p in s.takes_of(bass)] == ["Bass", "Bass.1"] and s.playlist_of(bass).name == "Bass.1"
            # a long job cancelled while running really stops
            j3 = await svc.generate(None, ["drums", "bass", "harmony", "melody"], bars=128, prompt="metal")
            await asyncio.sleep(1.0)
            assert (await svc.cancel(j3["id"]))["status"] == "cancelled"
            history = await svc.jobs(str(song))
            assert [h["kind"] for h in history] == ["regenerate", "generate"]
            # and the worker still works after being restarted by the cancel
            j4 = await wait(svc, (await svc.generate(None, ["bass"], bars=1))["id"])
            assert j4["status"] == "done" and Path(j4["delivery"]["folder"], "bass.wav").is_file()

    run(go())


def test_bad_calls_change_nothing(tmp_path: Path, config) -> None:
    song = new_session(tmp_path)
    before = folder_state(song)

    async def go() -> None:
        async with running(config) as svc:
            for call, code in [
                (svc.generate(str(song), ["vocals"]), "invalid_input"),
                (svc.generate(str(song), ["bass"], bars=0), "invalid_input"),
                (svc.generate(str(song), ["bass"], temperature=7), "invalid_input"),
                (svc.generate(str(tmp_path / "nope"), ["bass"]), "session_not_found"),
                (svc.generate(str(song), ["bass"], engine="magic"), "invalid_input"),
                (svc.regenerate(str(song), "Nobody"), "unknown_track"),
                (svc.set_tracks(str(song), ["Nobody"], locked=True), "unknown_track"),
                (svc.set_tracks(str(song), [], locked=True), "invalid_input"),
                (svc.job("zzz"), "unknown_job"), (svc.job("../etc"), "unknown_job"),
                (svc.cancel("0123456789ab"), "unknown_job"),
                (svc.jobs(status="weird"), "invalid_input"),
            ]:
                with pytest.raises(BridgeError) as e:
                    await call
                assert e.value.code == code, (e.value.code, e.value.message)

    run(go())
    assert folder_state(song) == before


def test_roots_and_full_queue(tmp_path: Path) -> None:
    inside, outside = tmp_path / "roots", tmp_path / "elsewhere"
    song_in, song_out = new_session(inside), new_session(outside)
    cfg = load_config(data_dir=str(tmp_path / "data"), env={}, queue_size=1)
    cfg.session_roots = [inside]

    async def go() -> None:
        async with running(cfg) as svc:
            with pytest.raises(BridgeError) as e:
                await svc.describe_session(str(song_out))
            assert e.value.code == "unsafe_path"
            assert (await svc.describe_session(str(song_in)))["name"] == "Fresh"
            first = await svc.generate(None, ["drums"], bars=64)  # running
            await asyncio.sleep(0.3)
            await svc.generate(None, ["drums"], bars=1)  # waiting: the queue holds one
            with pytest.raises(BridgeError) as e:
                await svc.generate(None, ["drums"], bars=1)
            assert e.value.code == "queue_full"
            await svc.cancel(first["id"])

    run(go())


def test_worker_killed_mid_job_fails_the_job_and_recovers(tmp_path: Path, config) -> None:
    song = new_session(tmp_path)
    before = folder_state(song)

    async def go() -> None:
        async with running(config) as svc:
            job = await svc.generate(str(song), ["drums", "bass", "harmony", "melody"], bars=96, prompt="metal")
            await asyncio.sleep(1.5)
            os.kill(svc.jobs_running.worker.proc.pid, signal.SIGKILL)
            done = await wait(svc, job["id"])
            assert done["status"] == "failed" and "died" in done["error"]
            assert folder_state(song) == before  # nothing half-delivered
            again = await wait(svc, (await svc.generate(str(song), ["bass"], bars=1))["id"])
            assert again["status"] == "done"

    run(go())


def test_recovery_after_a_crash(tmp_path: Path) -> None:
    song = new_session(tmp_path)
    stray = song / "interchange" / "Song" / "audiofiles" / "Bass.wav"

    async def go() -> None:
        store = await JobStore(tmp_path / "data" / "jobs.sqlite3").open()
        a = await store.create("generate", str(song / "Song.ardour"), None, {"roles": ["bass"]}, "arranger")
        b = await store.create("generate", str(song / "Song.ardour"), None, {"roles": ["bass"]}, "arranger")
        await store.update(a.id, status="running")
        stray.parent.mkdir(parents=True)
        stray.write_bytes(b"RIFF half a delivery")
        await store.update(b.id, status="delivering", pending_files=[str(stray)])
        await store.close()
        async with running(load_config(data_dir=str(tmp_path / "data"), env={})) as svc:
            ja, jb = await svc.job(a.id), await svc.job(b.id)
            assert ja["status"] == jb["status"] == "failed"
            assert "running" in ja["error"] and "delivering" in jb["error"]
            assert not stray.exists()  # the unregistered file of the cut-off delivery is gone

    run(go())


def test_recovery_asks_the_inbox_whether_ardour_imported_a_cut_off_hook_delivery(tmp_path: Path) -> None:
    """A daemon killed while Ardour's hook had its drop: after the restart the job is done if Ardour
    acknowledged the import, else failed and the drop withdrawn (so no take lands that nobody awaits)."""
    from bridge.ardour.live import inbox
    from bridge.core.delivery import WAITING_FOR_ARDOUR

    song = new_session(tmp_path)
    wav = tmp_path / "t.wav"
    import numpy as np
    import soundfile as sf

    sf.write(str(wav), np.zeros((4800, 2)), 48000)
    drop = inbox.Drop(track="Bass", role="bass", file="", position=0, first_bar=1, last_bar=1, take="Bass",
                      new_track=True, channels=2, frames=4800)

    async def go() -> None:
        store = await JobStore(tmp_path / "data" / "jobs.sqlite3").open()
        landed = await store.create("generate", str(song / "Song.ardour"), None, {"roles": ["bass"]}, "arranger")
        waiting = await store.create("generate", str(song / "Song.ardour"), None, {"roles": ["bass"]}, "arranger")
        for j in (landed, waiting):
            await store.update(j.id, status="delivering", stage=WAITING_FOR_ARDOUR)
            inbox.post(song, j.id, "generate", [(wav, drop)], None)
        # Ardour's hook answered for the first one just before the daemon died
        (inbox.inbox_of(song) / f"{landed.id}.ack").write_text("ok\nimported 1\nplaced\t1\tBass\tBass\tBass-x.wav\n")
        await store.close()
        async with running(load_config(data_dir=str(tmp_path / "data"), env={})) as svc:
            a, b = await svc.job(landed.id), await svc.job(waiting.id)
            assert a["status"] == "done" and a["delivery"]["recovered"], a
            assert a["delivery"]["tracks"][0]["track"] == "Bass"
            assert b["status"] == "failed" and "withdrawn" in b["error"], b
            assert inbox.waiting(inbox.inbox_of(song)) == []  # neither waits for Ardour any more

    run(go())


def test_config_file_env_and_flags(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text('[daemon]\nosc_port = 7000\nbind = "127.0.0.2"\n[sessions]\nroots = ["/a", "/b"]\n')
    cfg = load_config(toml, env={"RESONANT_OSC_PORT": "7100"}, bind="127.0.0.3")
    assert (cfg.osc_port, cfg.bind, [str(p) for p in cfg.session_roots]) == (7100, "127.0.0.3", ["/a", "/b"])
    cfg = load_config(None, env={"RESONANT_SESSION_ROOTS": "/x:/y"})
    assert [str(p) for p in cfg.session_roots] == ["/x", "/y"]
    for text in ("[daemon]\nosc_port = 'x'\n", "[daemon]\nnope = 1\n", "not toml [", "[daemon]\nosc_port = 99999\n"):
        toml.write_text(text)
        with pytest.raises(BridgeError):
            load_config(toml, env={})


def test_whole_take_regenerate_at_110_bpm_starts_on_bar_3(tmp_path: Path, config) -> None:
    """At 110 BPM a bar line's fractional bar is a hair under its number: a take on bars 3-6,
    regenerated whole, must come back on bars 3-6, not 2-6."""
    import numpy as np
    import soundfile as sf

    from bridge.ardour.writer import Clip, SessionEditor

    song = new_session(tmp_path)
    ed = SessionEditor(read_session(song))
    ed.set_constant_tempo(110)
    ed.commit()
    s = read_session(song)
    tm = s.tempo_map
    start, end = tm.samples_at_bar(3), tm.samples_at_bar(7)
    assert tm.bar_at_samples(start) < 3  # the trap: flooring the fractional bar says bar 2
    wav = tmp_path / "bass.wav"
    t = np.arange(end - start) / s.sample_rate
    sf.write(str(wav), 0.3 * np.sin(2 * np.pi * 55 * t), s.sample_rate, subtype="PCM_24")
    ed = SessionEditor(s)
    ed.add_audio_track("Bass", [Clip(wav, start)], role="bass")
    ed.commit()

    async def go() -> dict:
        async with running(config) as svc:
            return await wait(svc, (await svc.regenerate(str(song), "Bass", seed=3))["id"])

    done = run(go())
    assert done["status"] == "done", done["error"]
    assert done["delivery"]["tracks"][0]["bars"] == [3, 6]
    assert "changed_bars" not in done["delivery"]["tracks"][0]  # the whole take was rewritten
    s = read_session(song)
    (region,) = s.regions_of(s.track("Bass"))
    assert region.position == start and region.end <= end + s.sample_rate  # a release tail at most

    async def some_bars() -> dict:
        async with running(config) as svc:
            return await wait(svc, (await svc.regenerate(str(song), "Bass", bars=(5, 6), seed=4))["id"])

    # bars 5-6 of it: the new take spans the whole take (the rest kept), and says which bars changed
    done = run(some_bars())
    assert done["status"] == "done", done["error"]
    t = done["delivery"]["tracks"][0]
    assert t["bars"] == [3, 6] and t["changed_bars"] == [5, 6], t


def test_a_queued_job_is_pending_until_the_worker_takes_it(tmp_path: Path, config) -> None:
    async def go() -> None:
        async with running(config) as svc:
            first = await svc.generate(None, ["drums", "bass", "harmony", "melody"], bars=96, prompt="metal")
            for _ in range(200):
                if (await svc.job(first["id"]))["status"] == "running":
                    break
                await asyncio.sleep(0.02)
            second = await svc.generate(None, ["bass"], bars=1)
            await asyncio.sleep(0.5)
            j1, j2 = await svc.job(first["id"]), await svc.job(second["id"])
            assert j1["status"] == "running" and j1["started"]
            assert j2["status"] == "pending" and j2["started"] is None  # it waits behind the first
            await svc.cancel(first["id"])
            done = await wait(svc, second["id"])
            assert done["status"] == "done" and done["started"] >= j1["started"]

    run(go())


def test_any_error_in_delivery_ends_the_job_with_the_truth(tmp_path: Path, config,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only the bridge's own errors: whatever raises, the job ends failed, says whether the
    session holds the stems, and the service stops at once."""
    from bridge.ardour.writer import SessionEditor
    from bridge.core.delivery import Deliverer

    song = new_session(tmp_path)
    before = folder_state(song)

    def disk_gone(self):
        raise OSError(28, "No space left on device")

    async def after_commit(self, *args, **kwargs):
        raise RuntimeError("something unforeseen")

    async def go() -> None:
        async with running(config) as svc:
            with monkeypatch.context() as m:  # before the commit: nothing reached the session
                m.setattr(SessionEditor, "commit", disk_gone)
                j = await wait(svc, (await svc.generate(str(song), ["bass"], bars=1))["id"])
            assert j["status"] == "failed" and "No space left" in j["error"]
            assert "nothing was written to the session" in j["error"]
            assert folder_state(song) == before
            with monkeypatch.context() as m:  # after the commit: the session holds the Bass
                m.setattr(Deliverer, "_keep", after_commit)
                j = await wait(svc, (await svc.generate(str(song), ["bass"], bars=1))["id"])
            assert j["status"] == "failed" and "something unforeseen" in j["error"]
            assert "written into the session before this happened" in j["error"]
            assert [t.name for t in read_session(song).tracks] == ["Bass"]
            # the recipes cannot be kept (.resonant/takes is a file): the take is in, the job is done
            (song / ".resonant").mkdir(exist_ok=True)
            (song / ".resonant" / "takes").write_text("not a folder")
            j = await wait(svc, (await svc.generate(str(song), ["drums"], bars=1))["id"])
            assert j["status"] == "done" and "recipes could not be kept" in j["delivery"]["warnings"][0]
            assert [t.name for t in read_session(song).tracks] == ["Bass", "Drums"]

    run(go())


def test_recovery_tells_a_committed_delivery_from_a_cut_off_one(tmp_path: Path) -> None:
    song = new_session(tmp_path)

    async def go() -> None:
        store = await JobStore(tmp_path / "data" / "jobs.sqlite3").open()
        a = await store.create("generate", str(song / "Song.ardour"), None, {"roles": ["bass"]}, "arranger")
        await store.update(a.id, status="delivering", stage="committed", pending_files=[])
        await store.close()
        async with running(load_config(data_dir=str(tmp_path / "data"), env={})) as svc:
            ja = await svc.job(a.id)
            assert ja["status"] == "done" and ja["delivery"]["recovered"] is True
            assert "they are there" in ja["delivery"]["note"]

    run(go())
