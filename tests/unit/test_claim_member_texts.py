"""A rebuild stores the `article` and `claim` texts of ClaimAsserted data as sliced from the
event's stored canonical JSON: the slices must be exactly canonical_json of each member."""

from __future__ import annotations

from typing import Any

import pytest

from factstore.projections.figures import _member_texts
from factstore.store.hashing import canonical_json

ARTICLE = {"article_id": "a1", "outlet": "Wire", "published_at": "2017-06-29", "title": "T"}
CLAIM = {"topic": "total.killed.people.mosul", "value": 20, "quote": "20 killed"}


@pytest.mark.parametrize(
    "data",
    [
        {"article": ARTICLE, "claim": CLAIM, "claim_id": "c1"},
        # string content that looks like the boundaries (quotes inside strings are escaped)
        {"article": {**ARTICLE, "title": '},"claim":{ and {'}, "claim": CLAIM, "claim_id": "c2"},
        {"article": ARTICLE, "claim": {**CLAIM, "quote": ',"claim_id":"x"}'}, "claim_id": "c3"},
        # nested objects: the scanner decides
        {"article": {**ARTICLE, "extra": {"claim": 1}}, "claim": CLAIM, "claim_id": "c4"},
        {"article": ARTICLE, "claim": {**CLAIM, "claim_id": {"a": 1}}, "claim_id": "c5"},
    ],
)
def test_member_texts_are_the_canonical_json_of_each_member(data: dict[str, Any]) -> None:
    assert _member_texts(canonical_json(data)) == (
        canonical_json(data["article"]),
        canonical_json(data["claim"]),
    )


def test_other_texts_are_not_sliced() -> None:
    assert _member_texts(None) is None
    assert _member_texts('{"claim":{},"claim_id":"c"}') is None
    assert _member_texts('{"article":{"a":1},"claims":{},"claim_id":"c"}') is None
