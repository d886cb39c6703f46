"""The whole log as JSON Lines, and back.

    {"format": "factstore-export", "format_version": 1}
    {"position": 1, "event_id": "…", "stream_id": "…", "version": 1, ...}     (one per event)
    {"end": true, "events": N, "digest": "sha256:<log hash>@N"}

Each event line carries every stored column, hashes included, so an import can write the log
exactly as it was and check each event against its hashes before it does. The closing line
makes a truncated file fail the import instead of importing a shorter log that still verifies.
Both directions stream: memory does not grow with the log.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from factstore.domain.events import RecordedEvent
from factstore.store.event_store import EventStore
from factstore.store.hashing import (
    GENESIS_HASH,
    canonical_json,
    format_timestamp,
    lone_surrogate_at,
)
from factstore.store.verification import format_digest

FORMAT = "factstore-export"
FORMAT_VERSION = 1
_HEADER = {"format": FORMAT, "format_version": FORMAT_VERSION}
_FIELDS = (
    "position",
    "event_id",
    "stream_id",
    "version",
    "type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
    "prev_hash",
    "hash",
    "log_hash",
)


class ExportFormatError(ValueError):
    """The input is not a complete factstore export."""


def export_lines(store: EventStore, batch_size: int = 5000) -> Iterator[str]:
    """The log up to its head when the export starts, one JSON text per line (no newlines)."""
    head, _ = store.head()
    yield canonical_json(_HEADER)
    count, last_log_hash = 0, GENESIS_HASH
    for event in store.iter_all(0, batch_size):
        if event.position > head:
            break
        yield canonical_json(event_record(event))
        count, last_log_hash = event.position, event.log_hash
    yield canonical_json(_closing(count, last_log_hash))


def _closing(count: int, last_log_hash: str) -> dict[str, Any]:
    return {"end": True, "events": count, "digest": format_digest(last_log_hash, count)}


def event_record(event: RecordedEvent) -> dict[str, Any]:
    return {
        "position": event.position,
        "event_id": str(event.event_id),
        "stream_id": event.stream_id,
        "version": event.version,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "metadata": event.metadata,
        "recorded_at": format_timestamp(event.recorded_at),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "log_hash": event.log_hash,
    }


def read_export(lines: Iterable[str]) -> Iterator[RecordedEvent]:
    """The events of an export, in order. Raises ExportFormatError on a line that is not what
    the format says, or when the closing line is missing or disagrees with the events read
    (the error comes after the last event: an importer must not commit before the end)."""
    iterator = enumerate(lines, 1)
    header = _json_line(next(iterator, (1, ""))[1], 1)
    if header != _HEADER:
        raise ExportFormatError(
            f"line 1: not a factstore export (expected {canonical_json(_HEADER)})"
        )
    count, last_log_hash = 0, GENESIS_HASH
    for number, line in iterator:
        record = _json_line(line, number)
        if record.get("end") is True:
            if record != _closing(count, last_log_hash):
                raise ExportFormatError(
                    f"line {number}: the closing line does not match the {count} events read"
                )
            if next(iterator, None) is not None:
                raise ExportFormatError(f"line {number + 1}: data after the closing line")
            return
        event = _event(record, number)
        count, last_log_hash = count + 1, event.log_hash
        yield event
    raise ExportFormatError("the export ends without its closing line (truncated?)")


def _json_line(line: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError as error:
        raise ExportFormatError(f"line {number}: not JSON ({error})") from error
    if not isinstance(value, dict):
        raise ExportFormatError(f"line {number}: not a JSON object")
    # Only a \u escape can make a lone surrogate out of valid UTF-8; no event hash covers one.
    if "\\u" in line and lone_surrogate_at(canonical_json(value)) is not None:
        raise ExportFormatError(f"line {number}: not Unicode text (a lone surrogate, e.g. \\ud800)")
    return value


def _event(record: dict[str, Any], number: int) -> RecordedEvent:
    if set(record) != set(_FIELDS):
        raise ExportFormatError(f"line {number}: an event needs exactly the fields {_FIELDS}")
    try:
        recorded_at = datetime.fromisoformat(record["recorded_at"])
        ints = [record[k] for k in ("position", "version", "schema_version")]
        texts = [record[k] for k in ("stream_id", "type", "prev_hash", "hash", "log_hash")]
        if any(type(v) is not int for v in ints) or any(not isinstance(v, str) for v in texts):
            raise TypeError("position, version and schema_version are integers; ids are text")
        if not isinstance(record["data"], dict) or not isinstance(record["metadata"], dict):
            raise TypeError("data and metadata are JSON objects")
        if recorded_at.tzinfo is None:
            raise ValueError("recorded_at needs its zone (UTC, 'Z')")
        return RecordedEvent(
            event_id=uuid.UUID(record["event_id"]),
            stream_id=record["stream_id"],
            version=record["version"],
            position=record["position"],
            type=record["type"],
            schema_version=record["schema_version"],
            data=record["data"],
            metadata=record["metadata"],
            recorded_at=recorded_at,
            prev_hash=record["prev_hash"],
            hash=record["hash"],
            log_hash=record["log_hash"],
        )
    except (TypeError, ValueError, AttributeError) as error:
        raise ExportFormatError(f"line {number}: {error}") from error
