"""Projection `figures`: the claims index, each claim's status changes, every topic's current
best figure, and the history of how each topic's figure changed.

A batch is applied in memory first: the topics it touches are loaded once, every event is
folded in order (each topic keeps a `TopicFigure`, the policy's incremental form, so the
history sees every change at O(1) per event however many claims the topic has), and the rows
are written in bulk at the end.

A rebuild (`rebuild`: the whole log into empty tables, one transaction) keeps every topic in
memory across its batches: nothing is read back from the tables, claims, status changes and
history are written batch by batch, topics once at the end.

Between batches, the folded state of the biggest topics stays in memory (`WarmTopics`): a
claim added to a topic of 40,000 claims then costs a read of what changed since, not a load
and fold of all 40,000.
"""

from __future__ import annotations

import itertools
import json
import operator
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from json.scanner import make_scanner
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select

from factstore.config import DEFAULT_WARM_CLAIMS
from factstore.domain import catalog
from factstore.domain.claim_status import change_of, change_reason, claim_view, status_after
from factstore.domain.events import RecordedEvent
from factstore.domain.figures import (
    ClaimView,
    PolicyConfig,
    TopicFigure,
    summary_of,
    with_shared_strings,
)
from factstore.projections.documents import current_documents
from factstore.projections.models import (
    CLAIM_VIEW_COLUMNS,
    claims_table,
    history_table,
    status_changes_table,
    topics_table,
)
from factstore.projections.runner import LogRow, driver_errors, load_json
from factstore.store.hashing import canonical_json

CLAIM_EVENTS = frozenset(
    {
        catalog.CLAIM_ASSERTED,
        catalog.CLAIM_RETRACTED,
        catalog.CLAIM_RANKED,
        catalog.ARTICLE_WITHDRAWN,
    }
)
_CHUNK = 500
_DOCUMENTS_CHUNK = 1_000  # topics whose documents are built together
# Source names whose authority score a process keeps between batches: one per distinct
# `attributed_to`, so a long-running process would otherwise keep every name it ever saw.
_AUTHORITY_KEPT = 20_000
_UNKNOWN = object()  # summary parts of a topic loaded from its row: compare the summary itself
# json's C scanner: (value, end index) of the JSON value starting at an index.
_scan_json: Callable[[str, int], tuple[Any, int]] = make_scanner(
    json.JSONDecoder()  # type: ignore[arg-type]
)


@dataclass(slots=True)
class _TopicState:
    meta: dict[str, Any]
    figure: TopicFigure
    summary: dict[str, Any] | None
    exists: bool  # a row is already stored
    summary_json: str | None = None  # canonical_json(summary), encoded once per change
    # TopicFigure.summary_parts() that `summary` was built from (_UNKNOWN: loaded, not built)
    parts: object = None
    dirty: bool = False
    updated_position: int = 0
    updated_at: datetime | None = None
    decision_sources: int = 0


@dataclass(slots=True)
class _State:
    """What the fold knows: the loaded topics, and where each loaded claim lives."""

    # True when every stored claim is loaded (a rebuild from empty tables): no reads needed.
    complete: bool = False
    topics: dict[str, _TopicState] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)  # topics known to have no row
    claim_topic: dict[str, str] = field(default_factory=dict)
    article_claims: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class _Rows:
    """The rows one batch writes."""

    new_claims: list[list[Any]] = field(default_factory=list)  # values in _CLAIM_COLUMNS order
    status_updates: dict[str, tuple[str, int]] = field(default_factory=dict)
    status_changes: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any] | None] = field(default_factory=list)
    # topic -> (index in `history`, causation id) of its last row in this batch
    last_change: dict[str, tuple[int, str]] = field(default_factory=dict)


