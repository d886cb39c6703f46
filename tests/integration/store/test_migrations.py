"""Alembic owns the schema: upgrading an empty database gives exactly what the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from factstore.store.database import create_store_engine
from factstore.store.schema import (
    current_revision,
    head_revision,
    include_object_for,
    require_current_schema,
    target_metadata,
    upgrade,
)


def test_upgrade_on_empty_database_gives_the_models_schema(fresh_database_url: str) -> None:
    engine = create_store_engine(fresh_database_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        upgrade(engine)  # idempotent
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_object": include_object_for(conn.dialect.name),
                    "compare_type": True,
                },
            )
            assert compare_metadata(context, target_metadata()) == []
            names = {c["name"] for c in inspect(conn).get_unique_constraints("events")}
            assert names == {"uq_events_event_id", "uq_events_stream_id_version"}
    finally:
        engine.dispose()


def test_commands_refuse_a_database_without_schema(fresh_database_url: str) -> None:
    import pytest

    from factstore.store.schema import SchemaNotCurrent

    engine = create_store_engine(fresh_database_url)
    try:
        with pytest.raises(SchemaNotCurrent, match="factstore db upgrade"):
            require_current_schema(engine)
    finally:
        engine.dispose()
