"""What the core tells its subscribers (OSC clients, MCP progress, the CLI): typed events, one class
per kind, each with the dict the wire formats are made from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class JobStatus:
    """A job moved: pending, running, delivering, done, failed or cancelled."""

    job: str
    status: str
    stage: str = ""
    error: str | None = None
    delivery: dict[str, Any] | None = None
    kind: str = field(default="status", init=False)

    @property
    def final(self) -> bool:
        return self.status in ("done", "failed", "cancelled")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["event"] = d.pop("kind")
        return d


@dataclass(frozen=True)
class JobProgress:
    """How far a running job is (0..1) and what it is doing."""

    job: str
    progress: float
    stage: str
    kind: str = field(default="progress", init=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["event"] = d.pop("kind")
        return d


@dataclass(frozen=True)
class SessionChanged:
    """A watched session was saved (by Ardour or anyone) and read again: what changed."""

    session: str
    snapshot: str
    changes: dict[str, Any]
    kind: str = field(default="session_changed", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, "session": self.session, "snapshot": self.snapshot, **self.changes}


Event = JobStatus | JobProgress | SessionChanged
