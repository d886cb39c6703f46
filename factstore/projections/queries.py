"""The read side: figures, history, topics and claims, now or as of any past point in both times.

`known_at` (transaction time) is a log position, or a timestamp that resolves to the last
position recorded by then. `valid_at` (valid time) is a date: only claims about that date or
earlier count. A figure as of any point is computed by replaying one topic's claims and their
status changes up to that position through the pure policy: the cost depends on the topic's
size, never on the size of the log, and the answer equals a replay of the log by construction.
The dicts returned here are the JSON the CLI prints and the API serves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, or_, select

from factstore.domain.claim_status import status_at
from factstore.domain.figures import (
    ClaimView,
    FigureDecision,
    PolicyConfig,
    decide,
    figure_summary,
)
from factstore.projections.documents import (
    AsOf,
    RowLike,
    aware,
    claim_document,
    driver_rows,
    figure_document,
    number,
    shown_claims,
    topic_claim_rows,
)
from factstore.projections.documents import (
    claim_rows as claim_rows,  # re-exported: api.pages reads chart points' rows
)
from factstore.projections.figures import claim_view_from_row
from factstore.projections.models import (
    CLAIM_VIEW_COLUMNS,
    articles_table,
    claims_table,
    history_table,
    status_changes_table,
    topics_table,
)
from factstore.store.hashing import format_timestamp
from factstore.store.models import events_table
from factstore.whole_numbers import parse_whole_number

# The policy when none is given: one instance, so its authority cache lasts across reads.
DEFAULT_POLICY = PolicyConfig()


class InvalidQuery(ValueError):
    """A query parameter that cannot be understood (the message says which and why)."""


def resolve_as_of(
    conn: Connection, known_at: str | int | datetime | None, valid_at: str | None
) -> AsOf:
    return AsOf(_resolve_known_at(conn, known_at), _parse_valid_at(valid_at))


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"([Zz]|[+-]\d{2}:?\d{2})?)?"
)


# Past every log's head, and within the databases' 64-bit integers.
MAX_POSITION = 2**62


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 date or timestamp (UTC when no offset); None if it is not one.
    A leap second (:60) counts as :59; digits past microseconds are dropped."""
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        zone = UTC
        if offset and offset not in ("Z", "z"):
            sign = 1 if offset[0] == "+" else -1
            hours, minutes = int(offset[1:3]), int(offset[-2:])
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            min(int(second or 0), 59),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError:
        return None


