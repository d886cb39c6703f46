"""The figure document of a topic (best figure, provenance, range, competing claims), as the CLI
prints it and the API serves it, and its JSON encoding.

The read side (`queries`) builds it for any point in both times; the `figures` projection
builds the current one whenever a topic changes and stores it encoded (`topics.document_json`),
so reading a topic's current figure is one row read, however many claims the topic has.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Dialect, Select, bindparam, select

from factstore.domain.figures import ClaimView, FigureDecision
from factstore.projections.models import claims_table
from factstore.projections.runner import driver_errors, load_json
from factstore.store.hashing import format_timestamp

# A database row as a mapping (SQLAlchemy's RowMapping) or any dict shaped like one.
RowLike = Mapping[Any, Any]

COMPETING_SHOWN = 20

# Sorted keys and ASCII, as Flask's JSON provider writes them: a stored document is served as
# is, so it must be the bytes the API would have written (tests/integration/api/test_read_path.py).
_ENCODER = json.JSONEncoder(ensure_ascii=True, sort_keys=True)
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class AsOf:
    """A point in both times. None means 'now' (transaction time) or 'no limit' (valid time)."""

    position: int | None = None
    valid_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"known_at_position": self.position, "valid_at": self.valid_at}


NOW = AsOf()


def encode_document(document: Any) -> str:
    """A document of plain dicts, lists, str, numbers, bools and None as JSON text (ASCII)."""
    return _ENCODER.encode(document)


def claim_rows(conn: Connection, claim_ids: Iterable[str]) -> dict[str, RowLike]:
    """Full claims-index rows by claim id (indexed reads of just these)."""
    ids = sorted(set(claim_ids))
    found: dict[str, RowLike] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        width = _FEW if len(chunk) <= _FEW else _CHUNK
        statement = _claim_rows_statement(width)
        names = statement.selected_columns.keys()
        # Unused places repeat the last id: both databases look each distinct value up once.
        params = {f"id{i}": chunk[min(i, len(chunk) - 1)] for i in range(width)}
        for row in driver_rows(conn, statement, params):
            record = dict(zip(names, row, strict=True))
            found[record["claim_id"]] = record
    return found


def topic_claim_rows(
    conn: Connection, topic: str, claims: Sequence[ClaimView]
) -> dict[str, RowLike]:
    """`claim_rows` of a few claims of one topic, found by (topic, position) in ix_claims_topic,
    the index and table pages `queries.topic_views` has just read. By claim id, the primary
    key's own index adds pages that at 1M events are cold (each claim of a big topic sits on its
    own page of both)."""
    positions = sorted({claim.position for claim in claims})
    if not positions:
        return {}
    if len(positions) > _FEW:
        return claim_rows(conn, [claim.claim_id for claim in claims])
    wanted = {claim.claim_id for claim in claims}
    statement = _TOPIC_CLAIM_ROWS
    names = statement.selected_columns.keys()
    params: dict[str, Any] = {"topic": topic}
    params.update((f"p{i}", positions[min(i, len(positions) - 1)]) for i in range(_FEW))
    found: dict[str, RowLike] = {}
    for row in driver_rows(conn, statement, params):
        record = dict(zip(names, row, strict=True))
        if record["claim_id"] in wanted:  # a position is one event's, but be exact
            found[record["claim_id"]] = record
    return found


# Two statements serve any number of ids: one per count would compile its SQL at the first
# read of each count (~0.7 ms, met 21 times by a server: enough to set a short run's p99).
_FEW = max(32, 1 + COMPETING_SHOWN)  # at least the claims a figure document shows


@functools.cache
def _claim_rows_statement(width: int) -> Select[Any]:
    """The full rows of up to `width` claim ids, one parameter each (SQLAlchemy's expanding
    IN would re-render its SQL at every execution)."""
    marks = [bindparam(f"id{i}", type_=claims_table.c.claim_id.type) for i in range(width)]
    return select(claims_table).where(claims_table.c.claim_id.in_(marks))


_TOPIC_CLAIM_ROWS = select(claims_table).where(
    claims_table.c.topic == bindparam("topic"),
    claims_table.c.asserted_position.in_(
        [bindparam(f"p{i}", type_=claims_table.c.asserted_position.type) for i in range(_FEW)]
    ),
)


def driver_rows(conn: Connection, statement: Select[Any], params: Mapping[str, Any]) -> list[Any]:
    """The rows of a statement built once, as tuples from the driver: SQLAlchemy's result
    rows cost about as much per row as reading a narrow row (`queries.topic_views`). Only
    DateTime results are converted (SQLite stores text; the other columns of the projection
    tables come back from both drivers as SQLAlchemy returns them: str, int, float). Runs in
    `conn`'s transaction, begun here if it is not yet (as conn.execute would)."""
    sql, names, converters = _driver_sql(statement, conn.dialect)
    if not conn.in_transaction():
        conn.begin()
    driver = conn.connection.driver_connection
    with driver_errors(conn):
        cursor = driver.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params if names is None else tuple(params[n] for n in names))
            rows: list[Any] = cursor.fetchall()
        finally:
            cursor.close()
    if converters:
        rows = [_convert(row, converters) for row in rows]
    return rows


