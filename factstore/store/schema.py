"""Schema management through Alembic, callable from the CLI and the tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData

import migrations
from factstore.store.errors import StoreError


class SchemaNotCurrent(StoreError):
    """The database is empty or behind the code's migrations."""


# Tables that belong to other libraries (APScheduler keeps its jobs in our database).
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate filter: leave other libraries' tables alone."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def include_object_for(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """`include_object` for a database of `dialect`: also leaves out the models' indexes that
    exist on other databases only (`Index.ddl_if(dialect=...)`, which SQLAlchemy records as
    `_ddl_if` and Alembic's compare does not read)."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if not include_object(obj, name, type_, reflected, compare_to):
            return False
        ddl_if = getattr(obj, "_ddl_if", None) if type_ == "index" and not reflected else None
        if ddl_if is None or ddl_if.dialect is None:
            return True
        only = (ddl_if.dialect,) if isinstance(ddl_if.dialect, str) else tuple(ddl_if.dialect)
        return dialect in only

    return include


def target_metadata() -> MetaData:
    """Every table Alembic owns: the log and the projections' tables."""
    import factstore.ingest.models
    import factstore.projections.models
    import factstore.store.idempotency  # noqa: F401  (registers the idempotency table)
    from factstore.store.models import Base

    return Base.metadata


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # ConfigParser treats "%" as interpolation: URL-encoded options must be escaped.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        config = alembic_config(engine)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return ScriptDirectory.from_config(config).get_current_head()


def require_current_schema(engine: Engine) -> None:
    """Fail with a clear message instead of an SQL error when the schema is missing or old."""
    current = current_revision(engine)
    if current != head_revision():
        shown = engine.url.render_as_string(hide_password=True)
        state = "has no factstore schema" if current is None else f"is at schema {current}"
        raise SchemaNotCurrent(f"{shown} {state}: run `factstore db upgrade`")
