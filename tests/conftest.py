"""One fixture set gives every test a fresh, migrated store on the backend under test.

FACTSTORE_TEST_DATABASE_URL unset: SQLite files in a temporary folder.
FACTSTORE_TEST_DATABASE_URL=postgresql+psycopg://…: each test gets its own schema in that
database (search_path set through the URL, so subprocesses see the same store); a server that
cannot be reached stops the whole run with an error, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from factstore.store.database import create_store_engine
from factstore.store.event_store import EventStore
from factstore.store.schema import upgrade

TEST_DATABASE_URL = os.environ.get("FACTSTORE_TEST_DATABASE_URL", "").strip()
BACKEND = make_url(TEST_DATABASE_URL).get_backend_name() if TEST_DATABASE_URL else "sqlite"


def pytest_report_header() -> str:
    shown = make_url(TEST_DATABASE_URL).render_as_string() if TEST_DATABASE_URL else "temp files"
    return f"factstore test backend: {BACKEND} ({shown})"


def pytest_sessionstart(session: pytest.Session) -> None:
    if BACKEND != "postgresql":
        return
    try:
        engine = create_engine(_admin_url())
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        pytest.exit(f"PostgreSQL at {TEST_DATABASE_URL} is not reachable: {error}", returncode=3)


def _admin_url() -> str:
    url = make_url(TEST_DATABASE_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _postgres_schema_url(schema: str) -> str:
    url = make_url(_admin_url())
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture
def backend() -> str:
    return BACKEND


class Databases:
    """Creates fresh databases (SQLite files or PostgreSQL schemas) and removes them at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.schemas: list[str] = []
        self.count = 0

    def empty(self) -> str:
        self.count += 1
        if BACKEND == "sqlite":
            return f"sqlite:///{self.folder / f'factstore-{self.count}.db'}"
        schema = f"t_{uuid.uuid4().hex[:16]}"
        admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        self.schemas.append(schema)
        return _postgres_schema_url(schema)

    def migrated(self) -> str:
        url = self.empty()
        engine = create_store_engine(url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        return url

    def drop_all(self) -> None:
        if not self.schemas:
            return
        admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for schema in self.schemas:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[Databases]:
    made = Databases(tmp_path)
    yield made
    made.drop_all()


@pytest.fixture
def fresh_database_url(databases: Databases) -> str:
    """A database with no schema at all."""
    return databases.empty()


@pytest.fixture
def database_url(databases: Databases) -> str:
    """A database migrated to the latest schema."""
    return databases.migrated()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_store_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> EventStore:
    return EventStore(engine)
