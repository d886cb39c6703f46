"""Settings from the environment: one place that names every variable factstore reads."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///factstore.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(database_url=os.environ.get("FACTSTORE_DATABASE_URL") or DEFAULT_DATABASE_URL)
