"""Typed errors of the event store. Callers (CLI, API) map them to exit codes and HTTP statuses."""

from __future__ import annotations

import uuid


class StoreError(Exception):
    """Base class for every error the store raises on purpose."""


class WrongExpectedVersion(StoreError):
    """The stream is not at the version the writer expected: nothing was written."""

    def __init__(self, stream_id: str, expected: object, actual: int | None) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        shown = "no stream" if actual is None else f"version {actual}"
        super().__init__(f"stream {stream_id!r}: expected {expected}, but it is at {shown}")


class EventIdReused(StoreError):
    """An event id that is already stored was sent again with different content."""

    def __init__(self, event_id: uuid.UUID, detail: str) -> None:
        self.event_id = event_id
        super().__init__(f"event id {event_id} is already stored with different {detail}")


class InvalidEvent(StoreError):
    """The event cannot be stored as given (not JSON-encodable, empty type, bad stream id...)."""


class UnsupportedDatabase(StoreError):
    """The database URL names a backend factstore does not support."""


class ImportRefused(StoreError):
    """An import that cannot go in as given (the target is not empty, or the imported log does
    not verify): nothing was written."""
