"""The scheduler process (`factstore scheduler`): APScheduler 3 runs each source's re-ingestion
job, and re-extraction, on their schedules. It runs in its own process, never in web workers.

- Jobs live in the same database (SQLAlchemyJobStore, table `apscheduler_jobs`), with
  `coalesce` (missed runs collapse into one), `max_instances=1` and a misfire grace time.
- Leader lock: any number of scheduler processes may run against one database; only the one
  holding the lock schedules anything, the others stand by and take over within a heartbeat when
  it goes. PostgreSQL: a session advisory lock held on a dedicated connection (the server drops
  it when the connection dies). SQLite: an exclusive `flock` on `<database>.scheduler.lock`
  beside the database file (the kernel drops it when the process dies).
- Heartbeat: every process writes its row in `scheduler_heartbeats` every few seconds;
  GET /v1/health shows the leader's.
- Every tick the leader re-reads the sources (file and API) and updates its jobs, and picks up
  run requests (POST /v1/jobs/{id}/run) by moving the job's next run to now.
- SIGTERM/SIGINT: stop taking new runs, let a running job finish, release the lock, exit 0.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from factstore.config import Settings
from factstore.domain import runs
from factstore.ingest import registry
from factstore.ingest.models import heartbeats_table as hb
from factstore.ingest.sources_config import (
    REEXTRACT_JOB_ID,
    REINGEST_JOB_PREFIX,
    SourceConfig,
    SourceSet,
    format_interval,
)
from factstore.projections import default_runner
from factstore.store.event_store import EventStore
from factstore.store.models import events_table as ev

log = logging.getLogger(__name__)

JOB_FUNCTION = "factstore.ingest.scheduler:run_job"
LEADER_LOCK_KEY = 0x46_53_63_68  # "FSch": any constant shared by every scheduler of a database
DEFAULT_HEARTBEAT_S = 5.0
DEFAULT_MISFIRE_GRACE_S = 300
# A heartbeat older than this many beats means the process is gone.
STALE_AFTER_BEATS = 3
ACTOR = "scheduler"


# --- leader lock ------------------------------------------------------------------------------


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...
    def held(self) -> bool: ...
    def release(self) -> None: ...


class PostgresLeaderLock:
    """`pg_try_advisory_lock` on a connection kept open for as long as this process leads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        # The tick (main thread) and the running job (executor thread) both ask `held()`.
        self._guard = threading.Lock()

    def try_acquire(self) -> bool:
        with self._guard:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                query = text("SELECT pg_try_advisory_lock(:k)")
                got = bool(conn.execute(query, {"k": LEADER_LOCK_KEY}).scalar())
            except Exception:
                conn.invalidate()
                conn.close()
                raise
            if got:
                self._conn = conn
            else:
                conn.close()
            return got

    def held(self) -> bool:
        with self._guard:
            if self._conn is None:
                return False
            try:
                self._conn.execute(text("SELECT 1"))
                return True
            except Exception:  # the connection died, and the server released the lock with it
                self._drop()
                return False

    def release(self) -> None:
        with self._guard:
            if self._conn is None:
                return
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK_KEY})
            except Exception:  # a dead connection: the server already let the lock go
                log.warning("leader lock connection gone at release")
            finally:
                self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.invalidate()  # never return a lock-holding session to the pool
            self._conn.close()
            self._conn = None