def _convert(row: Sequence[Any], converters: Sequence[tuple[int, Callable[[Any], Any]]]) -> Any:
    values = list(row)
    for index, convert in converters:
        values[index] = convert(values[index])
    return tuple(values)


# (SQL text, parameter names in order for a positional paramstyle else None, DateTime converters)
_DriverSql = tuple[str, tuple[str, ...] | None, tuple[tuple[int, Callable[[Any], Any]], ...]]
_DRIVER_SQL: dict[tuple[int, str], tuple[Select[Any], _DriverSql]] = {}


def _driver_sql(statement: Select[Any], dialect: Dialect) -> _DriverSql:
    """(SQL text, parameter names in order for a positional paramstyle else None, the
    converters of DateTime results by column index) of a statement, compiled once."""
    key = (id(statement), dialect.name)
    found = _DRIVER_SQL.get(key)
    if found is None or found[0] is not statement:  # the entry keeps its statement alive
        compiled = statement.compile(dialect=dialect)
        names = None if compiled.positiontup is None else tuple(compiled.positiontup)
        converters = tuple(
            (index, convert)
            for index, column in enumerate(statement.selected_columns)
            if isinstance(column.type, DateTime)
            and (convert := column.type.dialect_impl(dialect).result_processor(dialect, None))
        )
        found = _DRIVER_SQL[key] = (statement, (compiled.string, names, converters))
    return found[1]


def shown_claims(decision: FigureDecision) -> list[ClaimView]:
    """The claims a figure document shows in full: the best and the latest competing ones."""
    if decision.best is None:
        return []
    return [decision.best, *decision.competing[-COMPETING_SHOWN:]]


def current_documents(
    conn: Connection, topics: Sequence[tuple[RowLike, FigureDecision | None, int]]
) -> list[str | None]:
    """The encoded current document of each (topic keys, its decision, its number of claims),
    as `figure_document` makes it (None for a topic without claims): full rows are read for
    the shown claims of all the topics together."""
    wanted = [c.claim_id for _, d, _ in topics if d is not None for c in shown_claims(d)]
    rows = claim_rows(conn, wanted)
    return [
        None
        if decision is None
        else encode_document(figure_document(meta, decision, rows, NOW, count))
        for meta, decision, count in topics
    ]


def figure_document(
    meta: RowLike,
    decision: FigureDecision,
    rows: Mapping[str, RowLike],
    as_of: AsOf,
    claim_count: int,
) -> dict[str, Any]:
    best = decision.best
    figure = None
    if best is not None:
        figure = {
            "value": number(best.value),
            "lower": number(best.lower),
            "upper": number(best.upper),
            "qualifier": best.qualifier,
            "unit": best.unit,
            "as_of": best.as_of,
            "low": number(decision.low),
            "high": number(decision.high),
            "sources": decision.sources,
            "conflict": decision.conflict,
            "conflicts": list(decision.conflicts),
            "explanation": list(decision.explanation),
            "provenance": claim_document(rows[best.claim_id], status=best.status),
        }
    return {
        "topic": meta["topic"],
        "measure": meta["measure"],
        "subject": meta["subject"],
        "place": meta["place"],
        "kind": meta["kind"],
        "unit": meta["unit"],
        **as_of.to_dict(),
        "figure": figure,
        # The latest competing claims; all of them are at /topics/{topic}/claims. A topic with
        # thousands of disagreeing reports must not make every read of its figure huge.
        "competing": [
            claim_document(rows[c.claim_id], status=c.status)
            for c in decision.competing[-COMPETING_SHOWN:]
        ],
        "competing_total": len(decision.competing),
        "claims": claim_count,
    }


def claim_document(row: RowLike, *, status: str | None = None) -> dict[str, Any]:
    """A claim with its full provenance: what, where in which article, who said it, when."""
    claim = load_json(row["claim_json"])
    article = load_json(row["article_json"])
    return {
        "claim_id": row["claim_id"],
        "topic": row["topic"],
        "status": status or row["status"],
        "value": number(row["value"]),
        "lower": number(row["lower"]),
        "upper": number(row["upper"]),
        "qualifier": row["qualifier"],
        "unit": row["unit"],
        "stated_unit": claim.get("stated_unit"),
        "measure": row["measure"],
        "subject": row["subject"],
        "place": row["place"],
        "kind": row["kind"],
        "as_of": row["as_of"],
        "as_of_inferred": claim.get("as_of_inferred"),
        "valid_from": claim.get("valid_from"),
        "attributed_to": row["attributed_to"],
        "quote": claim.get("quote"),
        "sentence": claim.get("sentence"),
        "start": claim.get("start"),
        "end": claim.get("end"),
        "rule": claim.get("rule"),
        "extractor_version": claim.get("extractor_version"),
        "article": {"stream_id": row["stream_id"], **article},
        "position": row["asserted_position"],
        "recorded_at": format_timestamp(aware(row["asserted_at"])),
    }


def number(value: float | int | None) -> float | int | None:
    """Integral figures print as integers (1321, not 1321.0)."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
