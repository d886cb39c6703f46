"""Scratch PostgreSQL databases for the benchmarks: made fresh per run, dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from sqlalchemy.engine import URL


def conninfo(url: URL) -> str:
    """A psycopg connection string for a SQLAlchemy URL (local defaults)."""
    return psycopg.conninfo.make_conninfo(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password or "",
        dbname=url.database or "postgres",
    )


def create_database(admin: URL, name: str) -> URL:
    """(Re)create database `name` on the server of `admin`; its URL."""
    with psycopg.connect(conninfo(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name)


def drop_databases(admin: URL, names: Iterable[str]) -> None:
    with psycopg.connect(conninfo(admin), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
