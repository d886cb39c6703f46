"""Alembic environment: the models' metadata is the target; the URL comes from factstore's config
(or from a connection handed in by `factstore.store.schema.upgrade`)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from factstore.config import Settings
from factstore.store.database import create_store_engine
from factstore.store.schema import include_object_for, target_metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        include_object=include_object_for(connection.dialect.name),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = create_store_engine(url)
    with engine.connect() as conn:
        run_with(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run against a database")
run_online()
