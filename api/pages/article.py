"""The Article page: its text with every extracted claim highlighted and linked to its topic,
its event stream with hashes and whether the chain verifies, and its revisions as diffs."""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, render_template
from flask.typing import ResponseReturnValue

from api.context import reader
from api.pages.blueprint import blueprint
from api.resources.events import event_document
from factstore.domain import catalog
from factstore.ingest.sources import stream_id_for
from factstore.projections import queries
from factstore.store.verification import verify_stream

MAX_CLAIMS = 10_000


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text; `claim` is set when the run is a claim's quote."""

    text: str
    claim: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class DiffPart:
    text: str
    change: str  # "same" | "inserted" | "deleted"


@blueprint.get("/articles/<path:stream_id>")
def article_page(stream_id: str) -> ResponseReturnValue:
    services = reader()
    if not stream_id.startswith("article-"):
        stream_id = stream_id_for(stream_id)
    article = queries.get_article(services.store.engine, stream_id)
    if article is None:
        abort(404, description=f"There is no article {stream_id!r}.")
    claims, _ = queries.list_claims(services.store.engine, stream_id=stream_id, limit=MAX_CLAIMS)
    stream = services.store.read_stream(stream_id)
    broken = verify_stream(stream)
    texts = [
        (event.version, str(catalog.upcast(event.type, event.schema_version, event.data)["text"]))
        for event in stream
        if event.type in catalog.ARTICLE_CONTENT_EVENTS
    ]
    text = texts[-1][1] if texts else ""
    segments = highlight_claims(text, claims)
    shown = {id(s.claim) for s in segments if s.claim is not None}
    return render_template(
        "pages/article.html",
        article=article,
        segments=segments,
        unplaced=[c for c in claims if id(c) not in shown],
        claims=claims,
        events=[event_document(e) for e in stream],
        broken=broken,
        revisions=[
            (before[0], after[0], word_diff(before[1], after[1]))
            for before, after in itertools.pairwise(texts)
        ],
    )


def highlight_claims(text: str, claims: Sequence[Mapping[str, Any]]) -> list[Segment]:
    """The text cut into runs, each claim's quote its own run. A quote is found at its
    offsets, else inside its sentence, else anywhere (offsets can predate a revision);
    quotes that overlap an earlier one or are gone from the text are left out."""
    spans: list[tuple[int, int, Mapping[str, Any]]] = []
    for claim in claims:
        found = _locate(text, claim)
        if found is not None:
            spans.append((*found, claim))
    spans.sort(key=lambda span: (span[0], -span[1]))
    segments: list[Segment] = []
    cursor = 0
    for start, end, claim in spans:
        if start < cursor:
            continue
        if start > cursor:
            segments.append(Segment(text[cursor:start]))
        segments.append(Segment(text[start:end], claim))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return segments


def _locate(text: str, claim: Mapping[str, Any]) -> tuple[int, int] | None:
    quote = claim.get("quote") or ""
    if not quote:
        return None
    start, end = claim.get("start"), claim.get("end")
    if isinstance(start, int) and isinstance(end, int) and text[start:end] == quote:
        return start, end
    sentence = claim.get("sentence") or ""
    at = text.find(sentence) if sentence else -1
    if at >= 0 and (inner := sentence.find(quote)) >= 0:
        return at + inner, at + inner + len(quote)
    anywhere = text.find(quote)
    return None if anywhere < 0 else (anywhere, anywhere + len(quote))


_WORDS = re.compile(r"\s+|[^\s]+")


def word_diff(before: str, after: str) -> list[DiffPart]:
    """What changed between two texts, word by word."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    parts: list[DiffPart] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for operation, a0, a1, b0, b1 in matcher.get_opcodes():
        if operation == "equal":
            parts.append(DiffPart("".join(old[a0:a1]), "same"))
            continue
        if a1 > a0:
            parts.append(DiffPart("".join(old[a0:a1]), "deleted"))
        if b1 > b0:
            parts.append(DiffPart("".join(new[b0:b1]), "inserted"))
    return parts
