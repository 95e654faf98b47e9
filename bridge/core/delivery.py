"""Delivering finished stems into a session, by whichever path the session's state allows.

- Closed session: the XML is edited (a new take on the track, or new tracks with roles), all or
  nothing, with backups, under the session lock (``SessionEditor.commit``).
- Open in Ardour: the XML is Ardour's; the stems and a manifest go into the session's inbox, the
  Lua hook inside Ardour imports them and acknowledges, and the job is done only then. Without an
  acknowledgement within the timeout the job fails with a message that says where the files are;
  the drop stays in the inbox, so the hook still imports it when it runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.ardour import SessionEditor, read_session, takes
from bridge.ardour.files import session_lock
from bridge.ardour.live import inbox
from bridge.core import placement
from bridge.core.sessions import EDIT_ATTEMPTS, is_open_in_ardour
from bridge.errors import BridgeError, SessionChangedOnDisk

WAITING_FOR_ARDOUR = "waiting for Ardour to import"  # the stage while the hook has the drop

log = logging.getLogger("resonant.delivery")


class NotAcknowledged(BridgeError):
    code = "not_acknowledged"


class PartialDelivery(NotAcknowledged):
    """Ardour imported some of the stems and not the others: those it placed are in the session."""

    code = "partial_delivery"

    def __init__(self, message: str, placed: list[dict]) -> None:
        super().__init__(message)
        self.placed = placed


def changed_bars(job: Any) -> dict[str, list[int]]:
    """For a regeneration of some bars: which bars were rewritten. The new take itself spans the whole
    previous take (``bars``), the rest of it unchanged."""
    req = job.request or {}
    if job.kind != "regenerate" or not req.get("first_bar") or not req.get("bars"):
        return {}
    return {"changed_bars": [int(req["first_bar"]), int(req["first_bar"]) + int(req["bars"]) - 1]}


def keep_takes(session_folder: Path, job_id: str, stems: list[dict], sources: list[list[str]]) -> None:
    """Keep each delivered stem's recipe and notes beside the session, keyed by job and role, with the
    names its audio has in the session: the next regeneration of that take starts from them."""
    for st, names in zip(stems, sources, strict=True):
        meta = st.get("metadata") or {}
        recipe = dict(meta.get("recipe") or {"engine": meta.get("engine"), "prompt": meta.get("prompt"),
                                             "seed": meta.get("seed"), "loudness_lufs": meta.get("loudness_lufs")})
        recipe.update(job=job_id, role=st["role"], start=st["start"], frames=st.get("frames"))
        if isinstance(meta.get("synth_level_db"), int | float):  # how loud its MIDI track's synth plays
            recipe["synth_level_db"] = meta["synth_level_db"]
        midi = Path(st["mid"]).read_bytes() if st.get("mid") else None
        takes.remember(session_folder, takes.take_key(job_id, st["role"]), recipe, midi, names)


@dataclass
class Deliverer:
    """Runs deliveries for the service; remembers which jobs wait for Ardour's acknowledgement."""

    ack_timeout_s: float
    reply_address: Callable[[], str | None] = lambda: None
    on_stage: Callable[[str, str, list[str]], Any] | None = None  # (job, stage, files) -> awaitable
    _acks: dict[str, asyncio.Event] = field(default_factory=dict)

    @property
    def waiting(self) -> set[str]:
        return set(self._acks)

    def acknowledge(self, job_id: str) -> bool:
        """The hook said it is done with a drop (OSC); the waiting delivery reads its ack file."""
        ev = self._acks.get(job_id)
        if ev is None:
            return False
        ev.set()
        return True

    async def deliver(self, job: Any, stems: list[dict]) -> dict:
        if await asyncio.to_thread(is_open_in_ardour, Path(job.session)):
            return await self.to_open_session(job, stems)
        return await self.to_closed_session(job, stems)

    async def _stage(self, job_id: str, stage: str, files: list[str]) -> None:
        if self.on_stage is not None:
            await self.on_stage(job_id, stage, files)

    async def to_closed_session(self, job: Any, stems: list[dict]) -> dict:
        """Write the stems into the session XML: a new take on the track, or new tracks."""

        def stage() -> tuple[SessionEditor, dict, list[list[str]]]:
            ed = SessionEditor(read_session(job.session), allow_missing_sources=True)
            where = placement.place(ed, job, stems, changed_bars(job))
            return ed, {"method": "session", "tracks": where.tracks}, where.sources

        loop = asyncio.get_running_loop()

        def announce(stage_name: str, files: list[str]) -> None:  # from the writing thread, in order
            asyncio.run_coroutine_threadsafe(self._stage(job.id, stage_name, files), loop).result()

        def write() -> tuple[Any, dict, list[str], list[list[str]]]:
            # read, plan and commit under the session lock, so other bridge processes wait their turn;
            # a change by anything else in between (an Ardour save) means reading again: the take
            # is planned anew on the session as it now is (its next free take name, its new tracks)
            for attempt in range(EDIT_ATTEMPTS):
                with session_lock(Path(job.session).parent):
                    ed, placed, sources = stage()
                    targets = [str(p) for p in ed.planned_files]
                    announce("writing the session", targets)
                    try:
                        return ed.commit(), placed, targets, sources
                    except SessionChangedOnDisk:
                        if attempt == EDIT_ATTEMPTS - 1:
                            raise
                time.sleep(0.05 * (attempt + 1))
            raise AssertionError("unreachable")

        result, placed, targets, sources = await asyncio.to_thread(write)
        await self._stage(job.id, "committed", targets)  # from here on, the session holds the stems
        placed["files"] = [str(p) for p in result.created]
        await self._keep(Path(job.session).parent, job.id, stems, sources, placed)
        return placed

    async def _keep(self, folder: Path, job_id: str, stems: list[dict], sources: list[list[str]],
                    placed: dict) -> None:
        """Keep the takes' recipes; if that fails the stems are still in the session, so the job is
        done and says what was not kept."""
        try:
            await asyncio.to_thread(keep_takes, folder, job_id, stems, sources)
        except Exception as e:  # an unwritable .resonant, a full disk: not a reason to lose the take
            log.warning("job %s: the takes are in the session but their recipes were not kept: %s", job_id, e)
            placed.setdefault("warnings", []).append(
                f"the takes are in the session, but their recipes could not be kept ({type(e).__name__}: {e});"
                " a later regeneration of them starts from their audio only")

    async def to_open_session(self, job: Any, stems: list[dict]) -> dict:
        """Post the stems to the session's inbox and wait for Ardour's hook to import them."""
        session = await asyncio.to_thread(read_session, job.session)
        folder = session.folder
        plan = placement.plan_drops(session, job, stems)
        drops = plan.drops
        ev = self._acks[job.id] = asyncio.Event()
        t0 = time.monotonic()
        try:
            manifest = await asyncio.to_thread(
                inbox.post, folder, job.id, job.kind, list(zip(plan.files, drops, strict=True)),
                self.reply_address(), plan.extra)
            await self._stage(job.id, WAITING_FOR_ARDOUR, [])
            ack = None
            while time.monotonic() - t0 < self.ack_timeout_s:
                ack = await asyncio.to_thread(inbox.read_ack, folder, job.id)
                if ack is not None:
                    break
                try:
                    await asyncio.wait_for(ev.wait(), 0.1)
                    ev.clear()
                except TimeoutError:
                    pass
            if ack is None:
                ack = await asyncio.to_thread(inbox.read_ack, folder, job.id)
        finally:
            self._acks.pop(job.id, None)
        if ack is None:
            raise NotAcknowledged(
                f"Ardour has the session open but did not import the stems within {self.ack_timeout_s:g} s."
                f" They wait in {manifest.parent} (manifest {manifest.name}) and Ardour imports them as soon"
                " as the Resonant inbox hook runs: install it with `resonant ardour install-scripts` and"
                " restart Ardour, or import the WAV files by hand")
        placed = ack.get("placed", {})
        if ack["status"] == "partial":
            await asyncio.to_thread(inbox.withdraw, folder, job.id, True)
            landed = [{"track": p["track"], "take": p["take"], "role": drops[i].role, "position": drops[i].position,
                       "bars": [drops[i].first_bar, drops[i].last_bar]} for i, p in sorted(placed.items())]
            got = ", ".join(f"{p['track']} (take {p['take']})" for p in landed) or "nothing"
            missed = ", ".join(d.track for i, d in enumerate(drops) if i not in placed)
            raise PartialDelivery(f"Ardour imported only part of the stems: {got} landed in the session and"
                                  f" {missed} did not ({ack['detail'] or 'no reason given'}). The files stay in"
                                  f" {manifest.parent}; undo in Ardour, or regenerate the missing roles", landed)
        if ack["status"] != "ok":
            await asyncio.to_thread(inbox.withdraw, folder, job.id, True)
            raise NotAcknowledged(f"Ardour could not import the stems: {ack['detail'] or 'no reason given'};"
                                  f" nothing was added to the session; the files stay in {manifest.parent}")
        await self._stage(job.id, "committed", [])  # Ardour has imported them
        # what Ardour really made (it renames), else what was asked
        result = {"method": "ardour", "seconds": round(time.monotonic() - t0, 3), "detail": ack["detail"],
                  "tracks": [{"track": placed.get(i, {}).get("track") or d.track, "role": d.role,
                              "take": placed.get(i, {}).get("take") or d.take, "position": d.position,
                              **({"kind": "midi"} if d.kind == "midi" else {}),
                              "bars": [d.first_bar, d.last_bar], **changed_bars(job)} for i, d in enumerate(drops)]}
        sources: list[list[str]] = [[] for _ in stems]
        for i, d in enumerate(drops):
            sources[plan.stem_of[i]] += [Path(d.file).name, placed.get(i, {}).get("source", "")]
        await self._keep(folder, job.id, stems, sources, result)
        await asyncio.to_thread(inbox.withdraw, folder, job.id)
        return result
