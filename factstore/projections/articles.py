"""Projection `articles`: the current state of each article stream (for listing and lookups)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select

from factstore.domain import catalog
from factstore.domain.events import RecordedEvent
from factstore.projections.models import articles_table

ARTICLE_EVENTS = frozenset({*catalog.ARTICLE_CONTENT_EVENTS, catalog.ARTICLE_WITHDRAWN})


class ArticlesProjection:
    name = "articles"
    tables: tuple[Table, ...] = (articles_table,)

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        relevant = [e for e in events if e.type in ARTICLE_EVENTS]
        # Claim events move their article's version on too, so every stream in the batch counts.
        streams = sorted({e.stream_id for e in events})
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(streams), 500):
            chunk = {"ids": streams[start : start + 500]}
            found = conn.execute(_ARTICLE_ROWS, chunk).mappings()
            rows.update((row["stream_id"], dict(row)) for row in found)
        stored = set(rows)
        for event in relevant:
            data = catalog.upcast(event.type, event.schema_version, event.data)
            row = rows.get(event.stream_id)
            if event.type == catalog.ARTICLE_WITHDRAWN:
                if row is not None:
                    row.update(
                        status="withdrawn",
                        version=event.version,
                        last_position=event.position,
                        updated_at=event.recorded_at,
                    )
                continue
            fields = {
                "article_id": data["article_id"],
                "title": data.get("title"),
                "outlet": data.get("outlet"),
                "url": data.get("url"),
                "published_at": data.get("published_at"),
                "content_hash": data["content_hash"],
                "extractor_version": data.get("extractor_version"),
                "status": "active",
                "version": event.version,
                "last_position": event.position,
                "updated_at": event.recorded_at,
            }
            if row is None:
                rows[event.stream_id] = {
                    "stream_id": event.stream_id,
                    "revisions": 0,
                    "first_position": event.position,
                    "ingested_at": event.recorded_at,
                    **fields,
                }
            else:
                row.update(fields, revisions=row["revisions"] + 1)
        for event in events:
            row = rows.get(event.stream_id)
            if row is not None and event.version > row["version"]:
                row.update(version=event.version, last_position=event.position)
        updates = [{**row, "b_stream_id": sid} for sid, row in rows.items() if sid in stored]
        inserts = [row for sid, row in rows.items() if sid not in stored]
        if updates:
            conn.execute(_UPDATE_ARTICLE, updates)
        if inserts:
            conn.execute(articles_table.insert(), inserts)


# Built once: a POST applies this projection inline, and building a statement costs more than
# running it. Rows are whole (every column), so one executemany serves each kind of write.
_ARTICLE_ROWS = select(articles_table).where(
    articles_table.c.stream_id.in_(bindparam("ids", expanding=True))
)
_UPDATE_ARTICLE = articles_table.update().where(
    articles_table.c.stream_id == bindparam("b_stream_id")
)
