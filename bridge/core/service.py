"""``BridgeService``: the one application API. OSC, MCP and the CLI only translate to these calls.

Sessions are opened by path (inside the configured roots), described, and changed (roles and
locks); generation and regeneration become jobs that a worker process runs while the caller gets
the job id at once; finished stems are delivered into the session by this process only. Every
change of a job is published to subscribers (progress for OSC and MCP clients).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.ardour import SessionEditor, read_session
from bridge.ardour.live import overlay
from bridge.ardour.model import Session
from bridge.ardour.paths import check_inside
from bridge.ardour.reader import find_session_file
from bridge.core.config import Config
from bridge.core.delivery import Deliverer, is_open_in_ardour
from bridge.engines.context import check_bars
from bridge.engines.registry import available_engines
from bridge.errors import BridgeError, InvalidInput
from bridge.jobs.generation import request_from
from bridge.jobs.store import ACTIVE, Job, JobStore
from bridge.jobs.worker import JobCancelled, Worker, job_dir
from bridge.roles import GENERATED as GEN_ROLES
from bridge.roles import ROLES

log = logging.getLogger("resonant.service")

Listener = Callable[[dict[str, Any]], None]


class BridgeService:
    def __init__(self, config: Config, store: JobStore, worker: Worker) -> None:
        self.config = config
        self.store = store
        self.worker = worker
        self.listeners: list[Listener] = []
        self._tasks: set[asyncio.Task] = set()
        self._last_progress: dict[str, float] = {}
        self._stopping = False
        worker.on_progress = self._on_progress
        from bridge.ardour.live.watcher import SessionWatcher

        self.watcher = SessionWatcher()
        self.watcher.subscribe(self._publish)
        self.delivery = Deliverer(config.ack_timeout_s, on_stage=self._delivery_stage)

    # -- lifecycle -------------------------------------------------------------------------------

    @classmethod
    async def start(cls, config: Config) -> BridgeService:
        store = await JobStore(config.data_dir / "jobs.sqlite3").open()
        worker = Worker("cpu", config.queue_size, config.engine_env())
        service = cls(config, store, worker)
        await service.recover()
        worker.start()
        return service

    async def recover(self) -> list[str]:
        """Fail what a previous daemon left active; remove files a cut-off delivery placed in a
        session but never registered in its XML."""
        stale = await self.store.recover()
        for job in stale:
            if job.pending_files and job.session:
                try:
                    text = Path(job.session).read_text(errors="replace") if Path(job.session).is_file() else ""
                except OSError:
                    text = ""
                for f in job.pending_files:
                    p = Path(f)
                    if p.is_file() and p.name not in text:
                        p.unlink()
                        log.warning("removed %s, left by job %s's interrupted delivery", p, job.id)
        return [j.id for j in stale]

    async def stop(self, grace_s: float = 15.0) -> None:
        """Stop cleanly: a delivery in progress finishes (it is short and all-or-nothing), running
        and pending jobs are cancelled and recorded as such, then the worker and the store close."""
        self._stopping = True

        async def writing() -> list[str]:  # a wait for Ardour's acknowledgement is not worth waiting for
            return [j.id for j in await self.store.list(status="delivering") if j.id not in self.delivery.waiting]

        delivering = await writing()
        deadline = time.monotonic() + grace_s
        while delivering and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            delivering = await writing()
        await self.watcher.stop()
        await self.worker.stop()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=max(0.1, deadline - time.monotonic()))
        for t in list(self._tasks):
            t.cancel()
        await self.store.close()

    # -- events ----------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def _publish(self, event: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("event listener failed")

    def _on_progress(self, job_id: str, fraction: float, stage: str) -> None:
        self._last_progress[job_id] = fraction
        self._publish({"event": "progress", "job": job_id, "progress": round(fraction, 4), "stage": stage})
        task = asyncio.ensure_future(self.store.update(job_id, progress=fraction, stage=stage))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- sessions --------------------------------------------------------------------------------

    def session_file(self, path: str) -> Path:
        if not isinstance(path, str) or not path or "\x00" in path:
            raise InvalidInput("a session path must be a non-empty string")
        file = find_session_file(Path(path).expanduser())
        return check_inside(file, self.config.session_roots)

    def open_session(self, path: str) -> Session:
        return read_session(self.session_file(path))

    async def describe_session(self, path: str) -> dict[str, Any]:
        s = await asyncio.to_thread(self.open_session, path)
        d = s.to_dict()
        d["locked"] = [t.name for t in s.locked_tracks()]
        return d

    async def watch_session(self, path: str) -> dict[str, Any]:
        """Reload the session whenever it is saved (by Ardour or anyone) and tell subscribers
        what changed (``session_changed`` events)."""
        s = await self.watcher.watch(self.session_file(path))
        return {"session": str(s.file), "watching": True}

    async def set_tracks(self, path: str, tracks: list[str], role: str | None = None,
                         locked: bool | None = None) -> dict[str, Any]:
        if not tracks or not all(isinstance(t, str) for t in tracks):
            raise InvalidInput("name at least one track")
        if role is not None and role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}")

        def edit() -> dict[str, Any]:
            s = self.open_session(path)
            targets = [s.track(name) for name in tracks]
            if is_open_in_ardour(s.file):
                # Ardour would overwrite the XML on its next save: keep the change beside it
                overlay.set_entries(s.folder, {t.id: {**({"role": role} if role is not None else {}),
                                                      **({"locked": locked} if locked is not None else {})}
                                               for t in targets})
            else:
                ed = SessionEditor(s, allow_missing_sources=True)
                for t in targets:
                    ed.set_role(t.name, role=role, locked=locked)  # folds in what the overlay held
                ed.commit()
            s2 = read_session(s.file)
            names = {t.name for t in targets}
            return {"tracks": [{"name": t.name, "role": t.role, "locked": t.locked}
                               for t in s2.tracks if t.name in names]}

        return await asyncio.to_thread(edit)

    async def toggle_lock(self, path: str, track: str) -> dict[str, Any]:
        """Lock the track if it is unlocked, else unlock it (the Ardour action button's call)."""
        s = await asyncio.to_thread(self.open_session, path)
        t = s.track(track)
        return await self.set_tracks(path, [t.name], locked=not t.locked)

    async def takes(self, path: str, track: str) -> dict[str, Any]:
        """The takes (playlists) of a track, oldest first, and which one plays."""
        s = await asyncio.to_thread(self.open_session, path)
        t = s.track(track)
        return {"track": t.name, "active": s.playlist_of(t).name if s.playlist_of(t) else None,
                "takes": [{"name": p.name, "id": p.id, "regions": len(p.regions), "active": p.id == t.playlist_id}
                          for p in s.takes_of(t)]}

    async def choose_take(self, path: str, track: str, take: str) -> dict[str, Any]:
        def edit() -> None:
            s = self.open_session(path)
            ed = SessionEditor(s, allow_missing_sources=True)
            ed.use_take(s.track(track).name, take)
            ed.commit()

        await asyncio.to_thread(edit)
        return await self.takes(path, track)

    async def preview(self, path: str, tracks: list[str] | None = None,
                      bars: tuple[int, int] | None = None) -> dict[str, Any]:
        """A stereo mixdown of the session (or some tracks, some bars) as Ardour would play it,
        written as a WAV in the data folder."""

        def render() -> dict[str, Any]:
            import uuid

            import soundfile as sf

            from bridge.audio.analysis import bar_range
            from bridge.audio.features import integrated_loudness
            from bridge.audio.mixdown import render as mix

            s = self.open_session(path)
            chosen = [s.track(n) for n in tracks] if tracks else None
            start = end = None
            if bars is not None:
                start, end, _, _ = bar_range(s, bars)
            audio = mix(s, chosen, start, end)
            out = self.config.data_dir / "previews" / f"{s.snapshot}-{uuid.uuid4().hex[:8]}.wav"
            out.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(out), audio, s.sample_rate, subtype="PCM_24")
            lufs = integrated_loudness(audio, s.sample_rate)
            return {"wav": str(out), "seconds": round(len(audio) / s.sample_rate, 3),
                    "sample_rate": s.sample_rate, "loudness_lufs": round(lufs, 2) if lufs is not None else None,
                    "tracks": [t.name for t in (chosen or s.tracks) if t.kind == "audio"]}

        return await asyncio.to_thread(render)

    async def analysis(self, path: str, bars: tuple[int, int] | None = None) -> dict[str, Any]:
        """Key, chords, tempo check and groove of the locked tracks (all tracks when none is locked)."""
        from bridge.audio.analysis import analyze

        def run() -> dict[str, Any]:
            s = self.open_session(path)
            return analyze(s, None, bars).to_dict()

        return await asyncio.to_thread(run)

    # -- Ardour ----------------------------------------------------------------------------------

    async def ardour_strips(self) -> dict[str, Any]:
        """What a running Ardour sees, asked over its own OSC surface (config ardour_osc_*)."""
        from bridge.ardour.live.client import ArdourOsc

        def ask() -> dict[str, Any]:
            with ArdourOsc(self.config.ardour_osc_host, self.config.ardour_osc_port) as a:
                strips, info = a.strip_list()
            return {"strips": [vars(st) for st in strips], **info}

        return await asyncio.to_thread(ask)

    async def ardour_save(self) -> None:
        """Ask a running Ardour to save its session (/save_state)."""
        from bridge.ardour.live.client import ArdourOsc

        def send() -> None:
            with ArdourOsc(self.config.ardour_osc_host, self.config.ardour_osc_port) as a:
                a.save_state()

        await asyncio.to_thread(send)

    # -- jobs ------------------------------------------------------------------------------------

    async def generate(self, session: str | None, roles: list[str], *, bars: int = 8, first_bar: int = 1,
                       prompt: str = "", seed: int = 0, engine: str | None = None, extend: bool = False,
                       **controls: Any) -> dict:
        """Queue a generation; returns the job at once (pending). Bars past the song's end need ``extend``."""
        file = str(self.session_file(session)) if session else None
        req = {"roles": list(roles) if isinstance(roles, list | tuple) else roles, "bars": bars,
               "first_bar": first_bar, "prompt": prompt, "seed": seed,
               "engine": engine or self.config.default_engine, **controls}
        r = request_from(req).validate()  # bad values are the caller's error now, not the worker's later
        self._check_engine(req)
        if file:
            s = await asyncio.to_thread(read_session, file)
            check_bars(s, r.first_bar, r.last_bar, bool(extend))
        return await self._queue("generate", file, None, req)

    async def regenerate(self, session: str, track: str, *, bars: tuple[int, int] | None = None,
                         prompt: str = "", seed: int = 0, loyalty: float = 0.5, engine: str | None = None,
                         extend: bool = False, **controls: Any) -> dict:
        """A new take for one (unlocked) track, optionally only for bars A-B of it."""
        file = self.session_file(session)
        s = await asyncio.to_thread(read_session, file)
        t = s.track(track)
        if t.locked:
            raise InvalidInput(f"track {t.name!r} is locked; unlock it to regenerate it")
        if t.kind != "audio":
            raise InvalidInput(f"track {t.name!r} is a MIDI track; the bridge regenerates audio tracks")
        role = t.role if t.role in GEN_ROLES else None
        if role is None:
            raise InvalidInput(f"track {t.name!r} has role {t.role!r}; give it one of {', '.join(GEN_ROLES)}")
        req = {"roles": [role], "prompt": prompt, "seed": seed, "loyalty": loyalty,
               "engine": engine or self.config.default_engine, **controls}
        if bars is not None:
            a, b = bars
            if not (isinstance(a, int) and isinstance(b, int)) or a < 1 or b < a:
                raise InvalidInput("bars: give A-B with 1 <= A <= B")
            req.update(first_bar=a, bars=b - a + 1)
            self._check_engine(req)
            check_bars(s, a, b, bool(extend))
        request_from(req).validate()
        return await self._queue("regenerate", str(file), t.name, req, regen={"track": t.name,
                                                                                 "bars": bars is not None})

    @staticmethod
    def _check_engine(req: dict) -> None:
        if req["engine"] not in available_engines():
            raise InvalidInput(f"unknown engine {req['engine']!r}; available: {', '.join(available_engines())}")

    async def _queue(self, kind: str, session: str | None, track: str | None, req: dict,
                     regen: dict | None = None) -> dict:
        self._check_engine(req)
        job = await self.store.create(kind, session, track, req, req["engine"])
        spec = {"session": session, "request": req, "regenerate": regen,
                "out_dir": str(job_dir(self.config.data_dir, job.id))}
        try:
            future = self.worker.submit(job.id, spec)
        except BridgeError as e:
            await self.store.update(job.id, status="failed", error=e.message, finished=time.time())
            raise
        task = asyncio.ensure_future(self._run(job, future))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._publish({"event": "status", "job": job.id, "status": "pending"})
        return (await self.store.get(job.id)).to_dict()

    async def _run(self, job: Job, future: asyncio.Future) -> None:
        await self.store.transition(job.id, ("pending",), "running", started=time.time())
        self._publish({"event": "status", "job": job.id, "status": "running"})
        try:
            stems = await future
        except JobCancelled:
            why = "the daemon was stopped" if self._stopping else "cancelled by request"
            await self._finish(job.id, "cancelled", error=why)
            return
        except BridgeError as e:
            await self._finish(job.id, "failed", error=f"[{e.code}] {e.message}")
            return
        except Exception as e:  # the worker died, or something we did not foresee
            await self._finish(job.id, "failed", error=f"{type(e).__name__}: {e}")
            return
        await self.store.update(job.id, stems=stems)
        if job.session is None:
            await self._finish(job.id, "done", delivery={"method": "files", "folder": str(
                job_dir(self.config.data_dir, job.id))})
            return
        try:
            delivery = await self._deliver(job, stems)
        except BridgeError as e:
            await self._finish(job.id, "failed", error=f"delivery: [{e.code}] {e.message}")
            return
        await self._finish(job.id, "done", delivery=delivery)

    async def _finish(self, job_id: str, status: str, **changes: Any) -> None:
        await self.store.transition(job_id, ACTIVE, status, finished=time.time(),
                                    progress=1.0 if status == "done" else self._last_progress.get(job_id, 0.0),
                                    **changes)
        self._last_progress.pop(job_id, None)
        job = await self.store.get(job_id)
        self._publish({"event": "status", "job": job_id, "status": job.status, "error": job.error,
                       "delivery": job.delivery})

    async def _deliver(self, job: Job, stems: list[dict]) -> dict:
        return await self.delivery.deliver(job, stems)

    async def _delivery_stage(self, job_id: str, stage: str, files: list[str]) -> None:
        # files the delivery is about to place in the session: a restart removes them if the
        # session never got to reference them (see recover)
        await self.store.transition(job_id, ("running", "delivering"), "delivering", pending_files=files,
                                    stage=stage)
        self._publish({"event": "status", "job": job_id, "status": "delivering", "stage": stage})

    def acknowledge(self, job_id: str, status: str = "ok", detail: str = "") -> bool:
        """Ardour's hook says it imported (or could not import) a drop; see bridge.hotdrop."""
        log.info("ack from Ardour for %s: %s %s", job_id, status, detail)
        return self.delivery.acknowledge(job_id)

    async def job(self, job_id: str) -> dict:
        return (await self.store.get(job_id)).to_dict()

    async def jobs(self, session: str | None = None, status: str | None = None, limit: int = 50) -> list[dict]:
        file = str(self.session_file(session)) if session else None
        return [j.to_dict() for j in await self.store.list(file, status, limit)]

    async def cancel(self, job_id: str) -> dict:
        job = await self.store.get(job_id)
        if job.status not in ("pending", "running"):
            raise InvalidInput(f"job {job_id} is {job.status}; only pending or running jobs can be cancelled")
        if not self.worker.cancel(job_id):
            raise InvalidInput(f"job {job_id} is no longer waiting or running")
        for _ in range(100):
            job = await self.store.get(job_id)
            if job.status not in ACTIVE:
                break
            await asyncio.sleep(0.01)
        return job.to_dict()