class FiguresProjection:
    name = "figures"
    event_types = CLAIM_EVENTS
    tables: tuple[Table, ...] = (claims_table, status_changes_table, topics_table, history_table)

    def __init__(self, policy: PolicyConfig | None = None, warm: WarmTopics | None = None) -> None:
        self.policy = policy or PolicyConfig()
        self._authority: dict[str | None, int] = {}  # attributed_to -> score, for this policy
        self.warm = WarmTopics() if warm is None else warm

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        if len(self._authority) > _AUTHORITY_KEPT:
            self._authority.clear()  # a cache: warm topics share it and recompute what they need
        state = _State()
        if self._apply_batch(conn, state, events):
            self._write_topics(conn, state)
            # Only now, when every row is written: a failed batch takes its topics out of the
            # warm set (`_load_topics` took them) and does not put them back.
            for name, topic in state.topics.items():
                self.warm.keep(name, topic.figure, topic.updated_position)

    def rebuild(self, conn: Connection, batches: Iterable[Sequence[LogRow]]) -> None:
        """Apply consecutive batches (the whole log, in order) to this projection's empty
        tables; the caller's transaction covers them all. Rows go to the driver directly
        (`_BulkWriter`), the tables' secondary indexes are built once at the end.

        Events come as stored (`LogRow`): only `data` is decoded up front; the metadata only
        when a row needs it. The stored data text of a current-schema event is canonical JSON,
        so a claim's `claim_json`/`article_json` are cut from it, not encoded again."""
        self.warm.clear()  # the tables are written anew
        state = _State(complete=True)
        writer = _BulkWriter(conn)
        fold = self._fold
        loads = load_json
        upcast = catalog.upcast
        current = catalog.CURRENT_SCHEMA
        with writer.indexes_deferred(self.tables):
            for batch in batches:
                rows = _Rows()
                for event_id, stream_id, position, typ, schema, text, metadata, at, _ in batch:
                    if typ not in CLAIM_EVENTS:
                        continue
                    data: dict[str, Any] = loads(text)
                    stored: str | None = text
                    if schema != current.get(typ):  # an older shape: upcast, encode anew
                        data, stored = upcast(typ, schema, data), None
                    fold(
                        state,
                        rows,
                        typ,
                        position,
                        stream_id,
                        at,
                        event_id,
                        metadata,
                        data,
                        text=stored,
                    )
                writer.write_rows(rows)
            writer.flush_claims()
            self._write_topics(conn, state, writer)

    def _apply_batch(
        self, conn: Connection, state: _State, events: Sequence[RecordedEvent]
    ) -> bool:
        upcast = catalog.upcast
        shaped = [
            (e, upcast(e.type, e.schema_version, e.data)) for e in events if e.type in CLAIM_EVENTS
        ]
        if not shaped:
            return False
        if not state.complete:
            self._load(conn, state, shaped)
        rows = _Rows()
        for e, data in shaped:
            self._fold(
                state,
                rows,
                e.type,
                e.position,
                e.stream_id,
                e.recorded_at,
                e.event_id,
                e.metadata,
                data,
                None,
            )
        self._write_rows(conn, rows)
        return True

    # --- loading ---------------------------------------------------------------------------------

    def _load(
        self, conn: Connection, state: _State, shaped: list[tuple[RecordedEvent, dict[str, Any]]]
    ) -> None:
        """Load every stored topic the batch touches, with all its claims."""
        topics: set[str] = set()
        # (claim id, article id, topic) of the stored claims the batch changes
        located: list[tuple[str, str, str]] = []
        wanted: set[str] = set()
        withdrawn_streams: set[str] = set()
        for event, data in shaped:
            if event.type == catalog.CLAIM_ASSERTED:
                topics.add(str(data["claim"]["topic"]))
            elif event.type == catalog.ARTICLE_WITHDRAWN:
                withdrawn_streams.add(event.stream_id)
            elif str(data["claim_id"]) not in state.claim_topic:
                wanted.add(str(data["claim_id"]))
        c = claims_table.c
        where = select(c.claim_id, c.article_id, c.topic)
        for ids in _chunks(sorted(wanted)):
            located.extend(conn.execute(where.where(c.claim_id.in_(ids))).tuples())
        for streams in _chunks(sorted(withdrawn_streams)):
            located.extend(conn.execute(where.where(c.stream_id.in_(streams))).tuples())
        topics.update(topic for _, _, topic in located)
        # Claims asserted earlier in this batch for withdrawn streams are found while folding.
        warm = self._load_topics(conn, state, topics - state.topics.keys() - state.absent)
        # A warm topic's claims are not all registered: only those this batch looks up.
        for claim_id, article_id, topic in located:
            if topic in warm:
                state.claim_topic[claim_id] = topic
                state.article_claims.setdefault(article_id, []).append(claim_id)

    def _load_topics(self, conn: Connection, state: _State, topics: set[str]) -> set[str]:
        """Load the stored topics, each from the warm set (brought up to date) or with all its
        claims; the names of those that came from the warm set."""
        c, t = claims_table.c, topics_table.c
        warm: set[str] = set()
        for chunk in _chunks(sorted(topics)):
            cold: list[str] = []
            for row in conn.execute(select(topics_table).where(t.topic.in_(chunk))).mappings():
                name, position = row["topic"], row["updated_position"]
                taken = self.warm.take(name, position)
                if taken is None:
                    figure = TopicFigure(self.policy, self._authority)
                    cold.append(name)
                else:
                    figure, since = taken
                    self._catch_up(conn, name, figure, since)
                    warm.add(name)
                state.topics[name] = _TopicState(
                    meta=_meta(row),
                    figure=figure,
                    summary=_stored_summary(row),
                    exists=True,
                    summary_json=row["summary_json"],
                    updated_position=position,
                    updated_at=row["updated_at"],
                    decision_sources=row["sources"],
                    parts=_UNKNOWN,
                )
            # The policy's columns only: the provenance texts would make loading a topic of
            # 40,000 claims several times slower.
            if cold:
                query = select(*CLAIM_VIEW_COLUMNS).where(c.topic.in_(cold))
                for row in conn.execute(query.order_by(c.asserted_position)).mappings():
                    self._register(state, state.topics[row["topic"]], _kept_view(row))
            state.absent.update(topic for topic in chunk if topic not in state.topics)
        return warm

    @staticmethod
    def _catch_up(conn: Connection, topic: str, figure: TopicFigure, since: int) -> None:
        """Bring a warm topic's state, as of position `since`, up to its stored rows: the
        claims asserted and the status changes after it."""
        c, s = claims_table.c, status_changes_table.c
        added = select(*CLAIM_VIEW_COLUMNS).where(c.topic == topic, c.asserted_position > since)
        for row in conn.execute(added.order_by(c.asserted_position)).mappings():
            figure.add(_kept_view(row))  # with its current status
        changed = select(s.claim_id, s.status).where(s.topic == topic, s.position > since)
        for claim_id, status in conn.execute(changed.order_by(s.position)).tuples():
            figure.set_status(claim_id, status)

    @staticmethod
    def _register(state: _State, topic: _TopicState, view: ClaimView) -> bool:
        if not topic.figure.add(view):
            return False
        state.claim_topic[view.claim_id] = view.topic
        state.article_claims.setdefault(view.article_id, []).append(view.claim_id)
        return True

    # --- folding ---------------------------------------------------------------------------------

    def _fold(
        self,
        state: _State,
        rows: _Rows,
        typ: str,
        position: int,
        stream_id: str,
        recorded_at: datetime,
        event_id: Any,
        metadata: Metadata,
        data: dict[str, Any],
        text: str | None,
    ) -> None:
        """Fold one claim event (its data in the current shape; `text` its stored canonical
        JSON when known) into the state and the batch's rows."""
        if typ == catalog.CLAIM_ASSERTED:
            view = with_shared_strings(claim_view(data, position))
            name = view.topic
            topic = state.topics.get(name)
            if topic is None:
                claim = data["claim"]
                topic = _TopicState(
                    meta={
                        "measure": claim["measure"],
                        "subject": claim["subject"],
                        "place": claim.get("place"),
                        "kind": claim["kind"],
                        "unit": claim["unit"],
                    },
                    figure=TopicFigure(self.policy, self._authority),
                    summary=None,
                    exists=False,
                )
                state.topics[name] = topic
                state.absent.discard(name)
            if not self._register(state, topic, view):
                return  # asserted already (a re-extraction that found the same claim)
            rows.new_claims.append(_claim_row(view, data, stream_id, position, recorded_at, text))
            self._recompute(
                rows,
                topic,
                name,
                typ,
                position,
                recorded_at,
                event_id,
                metadata,
                view.claim_id,
                None,
            )
            return

        if typ == catalog.ARTICLE_WITHDRAWN:
            claim_ids = state.article_claims.get(data["article_id"], ())
            located = [(claim_id, state.claim_topic[claim_id]) for claim_id in claim_ids]
            # In log order, whatever order the claims were loaded in.
            located.sort(key=lambda ct: state.topics[ct[1]].figure.claims[ct[0]].position)
        else:
            claim_id = str(data["claim_id"])
            where = state.claim_topic.get(claim_id)
            if where is None:
                return  # names a claim that was never asserted: nothing to change
            located = [(claim_id, where)]
        change = change_of(typ, data)
        meta = _metadata(metadata)
        for claim_id, name in located:
            topic = state.topics[name]
            known = topic.figure.claims[claim_id]
            status = status_after(known.status, change)
            if status == known.status:
                continue
            topic.figure.set_status(claim_id, status)
            rows.status_updates[claim_id] = (status, position)
            rows.status_changes.append(
                {
                    "claim_id": claim_id,
                    "topic": name,
                    "position": position,
                    "recorded_at": recorded_at,
                    "status": status,
                    "event_type": typ,
                    "reason": change_reason(data),
                    "actor": meta.get("actor"),
                }
            )
            self._recompute(
                rows,
                topic,
                name,
                typ,
                position,
                recorded_at,
                event_id,
                meta,
                claim_id,
                change_reason(data),
            )

    def _recompute(
        self,
        rows: _Rows,
        state: _TopicState,
        topic: str,
        typ: str,
        position: int,
        recorded_at: datetime,
        event_id: Any,
        metadata: Metadata,
        claim_id: str,
        reason: str | None,
    ) -> None:
        parts, sources = state.figure.summary_parts()
        state.dirty = True
        state.updated_position = position
        state.updated_at = recorded_at
        state.decision_sources = sources
        if parts == state.parts:
            return  # the same decision: the same summary (most claims change nothing)
        state.parts = parts
        summary = None if parts is None else summary_of(*parts)
        if _figure_key(summary) == _figure_key(state.summary):
            if summary != state.summary:  # same figure, perhaps now backed by another claim
                state.summary = summary
                state.summary_json = None if summary is None else canonical_json(summary)
            return
        after_json = None if summary is None else canonical_json(summary)
        meta = _metadata(metadata)
        causation = meta.get("causation_id")
        cause = meta.get("causation_type")
        detail = "; ".join(p for p in (reason, f"caused by {cause}" if cause else None) if p)
        row: dict[str, Any] = {
            "topic": topic,
            "position": position,
            "recorded_at": recorded_at,
            "cause_event_type": typ,
            "cause_event_id": _event_id_text(event_id),
            "cause_claim_id": claim_id,
            "cause_detail": detail or None,
            "before_json": state.summary_json,
            "after_json": after_json,
            "conflict": bool(summary and summary["conflict"]),
        }
        previous = rows.last_change.get(topic)
        if causation and previous is not None and previous[1] == causation:
            # One append (e.g. a revision's retraction and new claim) is one change: readers
            # never saw the state between its events.
            merged = rows.history[previous[0]] or row
            details = [d for d in (merged["cause_detail"], row["cause_detail"]) if d]
            row["before_json"] = merged["before_json"]
            row["cause_detail"] = "; ".join(dict.fromkeys("; ".join(details).split("; ")))
            # A net no-change (e.g. a figure retracted and restated) leaves no row.
            unchanged = _figure_key(_loads(row["before_json"])) == _figure_key(summary)
            rows.history[previous[0]] = None if unchanged else row
        else:
            rows.history.append(row)
            if causation:
                rows.last_change[topic] = (len(rows.history) - 1, causation)
        state.summary = summary
        state.summary_json = after_json

    # --- writing ---------------------------------------------------------------------------------

    def _write_rows(self, conn: Connection, rows: _Rows) -> None:
        if rows.new_claims:
            conn.execute(
                claims_table.insert(),
                [dict(zip(_CLAIM_COLUMNS, row, strict=True)) for row in rows.new_claims],
            )
        if rows.status_updates:
            c = claims_table.c
            conn.execute(
                claims_table.update()
                .where(c.claim_id == bindparam("b_claim_id"))
                .values(status=bindparam("b_status"), status_position=bindparam("b_position")),
                [
                    {"b_claim_id": claim_id, "b_status": status, "b_position": position}
                    for claim_id, (status, position) in rows.status_updates.items()
                ],
            )
        if rows.status_changes:
            conn.execute(status_changes_table.insert(), rows.status_changes)
        history = [row for row in rows.history if row is not None]
        if history:
            conn.execute(history_table.insert(), history)

    def _write_topics(
        self, conn: Connection, state: _State, writer: _BulkWriter | None = None
    ) -> None:
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        dirty = [(topic, ts) for topic, ts in state.topics.items() if ts.dirty]
        # The claims rows are written by now: the documents' provenance is read back from them.
        for start in range(0, len(dirty), _DOCUMENTS_CHUNK):
            chunk = dirty[start : start + _DOCUMENTS_CHUNK]
            documents = current_documents(
                conn,
                [
                    (
                        {"topic": topic, **ts.meta},
                        ts.figure.decision() if len(ts.figure) else None,
                        len(ts.figure),
                    )
                    for topic, ts in chunk
                ],
            )
            for (topic, topic_state), document in zip(chunk, documents, strict=True):
                row = _topic_row(topic, topic_state, document)
                (updates if topic_state.exists else inserts).append(row)
        if writer is not None and not updates:
            writer.insert(topics_table, inserts)
            return
        if inserts:
            conn.execute(topics_table.insert(), inserts)
        if updates:
            t = topics_table.c
            values: dict[str, Any] = {k: bindparam(f"b_{k}") for k in updates[0] if k != "topic"}
            conn.execute(
                topics_table.update().where(t.topic == bindparam("b_topic")).values(values),
                [{f"b_{k}": v for k, v in row.items()} for row in updates],
            )


