"""``BridgeService``: the one application API. OSC, MCP and the CLI only translate to these calls.

A thin front over one part per concern: ``Sessions`` (reading and changing sessions inside the
configured roots), ``Jobs`` (generation as jobs: queue, worker, delivery, recovery), the watcher
(sessions saved by Ardour), and Ardour's own OSC surface. Every change is published to subscribers
as a typed event (``bridge.core.events``). The daemon starts it with its job store and worker; a CLI
command starts it ``local``: the store and worker only when a job is asked for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.core.config import Config
from bridge.core.events import Event, JobStatus, SessionChanged
from bridge.core.jobs import Jobs
from bridge.core.notices import Notices, Ticket
from bridge.core.sessions import Sessions
from bridge.engines.context import check_bars
from bridge.errors import BridgeError, InvalidInput
from bridge.jobs.generation import request_from
from bridge.jobs.store import JobStore
from bridge.jobs.worker import Worker
from bridge.roles import GENERATED

log = logging.getLogger("resonant.service")

Listener = Callable[[Event], None]


class BridgeService:
    def __init__(self, config: Config, jobs: Jobs | None = None) -> None:
        self.config = config
        self.sessions = Sessions(config)
        self.listeners: list[Listener] = []
        self._jobs = jobs
        self._reply: str | None = None
        self._watcher = None  # made on the first watch: each one holds an inotify instance
        self.notices = Notices()  # answers for requests made inside Ardour (they carry a request id)
        self._ticker: asyncio.Future | None = None
        self.subscribe(self.notices.on_event)

    # -- lifecycle -------------------------------------------------------------------------------

    @classmethod
    async def start(cls, config: Config) -> BridgeService:
        """The daemon's service: jobs from a previous run are ended truthfully, the worker starts."""
        service = cls(config)
        await service._start_jobs()
        service._ticker = asyncio.ensure_future(service._tick_notices())
        return service

    async def _tick_notices(self) -> None:
        while True:  # Ardour's progress bars move between a job's steps (bridge/core/progress.py)
            await asyncio.sleep(0.3)
            self.notices.tick()

    @classmethod
    def local(cls, config: Config) -> BridgeService:
        """A CLI command's service: no store or worker until a job is queued."""
        return cls(config)

    async def _start_jobs(self) -> Jobs:
        if self._jobs is None:
            store = await JobStore(self.config.data_dir / "jobs.sqlite3").open()
            worker = Worker("cpu", self.config.queue_size, self.config.engine_env())
            self._jobs = Jobs(self.config, store, worker, self._publish)
            if self._reply:
                self._jobs.delivery.reply_address = lambda: self._reply
            await self._jobs.recover()
            worker.start()
        return self._jobs

    @property
    def jobs_running(self) -> Jobs | None:
        """The job machinery once it is started (the daemon's at once, a CLI command's on demand)."""
        return self._jobs

    def set_reply_address(self, address: str) -> None:
        """Where Ardour's hook sends its acknowledgements (the daemon's OSC address)."""
        self._reply = address
        if self._jobs is not None:
            self._jobs.delivery.reply_address = lambda: self._reply

    async def stop(self, grace_s: float = 15.0) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        if self._watcher is not None:
            await self._watcher.stop()
        if self._jobs is not None:
            await self._jobs.stop(grace_s)
            await self._jobs.store.close()

    # -- events ----------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def _publish(self, event: Event) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("event listener failed")

    def _session_changed(self, raw: dict[str, Any]) -> None:
        changes = {k: v for k, v in raw.items() if k not in ("event", "session")}
        self._publish(SessionChanged(raw["session"], Path(raw["session"]).stem, changes))

    # -- sessions --------------------------------------------------------------------------------

    def session_file(self, path: str) -> Path:
        return self.sessions.file(path)

    async def describe_session(self, path: str, regions: bool = True) -> dict[str, Any]:
        """The session as data; ``regions=False``: per track only how many regions (a summary)."""
        return await _trimmed(self.sessions.describe, path, regions)

    async def session_text(self, path: str) -> str:
        return await asyncio.to_thread(self.sessions.text, path)

    async def watch_session(self, path: str) -> dict[str, Any]:
        """Reload the session whenever it is saved (by Ardour or anyone) and tell subscribers what
        changed (``SessionChanged`` events)."""
        if self._watcher is None:
            from bridge.ardour.live.watcher import SessionWatcher

            self._watcher = SessionWatcher()
            self._watcher.subscribe(self._session_changed)
        s = await self._watcher.watch(self.session_file(path))
        return {"session": str(s.file), "watching": True}

    async def set_tracks(self, path: str, tracks: list[str], role: str | None = None,
                         locked: bool | None = None) -> dict[str, Any]:
        """Roles and locks: into the session file when it is closed, beside it while Ardour has it open."""
        return await asyncio.to_thread(self.sessions.set_tracks, path, tracks, role, locked)

    async def toggle_lock(self, path: str, track: str, request: str | None = None) -> dict[str, Any]:
        """Lock the track if it is unlocked, else unlock it (the Ardour action button's call).
        ``request``: the Ardour action's request id; the answer is also shown in Ardour."""
        ticket = self._ticket(path, request, f"Resonant: lock {track}")
        try:
            s = await asyncio.to_thread(self.sessions.open, path)
            t = s.track(track)
            r = await self.set_tracks(path, [t.name], locked=not t.locked)
        except BridgeError as e:
            if ticket:
                self.notices.refused(ticket, e)
            raise
        if ticket:
            done = r["tracks"][0]
            self.notices.done(ticket, f"{done['name']} is locked: new parts fit it" if done["locked"] else
                              f"{done['name']} is unlocked: it can be regenerated")
        return r

    def _ticket(self, path: str, request: str | None, title: str) -> Ticket | None:
        """A notice for a request from Ardour (None without a request id). The session is confined to the
        roots first: a notice is only ever written beside a session the daemon may use."""
        if not request:
            return None
        return self.notices.open(self.session_file(path), request, title)

    async def _noticed(self, ticket: Ticket | None, queue) -> dict:
        """Run ``queue`` (which returns a job) and follow the job in Ardour; a refusal is shown there."""
        try:
            job = await queue()
        except BridgeError as e:
            if ticket:
                self.notices.refused(ticket, e)
            raise
        if ticket:
            self.notices.follow(ticket, job)
        return job

    async def add_track(self, path: str, name: str, wav: str, **kw: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self.sessions.add_track, path, name, wav, **kw)

    async def add_take(self, path: str, track: str, wav: str, **kw: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self.sessions.add_take, path, track, wav, **kw)

    async def takes(self, path: str, track: str) -> dict[str, Any]:
        """The takes (playlists) of a track, oldest first, and which one plays."""
        return await asyncio.to_thread(self.sessions.takes, path, track)

    async def choose_take(self, path: str, track: str, take: str) -> dict[str, Any]:
        await asyncio.to_thread(self.sessions.use_take, path, track, take)
        return await self.takes(path, track)

    async def use_take(self, path: str, track: str, take: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.sessions.use_take, path, track, take)

    async def preview(self, path: str, tracks: list[str] | None = None,
                      bars: tuple[int, int] | None = None) -> dict[str, Any]:
        """A stereo mixdown of the session (or some tracks, some bars) as Ardour would play it,
        written as a WAV in the data folder."""
        return await _trimmed(self.sessions.mixdown, path, None, tracks, bars)

    async def mixdown(self, path: str, out: str, tracks: list[str] | None = None,
                      bars: tuple[int, int] | None = None, force: bool = False) -> dict[str, Any]:
        return await asyncio.to_thread(self.sessions.mixdown, path, Path(out), tracks, bars, force)

    async def analysis(self, path: str, bars: tuple[int, int] | None = None,
                       tracks: list[str] | None = None) -> dict[str, Any]:
        """Tempo, key, chords (per half bar where they move) and groove of the session's tracks."""
        return (await _trimmed(self.sessions.analysis, path, bars, tracks)).to_dict()

    async def analysis_text(self, path: str, bars: tuple[int, int] | None = None,
                            tracks: list[str] | None = None) -> str:
        from bridge.core.show import analysis_text

        return analysis_text(await asyncio.to_thread(self.sessions.analysis, path, bars, tracks))

    # -- new sessions ----------------------------------------------------------------------------

    async def new_session(self, folder: str, template: str = "band", prompt: str = "", bars: int = 8,
                          seed: int = 0, engine: str | None = None, mix_lufs: float = -16.0, force: bool = False,
                          progress=None, deliver: str | None = None) -> dict[str, Any]:
        """A new session from a template with every role generated; ``deliver``: audio tracks, MIDI tracks
        or both (default: config)."""
        from bridge.core.newsession import create

        target = Path(folder).expanduser()
        if self.config.session_roots:
            self.sessions.file_in_roots(target)
        r = await asyncio.to_thread(create, target, template, prompt, bars, seed, engine, mix_lufs, force, progress,
                                    deliver or self.config.deliver, self.config.midi_synth)
        return {"ok": True, "session": str(r.session), "tempo_bpm": r.tempo_bpm, "key": r.key, "mix_lufs": r.mix_lufs,
                "mix_true_peak_db": r.mix_true_peak_db, "tracks": r.tracks, "understood": r.understood}

    async def demo(self, folder: str | None = None) -> dict[str, Any]:
        from bridge.core.demo import run_demo

        return await asyncio.to_thread(run_demo, Path(folder) if folder else None)

    async def generate_files(self, out: str, roles: list[str], *, session: str | None = None, force: bool = False,
                             progress=None, **request: Any) -> dict[str, Any]:
        """Stems as files in ``out`` (ROLE.wav, ROLE.mid, generation.json), made here, not as a job:
        what ``resonant generate`` does."""
        from bridge.core.stems import generate_to_folder

        file = str(self.session_file(session)) if session else None
        return await asyncio.to_thread(generate_to_folder, Path(out), roles, file, force, progress, request,
                                       self.config.session_roots)

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
                       request: str | None = None, deliver: str | None = None, **controls: Any) -> dict:
        """Queue a generation; returns the job at once (pending). Bars past the song's end need ``extend``.
        ``deliver``: audio tracks, MIDI tracks (with an instrument playing them) or both (default: config).
        ``request``: the Ardour action's request id; the job's steps are also shown in Ardour."""
        names = ", ".join(roles) if isinstance(roles, list | tuple) else str(roles)
        ticket = self._ticket(session, request, f"Resonant: generate {names}") if session else None
        return await self._noticed(ticket, lambda: self._generate(session, roles, bars, first_bar, prompt, seed, engine,
                                                                  extend, {**controls, "deliver": deliver}))

    async def _generate(self, session: str | None, roles: list[str], bars: int, first_bar: int, prompt: str,
                        seed: int, engine: str | None, extend: bool, controls: dict[str, Any]) -> dict:
        file = str(self.session_file(session)) if session else None
        deliver = controls.pop("deliver", None) or self.config.deliver
        req = {"roles": list(roles) if isinstance(roles, list | tuple) else roles, "bars": bars,
               "first_bar": first_bar, "prompt": prompt, "seed": seed,
               "engine": engine or self.config.default_engine, "deliver": deliver,
               "midi_synth": self.config.midi_synth,
               **{k: v for k, v in controls.items() if v is not None}}  # unset: the style decides
        self._check_deliver(req, file)
        r = request_from(req).validate()  # bad values are the caller's error now, not the worker's later
        Jobs.check_engine(req)
        if file:
            s = await asyncio.to_thread(self.sessions.open, file)
            check_bars(s, r.first_bar, r.last_bar, bool(extend))
        return await (await self._start_jobs()).queue("generate", file, None, req)

    def _check_deliver(self, req: dict, file: str | None) -> None:
        """What a part may become, refused before any work: MIDI needs an engine that writes notes."""
        from bridge.core.placement import kinds

        deliver = req["deliver"]
        kinds(deliver)  # one of audio, midi, both
        if deliver == "audio":
            return
        if req["engine"] == "musicgen":
            raise InvalidInput("the musicgen engine makes audio only, no notes: deliver audio, or use the arranger"
                               " engine for MIDI tracks and takes")
        synth = req.get("midi_synth") or "fluidsynth"
        if file and synth != "fluidsynth":  # an instrument some Ardour plays nothing with: refused now
            from bridge.ardour.miditrack import check_synth
            from bridge.ardour.names import session_major

            check_synth(session_major(self.sessions.open(file)), synth)

    async def regenerate(self, session: str, track: str, *, bars: tuple[int, int] | str | None = None,
                         prompt: str = "", seed: int = 0, loyalty: float = 0.5, engine: str | None = None,
                         extend: bool = False, request: str | None = None, deliver: str | None = None,
                         **controls: Any) -> dict:
        """A new take for one (unlocked) track, optionally only for bars A-B of it. ``deliver``: the kinds
        of take (default: the track's own; ``both`` also gives its audio/MIDI partner track a take).
        ``request``: the Ardour action's request id; the job's steps are also shown in Ardour."""
        span = f", bars {bars}" if isinstance(bars, str) and bars else (
            f", bars {bars[0]}-{bars[1]}" if isinstance(bars, tuple) and len(bars) == 2 else "")
        ticket = self._ticket(session, request, f"Resonant: regenerate {track}{span}")
        return await self._noticed(ticket, lambda: self._regenerate(session, track, bars, prompt, seed, loyalty, engine,
                                                                    extend, {**controls, "deliver": deliver}))

    async def _regenerate(self, session: str, track: str, bars: tuple[int, int] | str | None, prompt: str, seed: int,
                          loyalty: float, engine: str | None, extend: bool, controls: dict[str, Any]) -> dict:
        if isinstance(bars, str) or bars is None:  # "A-B" as typed (in Ardour's dialog, say): "" = the whole take
            from bridge.core.show import parse_bar_range

            bars = parse_bar_range(bars)
        file = self.session_file(session)
        s = await asyncio.to_thread(self.sessions.open, str(file))
        t = s.track(track)
        if t.locked:
            raise InvalidInput(f"track {t.name!r} is locked; unlock it to regenerate it")
        role = t.role if t.role in GENERATED else None
        if role is None:
            raise InvalidInput(f"track {t.name!r} has role {t.role!r}; give it one of {', '.join(GENERATED)}")
        deliver = controls.pop("deliver", None) or ("midi" if t.kind == "midi" else "audio")
        req = {"roles": [role], "prompt": prompt, "seed": seed, "loyalty": loyalty,
               "engine": engine or self.config.default_engine, "deliver": deliver,
               "midi_synth": self.config.midi_synth,
               **{k: v for k, v in controls.items() if v is not None}}  # unset: the style decides
        self._check_deliver(req, str(file))
        if bars is not None:
            a, b = bars
            if not (isinstance(a, int) and isinstance(b, int)) or a < 1 or b < a:
                raise InvalidInput("bars: give A-B with 1 <= A <= B")
            req.update(first_bar=a, bars=b - a + 1)
            Jobs.check_engine(req)
            check_bars(s, a, b, bool(extend))
        request_from(req).validate()
        return await (await self._start_jobs()).queue("regenerate", str(file), t.name, req,
                                                      regen={"track": t.name, "bars": bars is not None})

    def acknowledge(self, job_id: str, status: str = "ok", detail: str = "") -> bool:
        """Ardour's hook says it imported (or could not import) a drop; see bridge.core.delivery."""
        log.info("ack from Ardour for %s: %s %s", job_id, status, detail)
        return self._jobs.acknowledge(job_id) if self._jobs is not None else False

    async def job(self, job_id: str) -> dict:
        return await (await self._start_jobs()).job(job_id)

    async def jobs(self, session: str | None = None, status: str | None = None, limit: int = 50) -> list[dict]:
        file = str(self.session_file(session)) if session else None
        return await (await self._start_jobs()).jobs(file, status, limit)

    async def cancel(self, job_id: str) -> dict:
        return await (await self._start_jobs()).cancel(job_id)

    async def wait(self, job_id: str, timeout: float | None = None) -> dict:
        """The job once it has ended (or as it is when ``timeout`` passes)."""
        done = asyncio.Event()

        def listen(event: Event) -> None:
            if isinstance(event, JobStatus) and event.job == job_id and event.final:
                done.set()

        self.subscribe(listen)
        try:
            loop = asyncio.get_running_loop()
            deadline = None if timeout is None else loop.time() + timeout
            while (job := await self.job(job_id))["status"] not in ("done", "failed", "cancelled"):
                left = 0.5 if deadline is None else min(0.5, deadline - loop.time())
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(done.wait(), left)
                except TimeoutError:
                    pass
            return job
        finally:
            self.unsubscribe(listen)


_libc = None


async def _trimmed(fn, *args: Any) -> Any:
    """Run a read of a session in a thread, then give the memory it used back to the system: a big
    session's tree and objects are freed in small pieces that malloc keeps otherwise (a daemon that
    once read 90,000 regions stayed at 880 MB)."""
    global _libc
    try:
        return await asyncio.to_thread(fn, *args)
    finally:
        if _libc is None:
            import ctypes
            import ctypes.util

            try:
                _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                _libc.malloc_trim  # noqa: B018 (glibc only)
            except (OSError, AttributeError):
                _libc = False
        if _libc:
            _libc.malloc_trim(0)
