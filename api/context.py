"""What every request handler reaches for: the store, the projections, the settings, the actor."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Connection

from api import consistency
from api.auth import TokenTable, current_actor
from factstore.config import Settings
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import EventStore


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    # The primary: every write, the projection runner, and reads when there is no replica.
    store: EventStore
    runner: ProjectionRunner
    tokens: TokenTable
    # The read replica (FACTSTORE_READ_DATABASE_URL), on a read-only engine; None without one.
    replica: EventStore | None = None


@dataclass(frozen=True, slots=True)
class ReadServices:
    """What a read handler gets: a store to read from, never the runner or a way to write."""

    settings: Settings
    store: EventStore

    @staticmethod
    def connect() -> AbstractContextManager[Connection]:
        """A connection to `store` at (at least) the response's position: the one the
        position was read on, so a read costs one checkout (and on SQLite one snapshot)."""
        return consistency.read_connection()


def services() -> Services:
    found: Services = current_app.extensions["factstore"]
    return found


def reader() -> ReadServices:
    """Services for a read, from the replica or the primary as `min_position` requires (see
    api.consistency); checks the token when reads are closed."""
    found = services()
    current_actor(found.tokens, write=False)
    store = consistency.read_store(
        found.store,
        found.replica,
        list(found.runner.projections),
        found.settings.min_position_wait_ms,
    )
    return ReadServices(settings=found.settings, store=store)


def writer() -> tuple[Services, str]:
    """Services and the actor for a write (a valid token is required); the response will carry
    the primary's position after the write."""
    found = services()
    actor = current_actor(found.tokens, write=True)
    assert actor is not None
    consistency.wrote(found.store, list(found.runner.projections))
    return found, actor
