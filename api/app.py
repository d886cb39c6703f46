"""The Flask application factory: the web layer over the factstore package."""

from __future__ import annotations

from typing import Any

from flask import Flask

from factstore.config import Settings
from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(overrides)
    engine = create_store_engine(settings.database_url)
    app.extensions["factstore"] = EventStore(engine)

    from api import errors, health

    errors.register(app)
    app.register_blueprint(health.blueprint, url_prefix="/v1")
    return app
