"""The job store: one SQLite file (WAL) in the data folder, with the whole history of jobs.

A job goes pending -> running -> delivering -> done, or ends failed or cancelled. At start-up the
core asks for the jobs a crashed daemon left active (``stale``) and ends each with the truth
(``bridge.core.jobs``).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from bridge.ardour.leftovers import running
from bridge.errors import BridgeError, InvalidInput

STATUSES = ("pending", "running", "delivering", "done", "failed", "cancelled")
ACTIVE = ("pending", "running", "delivering")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    session TEXT,
    track TEXT,
    request TEXT NOT NULL,
    engine TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    stage TEXT NOT NULL DEFAULT '',
    stems TEXT NOT NULL DEFAULT '[]',
    delivery TEXT NOT NULL DEFAULT '{}',
    pending_files TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    owner INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_session ON jobs(session, created);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
"""


class UnknownJob(InvalidInput):
    code = "unknown_job"


class QueueFull(BridgeError):
    code = "queue_full"


@dataclass
class Job:
    id: str
    kind: str  # "generate" or "regenerate"
    session: str | None
    track: str | None
    request: dict[str, Any]
    engine: str
    status: str = "pending"
    progress: float = 0.0
    stage: str = ""
    stems: list[dict[str, Any]] = field(default_factory=list)
    delivery: dict[str, Any] = field(default_factory=dict)
    pending_files: list[str] = field(default_factory=list)
    error: str | None = None
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    owner: int = 0  # pid of the process that runs it (the daemon, or a `resonant mcp` over stdio)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("pending_files")
        d.pop("owner")
        d["timings"] = {"queued_s": round((self.started or self.finished or time.time()) - self.created, 3),
                        "run_s": round((self.finished or time.time()) - self.started, 3) if self.started else None}
        return d


_JSON = ("request", "stems", "delivery", "pending_files")


def _row(r: aiosqlite.Row) -> Job:
    d = dict(r)
    for k in _JSON:
        d[k] = json.loads(d[k])
    return Job(**d)


def _alive(pid: int) -> bool:
    """A job owner still at work: another process that runs (this process's own jobs are from before)."""
    return pid != os.getpid() and running(pid)


def private_dir(path: Path) -> Path:
    """The data folder (and folders in it): the user's only (0700), made so or made so again — it
    holds the job history, the stems and the MCP token."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = os.stat(path)
    if st.st_mode & 0o077 and st.st_uid == os.geteuid():
        os.chmod(path, 0o700)
    return path


class JobStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: aiosqlite.Connection | None = None

    async def open(self) -> JobStore:
        private_dir(self.path.parent)
        # made 0600 before SQLite opens it: its -wal and -shm files take the database's mode
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600))
        if os.stat(self.path).st_mode & 0o077:
            os.chmod(self.path, 0o600)
        self.db = await aiosqlite.connect(self.path)
        self.db.row_factory = aiosqlite.Row
        await self.db.execute("PRAGMA journal_mode=WAL")
        await self.db.execute("PRAGMA synchronous=NORMAL")
        await self.db.execute("PRAGMA busy_timeout=5000")
        await self.db.executescript(_SCHEMA)
        async with self.db.execute("PRAGMA table_info(jobs)") as cur:
            cols = {r[1] for r in await cur.fetchall()}
        if "owner" not in cols:  # a store made before jobs had owners
            await self.db.execute("ALTER TABLE jobs ADD COLUMN owner INTEGER NOT NULL DEFAULT 0")
        await self.db.commit()
        return self

    async def close(self) -> None:
        if self.db is not None:
            await self.db.close()
            self.db = None

    async def create(self, kind: str, session: str | None, track: str | None, request: dict[str, Any],
                     engine: str) -> Job:
        job = Job(uuid.uuid4().hex[:12], kind, session, track, request, engine, created=time.time(),
                  owner=os.getpid())
        await self.db.execute(
            "INSERT INTO jobs (id, kind, session, track, request, engine, status, created, owner)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (job.id, kind, session, track, json.dumps(request), engine, "pending", job.created, job.owner))
        await self.db.commit()
        return job

    async def get(self, job_id: str) -> Job:
        if not isinstance(job_id, str) or not job_id.isalnum() or len(job_id) > 64:
            raise UnknownJob(f"{job_id!r} is not a job id")
        async with self.db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise UnknownJob(f"no job {job_id!r}")
        return _row(row)

    async def delete(self, job_id: str) -> None:
        await self.db.execute("DELETE FROM jobs WHERE id=?", (job_id,))
        await self.db.commit()

    async def update(self, job_id: str, **changes: Any) -> None:
        if not changes:
            return
        cols = []
        vals = []
        for k, v in changes.items():
            if k not in Job.__dataclass_fields__ or k == "id":
                raise ValueError(k)
            cols.append(f"{k}=?")
            vals.append(json.dumps(v) if k in _JSON else v)
        await self.db.execute(f"UPDATE jobs SET {', '.join(cols)} WHERE id=?", (*vals, job_id))
        await self.db.commit()

    async def transition(self, job_id: str, frm: tuple[str, ...], to: str, **changes: Any) -> bool:
        """Move a job to ``to`` only if it is in one of ``frm`` (one statement: no race)."""
        sets = ["status=?"] + [f"{k}=?" for k in changes]
        vals = [to] + [json.dumps(v) if k in _JSON else v for k, v in changes.items()]
        marks = ",".join("?" * len(frm))
        cur = await self.db.execute(f"UPDATE jobs SET {', '.join(sets)} WHERE id=? AND status IN ({marks})",
                                    (*vals, job_id, *frm))
        await self.db.commit()
        return cur.rowcount == 1

    async def list(self, session: str | None = None, status: str | None = None, limit: int = 50) -> list[Job]:
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidInput("limit must be 1-1000")
        where, args = [], []
        if session is not None:
            where.append("session=?")
            args.append(session)
        if status is not None:
            where.append("status=?")
            args.append(status)
        sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created DESC LIMIT ?"
        async with self.db.execute(sql, (*args, limit)) as cur:
            return [_row(r) for r in await cur.fetchall()]

    async def stale(self) -> list[Job]:
        """Jobs a previous process left active (pending, running, delivering) and no live process
        owns: another live bridge process (the daemon beside a stdio MCP server) owns its own jobs."""
        async with self.db.execute(
                f"SELECT * FROM jobs WHERE status IN ({','.join('?' * len(ACTIVE))})", ACTIVE) as cur:
            stale = [_row(r) for r in await cur.fetchall()]
        return [j for j in stale if not _alive(j.owner)]