class WarmTopics:
    """The folded state (`TopicFigure`) of the biggest topics, kept between batches.

    An entry is a topic's state as of the `updated_position` its row had when the entry was
    kept. That position names the state exactly: the log up to it is immutable, and no later
    event changed the topic. So an entry is used when the row still says that position, or
    says a later one (what changed since is read from the rows), and never when it says an
    earlier one (the batch that kept it did not commit). Bounded by the claims held (about
    0.9 KB each as traced by tracemalloc; Settings.warm_claims, 0 turns it off); least recently
    used topics go first."""

    def __init__(self, max_claims: int = DEFAULT_WARM_CLAIMS, min_claims: int = 2_000) -> None:
        self.max_claims = max_claims
        self.min_claims = min_claims  # smaller topics load in a few milliseconds
        self._entries: OrderedDict[str, tuple[TopicFigure, int]] = OrderedDict()
        self._claims = 0
        self._lock = threading.Lock()
        self.used = 0  # entries taken and used: what the warm set saved

    def __len__(self) -> int:
        return len(self._entries)

    def take(self, topic: str, position: int) -> tuple[TopicFigure, int] | None:
        """Remove and return (state, its position) if it can be brought to `position`."""
        with self._lock:
            entry = self._entries.pop(topic, None)
            if entry is not None:
                self._claims -= len(entry[0])
            if entry is None or entry[1] > position:
                return None
            self.used += 1
            return entry

    def keep(self, topic: str, figure: TopicFigure, position: int) -> None:
        if len(figure) < self.min_claims or len(figure) > self.max_claims:
            return
        with self._lock:
            old = self._entries.pop(topic, None)
            if old is not None:
                self._claims -= len(old[0])
            self._entries[topic] = (figure, position)
            self._claims += len(figure)
            while self._claims > self.max_claims:
                _, (evicted, _) = self._entries.popitem(last=False)
                self._claims -= len(evicted)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._claims = 0


