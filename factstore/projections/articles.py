"""Projection `articles`: the current state of each article stream (for listing and lookups)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, select

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
        a = articles_table.c
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(streams), 500):
            query = select(articles_table).where(a.stream_id.in_(streams[start : start + 500]))
            rows.update((row["stream_id"], dict(row)) for row in conn.execute(query).mappings())
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
        for stream_id, row in rows.items():
            if stream_id in stored:
                conn.execute(articles_table.update().where(a.stream_id == stream_id).values(row))
            else:
                conn.execute(articles_table.insert().values(row))
