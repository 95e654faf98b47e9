"""Generation in a worker process, so the daemon's event loop (OSC, MCP) never waits on it.

One persistent process per device keeps its engines loaded between jobs and runs one job at a
time; the parent keeps a bounded queue of pending jobs (a full queue is an error to the caller,
never a hang). Progress comes back through a pipe and is handed to the event loop. Cancelling a
running job terminates the process and starts a fresh one: the work really stops.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import multiprocessing as mp
import os
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.jobs.store import QueueFull

log = logging.getLogger("resonant.worker")
BROKEN_RETRY_S = 30.0


class JobCancelled(Exception):
    pass


class WorkerDied(Exception):
    pass


@dataclass
class Task:
    job_id: str
    spec: dict[str, Any]  # session path, request, previous takes, out dir
    future: asyncio.Future = field(repr=False)


def _child(in_q: mp.Queue, out_q: mp.Queue, env: dict[str, str], parent: int) -> None:
    """The worker process: run tasks until told to stop. ``parent`` is the daemon's pid, passed in:
    read here it could already be init's, had the daemon died while this process started."""
    import queue
    import signal

    if os.getppid() != parent:  # the daemon was killed before we were running
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the daemon decides when we stop
    os.umask(0o077)  # the stems of a job are the user's only, like the rest of the data folder
    os.environ.update(env)  # the engine settings from the daemon's config
    while True:
        try:
            msg = in_q.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:  # the daemon died (even by SIGKILL): do not outlive it
                return
            continue
        if msg is None:
            return
        job_id, spec = msg
        try:
            from bridge.jobs.generation import run_generation

            def progress(fraction: float, stage: str, _id: str = job_id) -> None:
                if os.getppid() != parent:  # the daemon is gone: nobody will use this work
                    os._exit(0)
                out_q.put(("progress", _id, float(fraction), str(stage)))

            result = run_generation(spec, progress)
            out_q.put(("done", job_id, result))
        except Exception as e:  # every failure goes back to the daemon as data
            code = getattr(e, "code", "internal_error")
            message = getattr(e, "message", None) or f"{type(e).__name__}: {e}"
            if code == "internal_error":
                message += "\n" + traceback.format_exc(limit=6)
            out_q.put(("error", job_id, code, message))


