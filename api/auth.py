"""Bearer tokens. Tokens are configured hashed (SHA-256, hex) with the actor they stand for:

    FACTSTORE_API_TOKENS="alice:<sha256 hex>,ingest-bot:<sha256 hex>"
    FACTSTORE_API_TOKENS_FILE=/run/secrets/factstore-tokens   (one "actor:hash" per line)

`factstore token ACTOR` prints a new token and its configuration line. Writes always need a
token; reads need one only when FACTSTORE_API_READS_REQUIRE_TOKEN=1. A presented token is
hashed and compared with every configured hash in constant time; tokens are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from flask import abort, request

from factstore.domain.events import actor_problem


class TokenConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TokenTable:
    hashes: tuple[tuple[str, bytes], ...]  # (actor, sha256 digest)
    reads_require_token: bool = False

    @classmethod
    def from_env(cls) -> TokenTable:
        lines: list[str] = []
        inline = os.environ.get("FACTSTORE_API_TOKENS", "")
        lines += [part for part in inline.split(",") if part.strip()]
        path = os.environ.get("FACTSTORE_API_TOKENS_FILE")
        if path:
            try:
                lines += Path(path).read_text(encoding="utf-8").splitlines()
            except OSError as error:
                raise TokenConfigError(f"FACTSTORE_API_TOKENS_FILE: {error}") from error
        hashes = []
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            actor, sep, hex_hash = line.rpartition(":")
            if not sep or not actor.strip() or len(hex_hash) != 64:
                raise TokenConfigError("a token entry must be ACTOR:SHA256HEX (64 hex digits)")
            problem = actor_problem(actor.strip())
            if problem is not None:
                raise TokenConfigError(problem)
            try:
                hashes.append((actor.strip(), bytes.fromhex(hex_hash)))
            except ValueError as error:
                raise TokenConfigError("a token hash must be 64 hex digits") from error
        reads = os.environ.get("FACTSTORE_API_READS_REQUIRE_TOKEN", "").lower() in (
            "1",
            "true",
            "yes",
        )
        return cls(tuple(hashes), reads)

    def actor_for(self, token: str) -> str | None:
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        found = None
        for actor, expected in self.hashes:
            # Every entry is compared, so timing does not tell which (if any) matched.
            if hmac.compare_digest(digest, expected):
                found = actor
        return found


def current_actor(tokens: TokenTable, *, write: bool) -> str | None:
    """The actor of the request's bearer token; aborts 401 when a token is needed and missing
    or unknown."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    needed = write or tokens.reads_require_token
    if not header:
        if needed:
            abort(401, description="this request needs a bearer token (Authorization: Bearer …)")
        return None
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, description="the Authorization header must be 'Bearer <token>'")
    actor = tokens.actor_for(token.strip())
    if actor is None:
        abort(401, description="the bearer token is not valid")
    return actor
