"""What every request handler reaches for: the store, the projections, the settings, the actor."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from api.auth import TokenTable, current_actor
from factstore.config import Settings
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import EventStore


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: EventStore
    runner: ProjectionRunner
    tokens: TokenTable


def services() -> Services:
    found: Services = current_app.extensions["factstore"]
    return found


def reader() -> Services:
    """Services for a read; checks the token when reads are closed."""
    found = services()
    current_actor(found.tokens, write=False)
    return found


def writer() -> tuple[Services, str]:
    """Services and the actor for a write (a valid token is required)."""
    found = services()
    actor = current_actor(found.tokens, write=True)
    assert actor is not None
    return found, actor