def _resolve_known_at(conn: Connection, known_at: str | int | datetime | None) -> int | None:
    if known_at is None or known_at == "":
        return None
    if isinstance(known_at, datetime):
        moment: datetime | None = known_at
    else:
        position = known_at if isinstance(known_at, int) else parse_whole_number(known_at)
        if position is not None:
            # Positions past the head mean "now"; clamp what no log will ever reach (and no
            # database integer holds).
            return min(position, MAX_POSITION)
        moment = parse_timestamp(str(known_at))
    if moment is None:
        raise InvalidQuery(
            f"known_at must be a log position or an ISO 8601 timestamp, not {known_at!r}"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    e = events_table.c
    position = conn.execute(select(func.max(e.position)).where(e.recorded_at <= moment)).scalar()
    return int(position or 0)


def _parse_valid_at(valid_at: str | None) -> str | None:
    if not valid_at:
        return None
    try:
        return datetime.fromisoformat(valid_at).date().isoformat()
    except ValueError as error:
        raise InvalidQuery(f"valid_at must be an ISO 8601 date, not {valid_at!r}") from error


# --- one topic -------------------------------------------------------------------------------

# Built once: the hot read path then skips building and hashing the statement per request.
_TOPIC_ROW = select(topics_table).where(topics_table.c.topic == bindparam("topic"))
# What a figure document shows of its topic (documents.figure_document): not the stored current
# document (tens of KB for a big topic), which a read of a past figure does not use.
_TOPIC_KEYS = select(
    *(topics_table.c[name] for name in ("topic", "measure", "subject", "place", "kind", "unit"))
).where(topics_table.c.topic == bindparam("topic"))
_TOPIC_VERSION = select(topics_table.c.updated_position).where(
    topics_table.c.topic == bindparam("topic")
)
_TOPIC_CLAIMS = (
    select(claims_table)
    .where(claims_table.c.topic == bindparam("topic"))
    .order_by(claims_table.c.asserted_position)
)
_TOPIC_CLAIMS_KNOWN_AT = _TOPIC_CLAIMS.where(
    claims_table.c.asserted_position <= bindparam("position")
)
_TOPIC_STATUS_CHANGES_KNOWN_AT = (
    select(status_changes_table.c.claim_id, status_changes_table.c.status)
    .where(
        status_changes_table.c.topic == bindparam("topic"),
        status_changes_table.c.position <= bindparam("position"),
    )
    .order_by(status_changes_table.c.position, status_changes_table.c.id)
)
# What the policy reads of a claim (ClaimView's fields, in its order) and the position of its
# last status change: narrow rows, so a read's cost per claim stays small; the full rows
# (provenance texts) are read only for the claims a figure document shows.
_VIEW_COLUMNS = (*CLAIM_VIEW_COLUMNS, claims_table.c.status_position)
_TOPIC_VIEWS = (
    select(*_VIEW_COLUMNS)
    .where(claims_table.c.topic == bindparam("topic"))
    .order_by(claims_table.c.asserted_position)
)
_TOPIC_VIEWS_KNOWN_AT = _TOPIC_VIEWS.where(
    claims_table.c.asserted_position <= bindparam("position")
)
_TOPIC_HISTORY = (
    select(history_table)
    .where(history_table.c.topic == bindparam("topic"))
    .order_by(history_table.c.position, history_table.c.id)
)


def topic_row(conn: Connection, topic: str) -> RowLike | None:
    """The topic's row in the topics table (its keys, current summary, version); None if none."""
    return conn.execute(_TOPIC_ROW, {"topic": topic}).mappings().first()


def topic_keys(conn: Connection, topic: str) -> RowLike | None:
    """The topic's keys, all a figure document shows of the topic row; None if no such topic."""
    rows = driver_rows(conn, _TOPIC_KEYS, {"topic": topic})
    return dict(zip(_TOPIC_KEYS.selected_columns.keys(), rows[0], strict=True)) if rows else None


def topic_version(conn: Connection, topic: str) -> int | None:
    """The position of the last event that changed the topic; None if there is no such topic."""
    position = conn.execute(_TOPIC_VERSION, {"topic": topic}).scalar()
    return None if position is None else int(position)


def topic_claims(conn: Connection, topic: str, as_of: AsOf) -> list[tuple[ClaimView, RowLike]]:
    """The topic's claims known at `as_of.position`, each with its status as of then."""
    if as_of.position is None:
        rows = list(conn.execute(_TOPIC_CLAIMS, {"topic": topic}).mappings())
        return [(claim_view_from_row(row), row) for row in rows]
    position = as_of.position
    params = {"topic": topic, "position": position}
    rows = list(conn.execute(_TOPIC_CLAIMS_KNOWN_AT, params).mappings())
    # A claim whose last status change is at or before the position had its current status
    # then; only the others need their changes (most reads need none: one query less).
    changes: dict[str, list[str]] = {}
    if any(row["status_position"] > position for row in rows):
        for claim_id, status in conn.execute(_TOPIC_STATUS_CHANGES_KNOWN_AT, params):
            changes.setdefault(claim_id, []).append(status)
    result: list[tuple[ClaimView, RowLike]] = []
    for row in rows:
        view = claim_view_from_row(row)
        if row["status_position"] > position:
            view = _replace_status(view, status_at(changes.get(view.claim_id, [])))
        result.append((view, row))
    return result


def _replace_status(view: ClaimView, status: str) -> ClaimView:
    return view if view.status == status else view._replace(status=status)


def topic_figure(
    engine: Engine,
    topic: str,
    *,
    known_at: str | int | datetime | None = None,
    valid_at: str | None = None,
    policy: PolicyConfig | None = None,
) -> dict[str, Any] | None:
    """The topic's best figure with provenance, range and competing claims; None if unknown."""
    with engine.connect() as conn:
        as_of = resolve_as_of(conn, known_at, valid_at)
        meta = topic_keys(conn, topic)
        if meta is None:
            return None
        return figure_for(conn, meta, as_of, policy)


def figure_for(
    conn: Connection, meta: RowLike, as_of: AsOf, policy: PolicyConfig | None = None
) -> dict[str, Any] | None:
    """`topic_figure` for a topic row already read (`topic_row` or `topic_keys`); None if no
    claims at as_of."""
    return figure_from_views(conn, meta, topic_views(conn, meta["topic"], as_of), as_of, policy)


def figure_from_views(
    conn: Connection,
    meta: RowLike,
    views: Sequence[ClaimView],
    as_of: AsOf,
    policy: PolicyConfig | None = None,
) -> dict[str, Any] | None:
    """The figure document decided from `topic_views`: full rows are read only for the claims
    it shows (the best and the latest competing), however many claims the topic has."""
    if not views:
        return None
    decision = decide(views, policy or DEFAULT_POLICY, as_of.valid_at)
    rows = topic_claim_rows(conn, meta["topic"], shown_claims(decision))
    return figure_document(meta, decision, rows, as_of, len(views))


def topic_views(conn: Connection, topic: str, as_of: AsOf) -> list[ClaimView]:
    """`topic_claims` without the full rows: the policy's view of each claim known at
    `as_of.position`, with its status then, in log order."""
    position = as_of.position
    make = ClaimView._make
    if position is None:
        return [make(r[:15]) for r in driver_rows(conn, _TOPIC_VIEWS, {"topic": topic})]
    params = {"topic": topic, "position": position}
    rows = driver_rows(conn, _TOPIC_VIEWS_KNOWN_AT, params)
    if all(r[15] <= position for r in rows):  # see topic_claims
        return [make(r[:15]) for r in rows]
    changes: dict[str, list[str]] = {}
    for claim_id, status in driver_rows(conn, _TOPIC_STATUS_CHANGES_KNOWN_AT, params):
        changes.setdefault(claim_id, []).append(status)
    return [
        make(r[:15])
        if r[15] <= position
        else make((*r[:13], status_at(changes.get(r[0], [])), r[14]))
        for r in rows
    ]


def topic_history(
    engine: Engine, topic: str, *, known_at: str | int | datetime | None = None
) -> list[dict[str, Any]] | None:
    """Every change of the topic's figure, oldest first; None if the topic is unknown."""
    with engine.connect() as conn:
        as_of = resolve_as_of(conn, known_at, None)
        if topic_version(conn, topic) is None:
            return None
        return history_for(conn, topic, as_of)


def history_for(conn: Connection, topic: str, as_of: AsOf) -> list[dict[str, Any]]:
    """`topic_history` for a topic known to exist, as of a resolved point."""
    query = _TOPIC_HISTORY
    if as_of.position is not None:
        query = query.where(history_table.c.position <= as_of.position)
    return [history_document(row) for row in conn.execute(query, {"topic": topic}).mappings()]


def history_document(row: RowLike) -> dict[str, Any]:
    before = None if row["before_json"] is None else json.loads(row["before_json"])
    after = None if row["after_json"] is None else json.loads(row["after_json"])
    return {
        "position": row["position"],
        "recorded_at": format_timestamp(aware(row["recorded_at"])),
        "valid_as_of": None if after is None else after.get("as_of"),
        "from": _figure_numbers(before),
        "to": _figure_numbers(after),
        "cause": {
            "event_type": row["cause_event_type"],
            "event_id": row["cause_event_id"],
            "claim_id": row["cause_claim_id"],
            "detail": row["cause_detail"],
        },
        "conflict": bool(row["conflict"]),
    }


# --- many topics -------------------------------------------------------------------------------

SORTS = {
    "topic": topics_table.c.topic,
    "value": topics_table.c.value,
    "as_of": topics_table.c.as_of,
    "sources": topics_table.c.sources,
    "updated": topics_table.c.updated_position,
}


def list_topics(
    engine: Engine,
    *,
    measure: str | None = None,
    subject: str | None = None,
    place: str | None = None,
    search: str | None = None,
    known_at: str | int | datetime | None = None,
    valid_at: str | None = None,
    sort: str = "topic",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
    policy: PolicyConfig | None = None,
) -> tuple[list[dict[str, Any]], int, AsOf]:
    """(topics of this page with their best figure, total matching, the point in time)."""
    if sort not in SORTS:
        raise InvalidQuery(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    t = topics_table.c
    conditions = []
    if measure:
        conditions.append(t.measure == measure)
    if subject:
        conditions.append(t.subject == subject)
    if place:
        # A place matches itself and the places inside it (mosul matches mosul-west).
        conditions.append(or_(t.place == place, t.place.like(f"{_escape_like(place)}-%", "\\")))
    if search:
        conditions.append(t.topic.like(f"%{_escape_like(search.lower())}%", "\\"))
    where = and_(*conditions) if conditions else and_(True)
    with engine.connect() as conn:
        as_of = resolve_as_of(conn, known_at, valid_at)
        if as_of.position is not None:
            # Topics that had no claim yet at that position do not exist then.
            first = (
                select(claims_table.c.topic)
                .where(claims_table.c.asserted_position <= as_of.position)
                .distinct()
            )
            where = and_(where, t.topic.in_(first))
        total = conn.execute(select(func.count()).select_from(topics_table).where(where)).scalar()
        order = SORTS[sort].desc() if descending else SORTS[sort].asc()
        query = (
            select(topics_table).where(where).order_by(order, t.topic).limit(limit).offset(offset)
        )
        rows = list(conn.execute(query).mappings())
        if as_of.position is None and as_of.valid_at is None:
            items = [_current_topic_summary(row) for row in rows]
        else:
            items = []
            for row in rows:
                views = topic_views(conn, row["topic"], as_of)
                decision = decide(views, policy or DEFAULT_POLICY, as_of.valid_at)
                items.append(_decided_topic_summary(row, decision, len(views)))
        return items, int(total or 0), as_of


def list_measures(engine: Engine) -> list[str]:
    """Every measure some topic counts (killed, displaced…), for a filter's choices."""
    measure = topics_table.c.measure
    with engine.connect() as conn:
        return list(conn.execute(select(measure).distinct().order_by(measure)).scalars())


def _current_topic_summary(row: RowLike) -> dict[str, Any]:
    summary = None if row["summary_json"] is None else json.loads(row["summary_json"])
    return {
        **{k: row[k] for k in ("topic", "measure", "subject", "place", "kind", "unit")},
        "figure": _figure_numbers(summary),
        "sources": row["sources"],
        "claims": row["claims"],
        "conflict": bool(row["conflict"]),
    }


def _decided_topic_summary(
    row: RowLike, decision: FigureDecision, claim_count: int
) -> dict[str, Any]:
    return {
        **{k: row[k] for k in ("topic", "measure", "subject", "place", "kind", "unit")},
        "figure": _figure_numbers(figure_summary(decision)),
        "sources": decision.sources,
        "claims": claim_count,
        "conflict": decision.conflict,
    }


# --- claims ----------------------------------------------------------------------------------


def get_claim(engine: Engine, claim_id: str) -> dict[str, Any] | None:
    """A claim with full provenance and every status change it went through."""
    c, s = claims_table.c, status_changes_table.c
    with engine.connect() as conn:
        row = conn.execute(select(claims_table).where(c.claim_id == claim_id)).mappings().first()
        if row is None:
            return None
        changes = conn.execute(
            select(status_changes_table).where(s.claim_id == claim_id).order_by(s.position, s.id)
        ).mappings()
        return {
            **claim_document(row),
            "status_history": [
                {
                    "status": change["status"],
                    "event_type": change["event_type"],
                    "reason": change["reason"],
                    "actor": change["actor"],
                    "position": change["position"],
                    "recorded_at": format_timestamp(aware(change["recorded_at"])),
                }
                for change in changes
            ],
        }


def list_claims(
    engine: Engine,
    *,
    topic: str | None = None,
    stream_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    c = claims_table.c
    conditions = []
    if topic is not None:
        conditions.append(c.topic == topic)
    if stream_id is not None:
        conditions.append(c.stream_id == stream_id)
    if status is not None:
        conditions.append(c.status == status)
    where = and_(*conditions) if conditions else and_(True)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(claims_table).where(where)).scalar()
        query = (
            select(claims_table)
            .where(where)
            .order_by(c.asserted_position)
            .limit(limit)
            .offset(offset)
        )
        return [claim_document(r) for r in conn.execute(query).mappings()], int(total or 0)


_ARTICLE_ROW = select(articles_table).where(articles_table.c.stream_id == bindparam("stream_id"))
_ARTICLE_CLAIMS = (
    select(claims_table)
    .where(claims_table.c.stream_id == bindparam("stream_id"))
    .order_by(claims_table.c.asserted_position)
)


def article_with_claims(conn: Connection, stream_id: str) -> dict[str, Any] | None:
    """An article's current state and every claim extracted from it (the API's article
    document); None if there is no such article. Statements built once: a hot read."""
    row = conn.execute(_ARTICLE_ROW, {"stream_id": stream_id}).mappings().first()
    if row is None:
        return None
    return {**article_document(row), "claims": article_claims(conn, stream_id)}


def article_claims(conn: Connection, stream_id: str) -> list[dict[str, Any]]:
    """Every claim extracted from an article, in log order (what a POST answers with)."""
    rows = conn.execute(_ARTICLE_CLAIMS, {"stream_id": stream_id}).mappings()
    return [claim_document(r) for r in rows]


def get_article(engine: Engine, stream_id: str) -> dict[str, Any] | None:
    a = articles_table.c
    with engine.connect() as conn:
        row = (
            conn.execute(select(articles_table).where(a.stream_id == stream_id)).mappings().first()
        )
    return None if row is None else article_document(row)


def article_document(row: RowLike) -> dict[str, Any]:
    """An article's current state, from its row in the articles projection."""
    return {
        **{k: row[k] for k in ("stream_id", "article_id", "title", "outlet", "url")},
        "published_at": row["published_at"],
        "content_hash": row["content_hash"],
        "extractor_version": row["extractor_version"],
        "status": row["status"],
        "version": row["version"],
        "revisions": row["revisions"],
        "ingested_at": format_timestamp(aware(row["ingested_at"])),
        "updated_at": format_timestamp(aware(row["updated_at"])),
    }


# --- helpers ---------------------------------------------------------------------------------


FIGURE_KEYS = (
    "claim_id",
    "value",
    "lower",
    "upper",
    "qualifier",
    "unit",
    "as_of",
    "low",
    "high",
    "source",
)
NUMBERS = frozenset({"value", "lower", "upper", "low", "high"})


def _figure_numbers(summary: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {
        key: number(summary.get(key)) if key in NUMBERS else summary.get(key) for key in FIGURE_KEYS
    }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
