"""Token checks are timing-safe: a presented token is hashed, and its digest is compared with
every configured digest by `hmac.compare_digest`, so neither where a token is in the table nor
how much of it is right changes how long the check takes."""

from __future__ import annotations

import hashlib
import hmac
import statistics
import time
from collections.abc import Callable

import pytest

from api.auth import TokenConfigError, TokenTable
from factstore.domain.events import MAX_ACTOR
from factstore.projections.models import status_changes_table
from factstore.tokens import hash_token, new_token

TOKENS = [new_token() for _ in range(5)]
TABLE = TokenTable(
    tuple((f"actor-{i}", bytes.fromhex(hash_token(t))) for i, t in enumerate(TOKENS))
)


def test_the_table_holds_digests_of_the_tokens_not_the_tokens() -> None:
    for (actor, digest), token in zip(TABLE.hashes, TOKENS, strict=True):
        assert digest == hashlib.sha256(token.encode()).digest()
        assert token.encode() not in digest and TABLE.actor_for(token) == actor


@pytest.mark.parametrize(
    "presented",
    [TOKENS[0], TOKENS[-1], TOKENS[2][:-1] + "x", "", "x" * 10_000],
    ids=["first", "last", "one-char-off", "empty", "long"],
)
def test_every_configured_digest_is_compared_in_constant_time(
    presented: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    TABLE.actor_for(presented)
    # No early exit on a match, and always two 32-byte digests: compare_digest's time then
    # depends on neither their content nor the presented token's length.
    assert len(calls) == len(TOKENS)
    assert all(isinstance(a, bytes) and len(a) == len(b) == 32 for a, b in calls)
    assert {b for _, b in calls} == {digest for _, digest in TABLE.hashes}


def _timings_ns(check: Callable[[], object], rounds: int) -> list[int]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        check()
        samples.append(time.perf_counter_ns() - start)
    return samples


def test_a_right_and_a_wrong_token_take_the_same_time() -> None:
    right, wrong_by_one = TOKENS[-1], TOKENS[-1][:-1] + ("a" if TOKENS[-1][-1] != "a" else "b")
    unknown = new_token()
    candidates = {"right": right, "one char off": wrong_by_one, "unknown": unknown}
    samples: dict[str, list[int]] = {name: [] for name in candidates}
    # Interleaved batches, so drift in the machine's speed hits every candidate alike.
    for _ in range(30):
        for name, token in candidates.items():
            samples[name] += _timings_ns(lambda token=token: TABLE.actor_for(token), 50)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    assert max(medians.values()) <= 1.25 * min(medians.values()), medians


def test_an_actor_name_the_projections_cannot_record_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every write records its token's actor; the figures projection keeps it in a column of
    MAX_ACTOR characters (PostgreSQL enforces it): a longer name would stop that projection at
    the first status change it wrote."""
    assert status_changes_table.c.actor.type.length >= MAX_ACTOR
    digest = hash_token(TOKENS[0])
    monkeypatch.setenv("FACTSTORE_API_TOKENS", f"{'a' * MAX_ACTOR}:{digest}")
    assert TokenTable.from_env().actor_for(TOKENS[0]) == "a" * MAX_ACTOR
    monkeypatch.setenv("FACTSTORE_API_TOKENS", f"{'a' * (MAX_ACTOR + 1)}:{digest}")
    with pytest.raises(TokenConfigError, match="at most 200"):
        TokenTable.from_env()
