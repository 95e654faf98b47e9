"""The job lifecycle, in one place: queue -> run (in the worker process) -> deliver -> finish, and
recovery after a crash.

A job is ``pending`` until the worker takes it, ``running`` while it generates, ``delivering`` while its
stems go into the session, and always ends ``done``, ``failed`` or ``cancelled`` — whatever raises —
with the truth about what reached the session. Delivery records the moment its commit happened (stage
``committed``), so a restart knows whether the session holds the take.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.core.config import Config
from bridge.core.delivery import WAITING_FOR_ARDOUR, Deliverer, PartialDelivery
from bridge.core.events import Event, JobProgress, JobStatus
from bridge.engines.registry import available_engines
from bridge.errors import BridgeError, InvalidInput
from bridge.jobs.store import ACTIVE, Job, JobStore
from bridge.jobs.worker import JobCancelled, Worker, job_dir

log = logging.getLogger("resonant.jobs")
COMMITTED = "committed"  # the stage a delivery reaches once the session holds the stems


def _clean_folder(folder: Path) -> None:
    from bridge.ardour import leftovers
    from bridge.ardour.files import session_lock

    try:
        if folder.is_dir() and leftovers.clean(folder, dry_run=True):
            with session_lock(folder, timeout_s=5):
                leftovers.clean(folder)
    except (BridgeError, OSError) as e:
        log.warning("could not tidy %s after the restart: %s", folder, e)


class Jobs:
    """Jobs of one daemon (or of one CLI command): the store, the worker and delivery."""

    def __init__(self, config: Config, store: JobStore, worker: Worker, publish: Callable[[Event], None]) -> None:
        self.config = config
        self.store = store
        self.worker = worker
        self.publish = publish
        self.tasks: set[asyncio.Task] = set()
        self._last_progress: dict[str, float] = {}
        self.stopping = False
        worker.on_progress = self._on_progress
        worker.on_start = self._on_start
        self.delivery = Deliverer(config.ack_timeout_s, on_stage=self._delivery_stage)

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # -- recovery --------------------------------------------------------------------------------

    async def recover(self) -> list[str]:
        """End what a previous process left active, with the truth: a delivery that had committed
        (or whose files the session names, or that Ardour acknowledged) is done; anything else failed,
        and what a cut-off delivery left in the session (placed files never registered, temp files,
        a drop still waiting in the inbox) is removed."""
        now = time.time()
        ended = []
        folders: set[Path] = set()
        for job in await self.store.stale():
            if job.session:
                folders.add(Path(job.session).parent)
            if job.status == "delivering" and job.stage == WAITING_FOR_ARDOUR:
                await self._recover_from_inbox(job, now)
                ended.append(job.id)
                continue
            reached = job.status == "delivering" and self._reached_session(job)
            if reached:
                await self.store.update(job.id, status="done", finished=now, progress=1.0, error=None, delivery={
                    "method": "session", "recovered": True, "files": job.pending_files,
                    "note": "the daemon stopped after the stems were written into the session; they are there"})
            else:
                self._remove_unregistered(job)
                reason = {"pending": "the daemon stopped before the job started",
                          "running": "the daemon stopped while the job was running",
                          "delivering": "the daemon stopped while delivering, before the session was changed;"
                                        " nothing was written to it"}[job.status]
                await self.store.update(job.id, status="failed", error=reason, finished=now)
            ended.append(job.id)
        for folder in folders:
            await asyncio.to_thread(_clean_folder, folder)
        return ended

    async def _recover_from_inbox(self, job: Job, now: float) -> None:
        """A drop posted to Ardour's hook when the daemon stopped: what Ardour answered, if it did."""
        from bridge.ardour.live import inbox

        folder = Path(job.session).parent
        ack = await asyncio.to_thread(inbox.read_ack, folder, job.id)
        if ack is not None and ack["status"] == "ok":
            tracks = [{"track": p.get("track"), "take": p.get("take")} for _, p in sorted(ack["placed"].items())]
            await self.store.update(job.id, status="done", finished=now, progress=1.0, error=None, stage=COMMITTED,
                                    delivery={"method": "ardour", "recovered": True, "tracks": tracks,
                                              "note": "Ardour imported the stems while the daemon was stopped"})
            await asyncio.to_thread(inbox.withdraw, folder, job.id)
        elif ack is not None and ack["status"] == "partial":
            tracks = [{"track": p.get("track"), "take": p.get("take")} for _, p in sorted(ack["placed"].items())]
            await self.store.update(job.id, status="failed", finished=now, stage="partial", delivery={
                "method": "ardour", "partial": True, "recovered": True, "tracks": tracks},
                error=f"Ardour imported only part of the stems ({ack['detail'] or 'no reason given'})")
            await asyncio.to_thread(inbox.withdraw, folder, job.id, True)
        else:
            # withdrawn, so that Ardour does not import a take nobody is waiting for any more
            await asyncio.to_thread(inbox.withdraw, folder, job.id)
            why = ack["detail"] if ack else "Ardour had not imported them yet"
            await self.store.update(job.id, status="failed", finished=now, error=(
                f"the daemon stopped while Ardour was importing the stems ({why}); they were withdrawn and"
                " nothing was added to the session"))

    @staticmethod
    def _session_text(job: Job) -> str:
        try:
            p = Path(job.session)
            return p.read_text(errors="replace") if p.is_file() else ""
        except OSError:
            return ""

    def _reached_session(self, job: Job) -> bool:
        if job.stage == COMMITTED:
            return True
        text = self._session_text(job) if job.session else ""
        return bool(job.pending_files) and all(Path(f).name in text for f in job.pending_files)

    def _remove_unregistered(self, job: Job) -> None:
        if not (job.pending_files and job.session):
            return
        text = self._session_text(job)
        for f in job.pending_files:
            p = Path(f)
            if p.is_file() and p.name not in text:
                p.unlink()
                log.warning("removed %s, left by job %s's interrupted delivery", p, job.id)

    # -- events ----------------------------------------------------------------------------------

    def _on_progress(self, job_id: str, fraction: float, stage: str) -> None:
        self._last_progress[job_id] = fraction
        self.publish(JobProgress(job_id, round(fraction, 4), stage))
        self._spawn(self.store.update(job_id, progress=fraction, stage=stage))

    def _on_start(self, job_id: str) -> None:
        """The worker took the job: only now is it running."""

        async def started() -> None:
            if await self.store.transition(job_id, ("pending",), "running", started=time.time()):
                self.publish(JobStatus(job_id, "running"))

        self._spawn(started())

    # -- queue -----------------------------------------------------------------------------------

    @staticmethod
    def check_engine(req: dict) -> None:
        if req["engine"] not in available_engines():
            raise InvalidInput(f"unknown engine {req['engine']!r}; available: {', '.join(available_engines())}")

    async def queue(self, kind: str, session: str | None, track: str | None, req: dict,
                    regen: dict | None = None) -> dict:
        self.check_engine(req)
        job = await self.store.create(kind, session, track, req, req["engine"])
        spec = {"session": session, "request": req, "regenerate": regen,
                "roots": [str(r) for r in self.config.session_roots],
                "out_dir": str(job_dir(self.config.data_dir, job.id))}
        try:
            future = self.worker.submit(job.id, spec)
        except BridgeError:
            # refused before it was ever queued: not a job of the history
            await self.store.delete(job.id)
            raise
        self._spawn(self._run(job, future))
        self.publish(JobStatus(job.id, "pending"))
        return (await self.store.get(job.id)).to_dict()

    async def _run(self, job: Job, future: asyncio.Future) -> None:
        try:
            try:
                stems = await future
            except JobCancelled:
                why = "the daemon was stopped" if self.stopping else "cancelled by request"
                await self._finish(job.id, "cancelled", error=why)
                return
            except BridgeError as e:
                await self._finish(job.id, "failed", error=f"[{e.code}] {e.message}")
                return
            await self.store.transition(job.id, ("pending",), "running", started=time.time())
            await self.store.update(job.id, stems=stems)
            if job.session is None:
                await self._finish(job.id, "done", delivery={"method": "files", "folder": str(
                    job_dir(self.config.data_dir, job.id)), "note": "files only: no session was given, so nothing"
                                                                    " was added to one"})
                return
            try:
                delivery = await self.delivery.deliver(job, stems)
            except PartialDelivery as e:  # some stems are in the session: the job says which
                await self._finish(job.id, "failed", error=f"delivery: [{e.code}] {e.message}", stage="partial",
                                   delivery={"method": "ardour", "partial": True, "tracks": e.placed})
                return
            except BridgeError as e:
                await self._finish(job.id, "failed", error=f"delivery: [{e.code}] {e.message}"
                                   + await self._what_reached(job))
                return
            await self._finish(job.id, "done", delivery=delivery)
        except Exception as e:  # the worker died, or something unforeseen: the job still ends, truthfully
            log.exception("job %s", job.id)
            await self._finish(job.id, "failed", error=f"{type(e).__name__}: {e}" + await self._what_reached(job))

    async def _what_reached(self, job: Job) -> str:
        """The truth about the session after a failure, for the job's error."""
        try:
            current = await self.store.get(job.id)
        except BridgeError:
            return ""
        if current.stage == COMMITTED:
            return " (the stems were written into the session before this happened: they are there)"
        if current.status == "delivering":
            return " (nothing was written to the session)"
        return ""

    async def _finish(self, job_id: str, status: str, **changes: Any) -> None:
        progress = 1.0 if status == "done" else self._last_progress.get(job_id, 0.0)
        moved = await self.store.transition(job_id, ACTIVE, status, finished=time.time(), progress=progress,
                                            **changes)
        self._last_progress.pop(job_id, None)
        if moved:  # the event says what the store now holds, at once
            self.publish(JobStatus(job_id, status, changes.get("stage", ""), changes.get("error"),
                                   changes.get("delivery")))
            return
        job = await self.store.get(job_id)  # it had ended already (a cancel raced it): say how
        self.publish(JobStatus(job_id, job.status, job.stage, job.error, job.delivery))

    async def _delivery_stage(self, job_id: str, stage: str, files: list[str]) -> None:
        # files the delivery is about to place in the session: a restart removes them if the session
        # never got to reference them; "committed" says the session holds them
        changes: dict[str, Any] = {"stage": stage}
        if stage != COMMITTED:
            changes["pending_files"] = files
        await self.store.transition(job_id, ("pending", "running", "delivering"), "delivering", **changes)
        self.publish(JobStatus(job_id, "delivering", stage))

    # -- queries and control ---------------------------------------------------------------------

    def acknowledge(self, job_id: str) -> bool:
        return self.delivery.acknowledge(job_id)

    async def job(self, job_id: str) -> dict:
        return (await self.store.get(job_id)).to_dict()

    async def jobs(self, session: str | None, status: str | None, limit: int) -> list[dict]:
        return [j.to_dict() for j in await self.store.list(session, status, limit)]

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

    async def stop(self, grace_s: float = 15.0) -> None:
        """A delivery in progress finishes (it is short and all-or-nothing); running and pending jobs
        are cancelled and recorded as such."""
        self.stopping = True

        async def writing() -> list[str]:  # a wait for Ardour's acknowledgement is not worth waiting for
            return [j.id for j in await self.store.list(status="delivering") if j.id not in self.delivery.waiting]

        deadline = time.monotonic() + grace_s
        while await writing() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await self.worker.stop()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=max(0.1, deadline - time.monotonic()))
        for t in list(self.tasks):
            t.cancel()
