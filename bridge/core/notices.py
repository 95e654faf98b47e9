"""Answers for the musician in Ardour: what became of a request made with an Ardour action button.

A request that carries a request id (the Ardour actions send one) gets a notice beside its session
(``bridge.ardour.live.notices``) the moment it arrives, then one for each step: refused (with the
reason), queued, running with its progress, landed (which take on which track) or failed. The button
that made the request shows them in Ardour (the hook, when no button watches any more). Requests
without an id (MCP, the CLI, scripts) are answered on their own channel and leave no notice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.ardour.live import notices as files
from bridge.core.events import Event, JobProgress, JobStatus
from bridge.core.progress import Eased
from bridge.errors import BridgeError

log = logging.getLogger("resonant.notices")
PROGRESS_EVERY_S = 0.25  # the hook polls every 100 ms; more often than this is only disk traffic


@dataclass
class Ticket:
    """One request from Ardour: where its notices go and what to call it."""

    folder: Path
    request: str
    title: str
    job: str | None = None
    last_write: float = 0.0
    running: bool = False
    stage: str = "Starting\u2026"
    eased: Eased = field(default_factory=Eased)  # what the progress bar shows moves between the job's steps


def plain_error(e: BridgeError) -> str:
    """The error as a musician reads it in Ardour: the message, and what to do where it is not said."""
    advice = {
        "ardour_unreachable": "Turn on Ardour's OSC surface: Edit > Preferences > Control Surfaces > Open Sound"
                              " Control.",
        "queue_full": "Wait for the jobs before it to finish, then try again.",
        "session_changed": "Save the session in Ardour and try again.",
    }.get(e.code, "")
    return e.message[:1].upper() + e.message[1:] + (f"\n\n{advice}" if advice else "")


def delivered_text(delivery: dict[str, Any] | None, kind: str) -> str:
    tracks = (delivery or {}).get("tracks", [])
    if not tracks:
        return "Done."
    parts = []
    for t in tracks:
        bars = t.get("changed_bars") or t.get("bars")
        span = f", bars {bars[0]}-{bars[1]}" if bars else ""
        midi = "MIDI " if t.get("kind") == "midi" else ""
        if kind == "regenerate":
            parts.append(f"New {midi}take \u201c{t.get('take')}\u201d on {t['track']}{span}")
        else:
            parts.append(f"New {midi}track \u201c{t['track']}\u201d{span}")
    return "; ".join(parts)  # one short line: that is what Ardour's progress window shows


class Notices:
    """Tickets by request and by job; fed the service's events."""

    def __init__(self) -> None:
        self.by_job: dict[str, Ticket] = {}
        self.kinds: dict[str, str] = {}

    def open(self, session_file: Path, request: str, title: str) -> Ticket:
        """The request arrived: say so at once (the action waits a few seconds for this)."""
        files.check_request(request)
        t = Ticket(Path(session_file).parent, request, title)
        self.write(t, "received", 0.0, "The Resonant daemon has the request.")
        return t

    def write(self, t: Ticket, state: str, progress: float, message: str) -> None:
        try:
            files.write(t.folder, t.request, files.Notice(state, progress, t.title, message, t.job or ""))
            t.last_write = time.monotonic()
        except (OSError, BridgeError) as e:  # the request itself goes on: only Ardour's view of it is lost
            log.warning("could not write the notice for %s in %s: %s", t.request, t.folder, e)

    def refused(self, t: Ticket, e: BridgeError) -> None:
        self.write(t, "error", 0.0, plain_error(e))

    def done(self, t: Ticket, message: str) -> None:
        self.write(t, "done", 1.0, message)

    def follow(self, t: Ticket, job: dict[str, Any]) -> None:
        """Report the job's steps under this ticket from now on."""
        t.job = job["id"]
        self.by_job[job["id"]] = t
        self.kinds[job["id"]] = job.get("kind", "")
        self.write(t, "queued", 0.0, "Waiting for the worker.")

    def tick(self, t: Ticket | None = None) -> None:
        """Move the progress bars of running jobs (every ticket, or ``t``), at most every 0.25 s each."""
        for x in [t] if t else list(self.by_job.values()):
            if x.running and time.monotonic() - x.last_write >= PROGRESS_EVERY_S:
                self.write(x, "running", x.eased.value(), x.stage)

    def on_event(self, event: Event) -> None:
        t = self.by_job.get(getattr(event, "job", ""))
        if t is None:
            return
        if isinstance(event, JobProgress):
            t.eased.report(event.progress)
            t.stage = event.stage.capitalize() + "\u2026"
            self.tick(t)
        elif isinstance(event, JobStatus):
            if event.status == "running":
                t.running = True
                self.tick(t)
            elif event.status == "delivering":
                t.eased.report(0.97)
                t.stage = "Bringing the new take into Ardour\u2026"
                self.tick(t)
            elif event.final:
                self.by_job.pop(event.job, None)
                kind = self.kinds.pop(event.job, "")
                if event.status == "done":
                    self.done(t, delivered_text(event.delivery, kind))
                elif event.status == "cancelled":
                    self.write(t, "error", 0.0, f"Cancelled: {event.error or 'by request'}. Nothing was added.")
                else:
                    self.write(t, "error", 0.0, (event.error or "The job failed.").replace("delivery: ", "", 1))