class FileLeaderLock:
    """An exclusive non-blocking flock on a file beside the SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def leader_lock_for(engine: Engine) -> LeaderLock:
    if engine.dialect.name == "postgresql":
        return PostgresLeaderLock(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        raise ValueError("the scheduler needs a database file (not :memory:) for its leader lock")
    return FileLeaderLock(Path(database + ".scheduler.lock"))


# --- the job function (run by APScheduler in the leader) --------------------------------------


@dataclass
class _Worker:
    """What a job needs in this process; jobs in the job store name only a job id."""

    store: EventStore
    settings: Settings
    instance: str
    # True while this process holds the leader lock (asked before and during every run).
    still_leader: Callable[[], bool] = lambda: True
    heartbeat_s: float = DEFAULT_HEARTBEAT_S
    pending: dict[str, list[str]] = field(default_factory=dict)  # job id -> run request ids
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Held for the whole of a run. A leader that lost its lock and got it back starts a new
    # APScheduler while the old one's run may still be going: runs still take turns.
    running: threading.Lock = field(default_factory=threading.Lock)
    runs_done: int = 0  # jobs this process has run to the end (or to an error)


_WORKER: _Worker | None = None


def run_job(job_id: str) -> None:
    """A scheduled job: re-ingest one source, or re-extract (see factstore.ingest.reextract)."""
    worker = _WORKER
    if worker is None:
        raise RuntimeError("run_job outside a scheduler process")
    with worker.running:
        try:
            _run_job(worker, job_id)
        finally:
            worker.runs_done += 1


def _run_job(worker: _Worker, job_id: str) -> None:
    with worker.lock:
        requests = worker.pending.pop(job_id, [])
    if not _may_run(worker):
        with worker.lock:  # served by whoever leads next (or by us once we lead again)
            worker.pending.setdefault(job_id, [])[:0] = requests
        log.warning("job %s not run: this process no longer holds the leader lock", job_id)
        return
    trigger = "request" if requests else "schedule"
    store = worker.store
    runner = default_runner(store, worker.settings)
    if job_id == REEXTRACT_JOB_ID:
        from factstore.ingest.reextract import reextract_all

        reextract_all(
            store,
            runner,
            actor=ACTOR,
            trigger=trigger,
            requests=requests,
            instance=worker.instance,
        )
        return
    source = registry.load_sources(store).get(job_id.removeprefix(REINGEST_JOB_PREFIX))
    if source is None:
        log.warning("job %s: its source is gone; skipped", job_id)
        return
    from factstore.ingest.reingest import run_sources

    report = run_sources(
        store,
        runner,
        [source],
        job_id=job_id,
        trigger=trigger,
        actor=ACTOR,
        requests=requests,
        instance=worker.instance,
        should_continue=worker.still_leader,
    )
    log.info("job %s run %s: %s %s", job_id, report.run_id, report.status, report.totals)


def _may_run(worker: _Worker) -> bool:
    """Whether this process may start a run now: it holds the leader lock, and no run of a
    process that is still alive is unfinished. A leader that lost its lock (its lock connection
    died) stops its run at the next batch; until it has, or until its heartbeat goes stale
    (killed), the new leader waits, so two processes never run jobs at the same time."""
    while True:
        if not worker.still_leader():
            return False
        if not live_runs_of_others(worker.store, worker.instance, worker.heartbeat_s):
            return True
        time.sleep(min(worker.heartbeat_s, 1.0))


def live_runs_of_others(
    store: EventStore, instance: str, heartbeat_s: float, recent: int = 20
) -> list[str]:
    """Run ids of unfinished runs (among the latest `recent`) started by another scheduler
    process whose heartbeat is fresh and not `stopped`."""
    query = (
        select(ev.c.stream_id, ev.c.data)
        .where(ev.c.type == runs.RUN_STARTED)
        .order_by(ev.c.position.desc())
        .limit(recent)
    )
    fresh_after = datetime.now(UTC) - timedelta(seconds=heartbeat_s * STALE_AFTER_BEATS)
    with store.engine.connect() as conn:
        started = {
            row.stream_id: json.loads(row.data).get("instance") for row in conn.execute(query)
        }
        others = {s: i for s, i in started.items() if i and i != instance}
        if not others:
            return []
        finished = set(
            conn.execute(
                select(ev.c.stream_id).where(
                    ev.c.type == runs.RUN_FINISHED, ev.c.stream_id.in_(list(others))
                )
            ).scalars()
        )
        alive = set(
            conn.execute(
                select(hb.c.instance).where(
                    hb.c.instance.in_(set(others.values())),
                    hb.c.role != "stopped",
                    hb.c.beat_at >= fresh_after,
                )
            ).scalars()
        )
    return [s for s, i in others.items() if s not in finished and i in alive]


# --- the process ------------------------------------------------------------------------------


def _trigger_for(source: SourceConfig) -> Any:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if source.cron:
        return CronTrigger.from_crontab(source.cron, timezone="UTC")
    return IntervalTrigger(seconds=source.interval_s or 3600, timezone="UTC")


def desired_jobs(sources: SourceSet, reextract_every_s: int) -> dict[str, tuple[str, Any]]:
    """job id -> (schedule description, trigger)."""
    from apscheduler.triggers.interval import IntervalTrigger

    jobs = {s.job_id: (s.schedule, _trigger_for(s)) for s in sources.sources}
    jobs[REEXTRACT_JOB_ID] = (
        f"every {format_interval(reextract_every_s)}",
        IntervalTrigger(seconds=reextract_every_s, timezone="UTC"),
    )
    return jobs


class SchedulerProcess:
    """One scheduler process: stand by until it holds the leader lock, then schedule."""

    def __init__(
        self,
        store: EventStore,
        settings: Settings,
        *,
        heartbeat_s: float = DEFAULT_HEARTBEAT_S,
        misfire_grace_s: int = DEFAULT_MISFIRE_GRACE_S,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.heartbeat_s = heartbeat_s
        self.misfire_grace_s = misfire_grace_s
        self.on_event = on_event or (lambda message: log.info("%s", message))
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.started_at = datetime.now(UTC)
        self.lock = leader_lock_for(store.engine)
        self.scheduler: Any = None
        self.schedules: dict[str, str] = {}
        self.request_cursor = 0

    @property
    def role(self) -> str:
        return "leader" if self.scheduler is not None else "standby"

    def serve(self, stop: threading.Event, pause: Callable[[], bool] = lambda: False) -> bool:
        """Lead or stand by until `stop` is set, or until `pause()` says so between runs (once
        this process has run a job: work is what makes it grow); True when it stopped for
        `pause`. Either way it leaves as `stop()` does."""
        global _WORKER
        worker = _WORKER = _Worker(
            self.store, self.settings, self.instance, self.lock.held, self.heartbeat_s
        )
        self.on_event(f"scheduler {self.instance} started, standing by for the leader lock")
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except Exception:  # the database went away: keep trying, every heartbeat
                    log.exception("scheduler tick failed")
                if worker.runs_done and not worker.running.locked() and pause():
                    return True
                stop.wait(self.heartbeat_s)
            return False
        finally:
            self.stop()

    def tick(self) -> None:
        if self.scheduler is not None and not self.lock.held():
            self.on_event("leader lock lost: stepping down")
            self._shutdown_scheduler(wait=False)
        if self.scheduler is None and self.lock.try_acquire():
            self._start_scheduler()
        if self.scheduler is not None:
            try:
                self._sync_jobs()
                self._pick_up_requests()
            except Exception:  # a bad sources file must not kill the leader: jobs keep running
                log.exception("could not refresh the jobs")
        self._beat(self.role)

    def stop(self) -> None:
        self._shutdown_scheduler(wait=True)
        self._beat("stopped")
        self.on_event(f"scheduler {self.instance} stopped")

    def _start_scheduler(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.store.engine)},
            # One job at a time: runs of different sources never compete for the write lock.
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": self.misfire_grace_s,
            },
            # After a lost database connection, look at the job store again this soon (the
            # default is 10 s).
            jobstore_retry_interval=max(self.heartbeat_s, 0.5),
            timezone="UTC",
        )
        scheduler.start()
        self.scheduler = scheduler
        self.schedules = {}
        with self.store.engine.connect() as conn:
            last_run = conn.execute(
                select(func.max(ev.c.position)).where(ev.c.type == runs.RUN_STARTED)
            ).scalar()
        # Requests older than the latest run were served by it (or by an earlier leader).
        self.request_cursor = int(last_run or 0)
        self.on_event(f"scheduler {self.instance} is the leader")

    def _shutdown_scheduler(self, *, wait: bool) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=wait)
            self.scheduler = None
        self.lock.release()

    def _sync_jobs(self) -> None:
        sources = registry.load_sources(self.store)
        wanted = desired_jobs(sources, registry.reextract_interval_s())
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()
                self.schedules.pop(job.id, None)
                self.on_event(f"job {job.id} removed")
        # Triggers compare by their text ("interval[1:00:00]", "cron[minute='0', …]"), which
        # also catches a schedule changed while no scheduler was running.
        existing = {job.id: str(job.trigger) for job in self.scheduler.get_jobs()}
        for job_id, (schedule, trigger) in wanted.items():
            if existing.get(job_id) == str(trigger):
                self.schedules[job_id] = schedule
                continue  # keeps its next run time across leader changes
            self.scheduler.add_job(
                JOB_FUNCTION, trigger, args=[job_id], id=job_id, replace_existing=True
            )
            self.schedules[job_id] = schedule
            self.on_event(f"job {job_id} scheduled {schedule}")

    def _pick_up_requests(self) -> None:
        query = (
            select(ev.c.position, ev.c.data)
            .where(ev.c.type == runs.RUN_REQUESTED, ev.c.position > self.request_cursor)
            .order_by(ev.c.position)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
        worker = _WORKER
        assert worker is not None
        for position, data in rows:
            self.request_cursor = position
            request = json.loads(data)
            job = self.scheduler.get_job(request["job_id"])
            if job is None:
                continue
            with worker.lock:
                worker.pending.setdefault(job.id, []).append(request["request_id"])
            job.modify(next_run_time=datetime.now(UTC))
            self.on_event(f"job {job.id} requested ({request['request_id']})")

    def _beat(self, role: str) -> None:
        now = datetime.now(UTC)
        jobs = len(self.schedules) if self.scheduler is not None else 0
        row = {
            "instance": self.instance,
            "role": role,
            "pid": os.getpid(),
            "host": socket.gethostname()[:200],
            "jobs": jobs,
            "started_at": self.started_at,
            "beat_at": now,
        }
        dialect = postgresql if self.store.backend == "postgresql" else sqlite
        statement = dialect.insert(hb).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=["instance"],
            set_={"role": role, "jobs": jobs, "beat_at": now},
        )
        try:
            with self.store.engine.begin() as conn:
                conn.execute(statement)
                # Rows of processes gone for a day are of no use to anyone.
                conn.execute(hb.delete().where(hb.c.beat_at < now - timedelta(days=1)))
        except Exception:
            log.exception("heartbeat not written")


def scheduler_status(
    engine: Engine, heartbeat_s: float = DEFAULT_HEARTBEAT_S
) -> dict[str, Any] | None:
    """What GET /v1/health shows: the leader's heartbeat and how many processes stand by; None
    when no scheduler ever ran against this database."""
    with engine.connect() as conn:
        rows = conn.execute(select(hb).order_by(hb.c.beat_at.desc())).mappings().all()
    if not rows:
        return None
    now = datetime.now(UTC)
    fresh_after = now - timedelta(seconds=heartbeat_s * STALE_AFTER_BEATS)

    def aware(moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    live = [r for r in rows if r["role"] != "stopped" and aware(r["beat_at"]) >= fresh_after]
    leaders = [r for r in live if r["role"] == "leader"]
    shown = leaders[0] if leaders else rows[0]
    beat_at = aware(shown["beat_at"])
    if leaders:
        status = "running"
    elif live:
        status = "standby"  # processes alive, none holds the lock yet
    else:
        status = "stopped" if shown["role"] == "stopped" else "stale"
    return {
        "status": status,
        "instance": shown["instance"],
        "role": shown["role"],
        "pid": shown["pid"],
        "host": shown["host"],
        "jobs": shown["jobs"],
        "started_at": aware(shown["started_at"]).isoformat().replace("+00:00", "Z"),
        "heartbeat_at": beat_at.isoformat().replace("+00:00", "Z"),
        "heartbeat_age_s": round((now - beat_at).total_seconds(), 3),
        "standby": sum(1 for r in live if r["role"] == "standby"),
    }
