"""The scheduler's leader election and job table, in-process on both backends (the e2e test
runs the real processes): one leader per database, jobs follow the sources (a schedule changed
while no scheduler ran is picked up), the heartbeat says who leads."""

from __future__ import annotations

from pathlib import Path

import pytest

from factstore.config import Settings
from factstore.ingest.scheduler import SchedulerProcess, scheduler_status
from factstore.store.event_store import EventStore


def test_one_leader_and_jobs_that_follow_the_sources(
    store: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[sources]]\nid = "wire"\nkind = "directory"\npath = "w"\ninterval = "1h"\n'
    )
    monkeypatch.setenv("FACTSTORE_SOURCES", str(sources))
    first = SchedulerProcess(store, Settings(), heartbeat_s=1)
    second = SchedulerProcess(store, Settings(), heartbeat_s=1)
    try:
        first.tick()
        second.tick()
        assert (first.role, second.role) == ("leader", "standby")
        jobs = {job.id: str(job.trigger) for job in first.scheduler.get_jobs()}
        assert jobs == {
            "reingest.wire": "interval[1:00:00]",
            "reextract": "interval[1 day, 0:00:00]",
        }
        status = scheduler_status(store.engine, heartbeat_s=1)
        assert status is not None
        assert (status["status"], status["instance"], status["standby"]) == (
            "running",
            first.instance,
            1,
        )

        # A source added to the file is scheduled on the next tick; the leader stops and the
        # schedule changes meanwhile: the next leader runs the new schedule.
        sources.write_text(
            sources.read_text() + '[[sources]]\nid = "more"\nkind = "jsonl"\npath = "m.jsonl"\n'
        )
        first.tick()
        assert {job.id for job in first.scheduler.get_jobs()} == {
            "reingest.wire",
            "reingest.more",
            "reextract",
        }
        first.stop()
        sources.write_text(sources.read_text().replace('interval = "1h"', 'cron = "0 6 * * *"'))
        second.tick()
        assert second.role == "leader"
        wire = second.scheduler.get_job("reingest.wire")
        assert str(wire.trigger).startswith("cron[") and "hour='6'" in str(wire.trigger)
    finally:
        first.stop()
        second.stop()
    assert scheduler_status(store.engine, heartbeat_s=1)["status"] == "stopped"  # type: ignore[index]