class _BulkWriter:
    """A rebuild's writes, straight to the driver connection of its transaction: precompiled
    INSERTs through `executemany` (SQLite) or COPY (PostgreSQL), with the values SQLAlchemy would
    have bound (SQLite stores DateTime as naive text, as SQLAlchemy does)."""

    # Claim rows held back before they are written: a status change to a held claim (most
    # retractions and ranks follow their claim closely) edits the row instead of an UPDATE.
    HELD_CLAIMS = 50_000

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self._held: dict[str, list[Any]] = {}  # claim id -> row, oldest first
        self._last_moment: datetime | None = None
        self._last_text = ""

    def _driver(self) -> Any:
        return self.conn.connection.driver_connection

    @contextmanager
    def indexes_deferred(self, tables: Sequence[Table]) -> Iterator[None]:
        """SQLite: drop the tables' secondary indexes, recreate them (same definitions) at the
        end, in the caller's transaction: one sorted build instead of random inserts into each.
        (PostgreSQL keeps them: dropping would lock readers out for the whole rebuild.)"""
        if not self.sqlite:
            yield
            return
        names = [table.name for table in tables]
        marks = ", ".join("?" for _ in names)
        with driver_errors(self.conn):
            cursor = self._driver().cursor()
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks}) ORDER BY name",
                names,
            )
            indexes: list[tuple[str, str]] = cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        yield
        with driver_errors(self.conn):
            for _, sql in indexes:
                cursor.execute(sql)

    def _text(self, moment: datetime) -> str:
        if moment is not self._last_moment:  # one append shares one timestamp
            self._last_moment = moment
            self._last_text = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
        return self._last_text

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = [c.name for c in table.c if c.name in rows[0]]
        pick = operator.itemgetter(*columns)
        quoted = ", ".join(f'"{c}"' for c in columns)
        with driver_errors(self.conn):
            if self.sqlite:
                moments = [c for c in columns if isinstance(rows[0][c], datetime)]
                text = self._text
                for row in rows:
                    for c in moments:
                        row[c] = text(row[c])
                marks = ", ".join("?" for _ in columns)
                self._driver().executemany(
                    f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})', map(pick, rows)
                )
                return
            sql = f'COPY "{table.name}" ({quoted}) FROM STDIN'
            with self._driver().cursor() as cursor, cursor.copy(sql) as copy:
                write = copy.write_row
                for row in rows:
                    write(pick(row))

    def insert_claims(self, rows: list[list[Any]]) -> None:
        """Claim rows, each its values in `_CLAIM_COLUMNS` order."""
        if not rows:
            return
        with driver_errors(self.conn):
            if self.sqlite:
                text = self._text
                for row in rows:
                    row[_ASSERTED_AT] = text(row[_ASSERTED_AT])
                self._driver().executemany(_CLAIMS_INSERT_SQLITE, rows)
                return
            with self._driver().cursor() as cursor, cursor.copy(_CLAIMS_COPY) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)

    def write_rows(self, rows: _Rows) -> None:
        held = self._held
        for row in rows.new_claims:
            held[row[_CLAIM_ID]] = row
        updates: list[tuple[str, int, str]] = []
        for claim_id, (status, position) in rows.status_updates.items():
            held_row = held.get(claim_id)
            if held_row is None:
                updates.append((status, position, claim_id))
            else:
                held_row[_STATUS], held_row[_STATUS_POSITION] = status, position
        if len(held) > self.HELD_CLAIMS:
            oldest = list(itertools.islice(held, len(held) - self.HELD_CLAIMS // 2))
            self.insert_claims([held.pop(claim_id) for claim_id in oldest])
        if updates:  # claims written already
            mark = "?" if self.sqlite else "%s"
            sql = (
                f"UPDATE claims SET status = {mark}, status_position = {mark} "
                f"WHERE claim_id = {mark}"
            )
            with driver_errors(self.conn):
                if self.sqlite:
                    self._driver().executemany(sql, updates)
                else:
                    with self._driver().cursor() as cursor:
                        cursor.executemany(sql, updates)
        self.insert(status_changes_table, rows.status_changes)
        self.insert(history_table, [row for row in rows.history if row is not None])

    def flush_claims(self) -> None:
        """Write the claim rows still held back (the end of a rebuild)."""
        self.insert_claims(list(self._held.values()))
        self._held.clear()


# What makes a figure different (which claim backs it does not, on its own).
_FIGURE_FIELDS = (
    "value",
    "lower",
    "upper",
    "qualifier",
    "unit",
    "as_of",
    "low",
    "high",
    "conflict",
)


_figure_fields = operator.itemgetter(*_FIGURE_FIELDS)


def _figure_key(summary: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    return None if summary is None else tuple(_figure_fields(summary))


def _loads(text: str | None) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(text))


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _meta(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("measure", "subject", "place", "kind", "unit")}


def _stored_summary(row: Mapping[Any, Any]) -> dict[str, Any] | None:
    return None if row["summary_json"] is None else dict(json.loads(row["summary_json"]))


def claim_view_from_row(row: Mapping[Any, Any]) -> ClaimView:
    return ClaimView(
        claim_id=row["claim_id"],
        topic=row["topic"],
        kind=row["kind"],
        value=row["value"],
        lower=row["lower"],
        upper=row["upper"],
        qualifier=row["qualifier"],
        unit=row["unit"],
        as_of=row["as_of"],
        published_at=row["published_at"],
        attributed_to=row["attributed_to"],
        outlet=row["outlet"],
        article_id=row["article_id"],
        status=row["status"],
        position=row["asserted_position"],
    )


def _kept_view(row: Mapping[Any, Any]) -> ClaimView:
    """A claim the projection keeps in a topic's state (which may stay warm)."""
    return with_shared_strings(claim_view_from_row(row))


def _member_texts(text: str | None) -> tuple[str, str] | None:
    """The JSON texts of `article` and `claim` inside a ClaimAsserted event's stored data text:
    the stored text is canonical JSON (sorted keys, no spaces), so each is exactly
    canonical_json of that member. None if the text does not start the way canonical
    ClaimAsserted data does.

    Where `claim` ends: `claim_id`, a plain string, is the last key, so the last `,"claim_id":`
    is its key. Where `article` ends: a flat article (no `{` after its own) ends at the first
    `},"claim":{` (inside a JSON string a quote is escaped, so that cannot be string content);
    any other article is scanned by the C scanner."""
    if text is None or not text.startswith('{"article":'):
        return None
    claim_end = text.rfind(',"claim_id":')
    boundary = text.find('},"claim":{', 11)
    if (
        claim_end < 0
        or boundary < 0
        or text[claim_end - 1] != "}"
        or text.find("{", 12, boundary) >= 0
    ):
        try:
            _, end = _scan_json(text, 11)
            if not text.startswith(',"claim":', end):
                return None
            _, claim_end = _scan_json(text, end + 9)
        except StopIteration:
            return None
        return text[11:end], text[end + 9 : claim_end]
    return text[11 : boundary + 1], text[boundary + 10 : claim_end]


# The claims table's columns: a claim row is a list of its values in this order.
_CLAIM_COLUMNS = tuple(c.name for c in claims_table.c)
_CLAIM_ID = _CLAIM_COLUMNS.index("claim_id")
_STATUS = _CLAIM_COLUMNS.index("status")
_STATUS_POSITION = _CLAIM_COLUMNS.index("status_position")
_ASSERTED_AT = _CLAIM_COLUMNS.index("asserted_at")
_CLAIM_COLUMN_LIST = ", ".join(f'"{c}"' for c in _CLAIM_COLUMNS)
_CLAIMS_INSERT_SQLITE = (
    f"INSERT INTO claims ({_CLAIM_COLUMN_LIST}) VALUES ({', '.join('?' for _ in _CLAIM_COLUMNS)})"
)
_CLAIMS_COPY = f"COPY claims ({_CLAIM_COLUMN_LIST}) FROM STDIN"


def _claim_row(
    view: ClaimView,
    data: Mapping[str, Any],
    stream_id: str,
    position: int,
    recorded_at: datetime,
    text: str | None,
) -> list[Any]:
    """The claims row of a ClaimAsserted event, in `_CLAIM_COLUMNS` order."""
    claim = data["claim"]
    members = _member_texts(text)
    if members is None:
        members = canonical_json(data["article"]), canonical_json(claim)
    return [
        view.claim_id,
        view.topic,
        stream_id,
        view.article_id,
        claim["measure"],
        claim["subject"],
        claim.get("place"),
        view.kind,
        view.value,
        view.lower,
        view.upper,
        view.qualifier,
        view.unit,
        view.as_of,
        view.published_at,
        view.attributed_to,
        view.outlet,
        view.status,
        position,
        recorded_at,
        position,
        members[1],
        members[0],
    ]


Metadata = Mapping[str, Any] | str  # an event's metadata, or its stored JSON text


def _metadata(metadata: Metadata) -> Mapping[str, Any]:
    """An event's metadata, decoded if it is still its stored text (a rebuild decodes it only
    for the rows that need it)."""
    if isinstance(metadata, str):
        decoded: dict[str, Any] = load_json(metadata)
        return decoded
    return metadata


def _event_id_text(event_id: Any) -> str:
    """The canonical text of an event id, whether a UUID or SQLite's stored 32 hex digits."""
    return str(event_id if isinstance(event_id, uuid.UUID) else uuid.UUID(event_id))


def _topic_row(topic: str, state: _TopicState, document_json: str | None) -> dict[str, Any]:
    summary = state.summary or {}
    return {
        "topic": topic,
        **state.meta,
        "best_claim_id": summary.get("claim_id"),
        "value": summary.get("value"),
        "qualifier": summary.get("qualifier"),
        "as_of": summary.get("as_of"),
        "low": summary.get("low"),
        "high": summary.get("high"),
        "sources": state.decision_sources,
        "claims": len(state.figure),
        "conflict": bool(summary.get("conflict")),
        "summary_json": state.summary_json,
        "document_json": document_json,
        "updated_position": state.updated_position,
        "updated_at": state.updated_at,
    }
