"""API tokens: random secrets handed to a client; only their SHA-256 is ever configured."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return "fs_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
