"""Re-ingestion of directory and jsonl sources against a real store (both backends): unchanged
content appends nothing, an edit appends the revision and the claim diff, a removed file
withdraws its article, a source that cannot be read fails alone; every run is its own stream."""

from __future__ import annotations

import json
from pathlib import Path

from factstore.domain import catalog, runs
from factstore.ingest.registry import recent_runs
from factstore.ingest.reingest import run_sources
from factstore.ingest.sources_config import SourceConfig
from factstore.projections import default_runner, queries
from factstore.store.event_store import EventStore

TOPIC = "incident.killed.civilians.raqqa.2017-06-29"
RAQQA = (
    "{toll} civilians were killed in an air strike on Raqqa on Thursday, the Syrian "
    "Observatory said. Rescue teams searched the rubble through the night."
)
MOSUL = "Separately, 300 families fled Mosul on Thursday, the UN said."


def write_article(folder: Path, name: str, text: str) -> None:
    record = {"id": name, "outlet": "Wire", "published_at": "2017-06-29", "text": text}
    (folder / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")


def run(store: EventStore, *sources: SourceConfig) -> runs.SourceCounts:
    report = run_sources(
        store, default_runner(store), sources, job_id="test", trigger="cli", actor="tester"
    )
    assert report.sources[0].counts is not None, report.sources[0].error
    return report.sources[0].counts


def stream_types(store: EventStore, stream_id: str) -> list[str]:
    return [event.type for event in store.read_stream(stream_id)]


def test_directory_source_unchanged_revised_withdrawn(store: EventStore, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    write_article(folder, "raqqa", RAQQA.format(toll="At least 20") + " " + MOSUL)
    write_article(folder, "mosul", MOSUL)
    source = SourceConfig(id="wire", kind="directory", path=folder, interval_s=60)

    first = run(store, source)
    assert (first.new, first.unchanged, first.withdrawn) == (2, 0, 0)
    head = store.head_position()

    again = run(store, source)
    assert (again.new, again.revised, again.unchanged, again.events_appended) == (0, 0, 2, 0)
    # Only the run's own stream grew: RunStarted, SourceProcessed, RunFinished.
    assert [e.type for e in store.read_all(head)] == [
        runs.RUN_STARTED,
        runs.SOURCE_PROCESSED,
        runs.RUN_FINISHED,
    ]

    # The toll is edited: the old claim is retracted, the new one asserted, the Mosul claim
    # (still in the text) keeps its id and gets no event.
    write_article(folder, "raqqa", RAQQA.format(toll="At least 44") + " " + MOSUL)
    edited = run(store, source)
    assert (edited.revised, edited.unchanged) == (1, 1)
    assert (edited.claims_retracted, edited.claims_asserted) == (1, 1)
    assert stream_types(store, "article-raqqa") == [
        catalog.ARTICLE_INGESTED,
        catalog.CLAIM_ASSERTED,
        catalog.CLAIM_ASSERTED,
        catalog.ARTICLE_REVISED,
        catalog.CLAIM_RETRACTED,
        catalog.CLAIM_ASSERTED,
    ]
    figure = queries.topic_figure(store.engine, TOPIC)
    assert figure is not None and figure["figure"]["value"] == 44
    history = queries.topic_history(store.engine, TOPIC)
    assert history is not None
    assert history[0]["to"]["value"] == 20
    assert history[-1]["to"]["value"] == 44
    assert history[-1]["from"]["value"] == 20
    assert "ArticleRevised" in history[-1]["cause"]["detail"]

    # The file is removed: the article is withdrawn and its claims stop counting.
    (folder / "raqqa.json").unlink()
    removed = run(store, source)
    assert (removed.withdrawn, removed.unchanged) == (1, 1)
    assert stream_types(store, "article-raqqa")[-1] == catalog.ARTICLE_WITHDRAWN
    assert queries.topic_figure(store.engine, TOPIC)["figure"] is None  # type: ignore[index]
    assert run(store, source).withdrawn == 0  # withdrawn once, not on every run

    # It comes back: a revision, and its claims count again.
    write_article(folder, "raqqa", RAQQA.format(toll="At least 44") + " " + MOSUL)
    back = run(store, source)
    assert back.revised == 1
    assert queries.topic_figure(store.engine, TOPIC)["figure"]["value"] == 44  # type: ignore[index]


def test_jsonl_source_failures_change_nothing(store: EventStore, tmp_path: Path) -> None:
    path = tmp_path / "wire.jsonl"
    records = [
        {
            "id": f"w{n}",
            "outlet": "Wire",
            "published_at": "2017-06-29",
            "url": None,
            "title": None,
            "text": RAQQA.format(toll=f"At least {n}"),
        }
        for n in (20, 30)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    good = SourceConfig(id="wire", kind="jsonl", path=path, interval_s=60)
    missing = SourceConfig(id="gone", kind="jsonl", path=tmp_path / "nope.jsonl", interval_s=60)

    report = run_sources(
        store, default_runner(store), [missing, good], job_id="t", trigger="cli", actor="t"
    )
    assert report.status == "partial"
    assert report.sources[0].counts is None and "no such file" in (report.sources[0].error or "")
    assert report.sources[1].counts is not None and report.sources[1].counts.new == 2

    # A malformed line fails the whole source before anything of it is written: the record
    # that disappeared from the good part is not withdrawn.
    head = store.head_position()
    path.write_text(json.dumps(records[0]) + "\n{not json\n", encoding="utf-8")
    broken = run_sources(store, default_runner(store), [good], job_id="t", trigger="cli", actor="t")
    assert broken.status == "failed"
    assert "not valid JSON" in (broken.sources[0].error or "")
    assert [e.type for e in store.read_all(head)] == [
        runs.RUN_STARTED,
        runs.SOURCE_FAILED,
        runs.RUN_FINISHED,
    ]

    # A record removed from the file is withdrawn.
    path.write_text(json.dumps(records[0]) + "\n", encoding="utf-8")
    fixed = run(store, good)
    assert (fixed.unchanged, fixed.withdrawn) == (1, 1)
    assert stream_types(store, "article-w30")[-1] == catalog.ARTICLE_WITHDRAWN

    latest = recent_runs(store, limit=2)
    assert [r["status"] for r in latest] == ["ok", "failed"]
    assert latest[0]["sources"][0]["withdrawn"] == 1
    assert latest[1]["sources"][0]["status"] == "failed"
    assert latest[0]["finished_at"] is not None and latest[0]["trigger"] == "cli"
    assert len(recent_runs(store, "t", limit=10)) == 2  # the jsonl runs of job "t"