class Worker:
    """One device's worker process and its bounded queue."""

    def __init__(self, device: str = "cpu", queue_size: int = 8, env: dict[str, str] | None = None) -> None:
        self.device = device
        self.env = dict(env or {})
        self.queue_size = queue_size
        self.ctx = mp.get_context("spawn")
        self.pending: collections.deque[Task] = collections.deque()
        self.current: Task | None = None
        self.proc: mp.Process | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.on_progress = None  # callable(job_id, fraction, stage)
        self.on_start = None  # callable(job_id): the process took the job (until then it is pending)
        self._stopping = False
        self._generation = 0
        self._quick_deaths = 0  # deaths right after a start: a worker that cannot even start
        self._started_at = 0.0
        self.broken: str | None = None
        self.broken_until = 0.0  # a worker that cannot start is tried again after this (monotonic)

    # -- process ---------------------------------------------------------------------------------

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._spawn()

    def _spawn(self) -> None:
        import time

        self._started_at = time.monotonic()
        self._generation += 1
        # marks the worker as ours (tools and tests find a daemon's workers by it)
        os.environ["RESONANT_DAEMON_PID"] = str(os.getpid())
        self.in_q, self.out_q = self.ctx.Queue(), self.ctx.Queue()
        self.proc = self.ctx.Process(target=_child, args=(self.in_q, self.out_q, self.env, os.getpid()),
                                     name=f"resonant-{self.device}", daemon=True)
        self.proc.start()
        threading.Thread(target=self._reader, args=(self.out_q, self.proc, self._generation), daemon=True,
                         name=f"resonant-{self.device}-reader").start()
        log.info("worker %s started (pid %s)", self.device, self.proc.pid)

    def _reader(self, out_q: mp.Queue, proc: mp.Process, generation: int) -> None:
        while True:
            try:
                msg = out_q.get(timeout=0.2)
            except Exception:  # queue.Empty, or the pipe broke with the process
                if not proc.is_alive():
                    with contextlib.suppress(RuntimeError):
                        self.loop.call_soon_threadsafe(self._died, generation, proc.exitcode)
                    return
                continue
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing left to tell
                self.loop.call_soon_threadsafe(self._event, generation, msg)

    def _event(self, generation: int, msg: tuple) -> None:
        if generation != self._generation or self.current is None:
            return
        kind, job_id = msg[0], msg[1]
        if job_id != self.current.job_id:
            return
        if kind == "progress":
            if self.on_progress:
                self.on_progress(job_id, msg[2], msg[3])
            return
        task, self.current = self.current, None
        if not task.future.done():
            if kind == "done":
                task.future.set_result(msg[2])
            else:
                from bridge.errors import BridgeError

                err = BridgeError(msg[3])
                err.code = msg[2]
                task.future.set_exception(err)
        self._next()

    def _died(self, generation: int, exitcode: int | None) -> None:
        if generation != self._generation or self._stopping:
            return
        import time

        log.error("worker %s died (exit code %s)", self.device, exitcode)
        task, self.current = self.current, None
        if task is not None and not task.future.done():
            task.future.set_exception(WorkerDied(f"the worker process died (exit code {exitcode}) while running"))
        self._quick_deaths = self._quick_deaths + 1 if time.monotonic() - self._started_at < 5 else 0
        if self._quick_deaths >= 3:
            # do not spin: report it to every caller, and try again after a while (a missing library
            # installed meanwhile, memory freed) instead of staying broken until the daemon restarts
            self.broken = (f"the {self.device} worker process cannot start (exit code {exitcode}); see the daemon"
                           f" log; it is tried again in {BROKEN_RETRY_S:g} s")
            self.broken_until = time.monotonic() + BROKEN_RETRY_S
            for t in self.pending:
                if not t.future.done():
                    t.future.set_exception(WorkerDied(self.broken))
            self.pending.clear()
            return
        self._spawn()
        self._next()

    # -- queue -----------------------------------------------------------------------------------

    def submit(self, job_id: str, spec: dict[str, Any]) -> asyncio.Future:
        if self.broken:
            import time

            if time.monotonic() < self.broken_until:
                from bridge.audio.synth import EngineUnavailable

                raise EngineUnavailable(self.broken)
            self.broken, self._quick_deaths = None, 0
            self._spawn()
        if len(self.pending) >= self.queue_size:
            raise QueueFull(f"the {self.device} queue is full ({self.queue_size} jobs waiting); try again later")
        task = Task(job_id, spec, self.loop.create_future())
        self.pending.append(task)
        self._next()
        return task.future

    def _next(self) -> None:
        if self.current is not None or not self.pending or self._stopping:
            return
        self.current = self.pending.popleft()
        self.in_q.put((self.current.job_id, self.current.spec))
        if self.on_start is not None:
            self.on_start(self.current.job_id)

    def cancel(self, job_id: str) -> bool:
        for task in list(self.pending):
            if task.job_id == job_id:
                self.pending.remove(task)
                task.future.set_exception(JobCancelled(job_id))
                return True
        if self.current is not None and self.current.job_id == job_id:
            task, self.current = self.current, None
            self._kill()
            task.future.set_exception(JobCancelled(job_id))
            self._spawn()
            self._next()
            return True
        return False

    def _kill(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self._generation += 1  # events from the old process are ignored from now on
            self.proc.terminate()
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(5)

    def busy(self) -> bool:
        return self.current is not None or bool(self.pending)

    async def stop(self) -> None:
        self._stopping = True
        for task in [*self.pending, *([self.current] if self.current else [])]:
            if not task.future.done():
                task.future.set_exception(JobCancelled(task.job_id))
        self.pending.clear()
        self.current = None
        if self.proc is not None and self.proc.is_alive():
            self.in_q.put(None)
            await asyncio.get_running_loop().run_in_executor(None, self.proc.join, 3)
            self._kill()


def job_dir(data_dir: Path, job_id: str) -> Path:
    return data_dir / "jobs" / job_id
