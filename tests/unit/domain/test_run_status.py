"""A run that never finished (no RunFinished) reads "interrupted" once it is known to be over."""

from __future__ import annotations

from typing import Any

from factstore.domain.runs import mark_interrupted


def run(job: str, status: str, instance: str = "host:1:a") -> dict[str, Any]:
    return {"job_id": job, "status": status, "instance": instance}


def test_an_unfinished_run_followed_by_a_later_run_of_its_job_is_interrupted() -> None:
    newest_first = [run("j", "ok"), run("j", "running"), run("k", "running")]
    assert [r["status"] for r in mark_interrupted(newest_first)] == [
        "ok",
        "interrupted",
        "running",  # job k has no later run, and its process is not known to be gone
    ]


def test_the_latest_run_is_interrupted_only_when_its_process_is_gone() -> None:
    newest_first = [run("j", "running", "host:2:b"), run("j", "failed")]
    assert mark_interrupted(newest_first)[0]["status"] == "running"
    gone = frozenset({"host:2:b"})
    assert mark_interrupted(newest_first, gone)[0]["status"] == "interrupted"
    assert mark_interrupted(newest_first, gone)[1]["status"] == "failed"  # finished runs stay
