"""Claim extraction: news article text in, precise, attributed, dated numeric claims out.

from factstore.extraction import extract, EXTRACTOR_VERSION, parse_article
result = extract(text, published_at=None, outlet=None, title=None)
result.article  # ParsedArticle
result.claims   # list[Claim], in text order
"""

from __future__ import annotations

from factstore.extraction.vocabulary import Vocabulary, get_vocabulary

RULES_VERSION = "3.0.0"


def version_for(vocabulary: Vocabulary) -> str:
    """'<rules version>+vocab.<first 12 hex of the vocabulary's sha256>'."""
    return f"{RULES_VERSION}+vocab.{vocabulary.digest[:12]}"


EXTRACTOR_VERSION = version_for(get_vocabulary())

from factstore.extraction.article import (  # noqa: E402
    ArticleInput,
    ParsedArticle,
    parse_article,
    read_article_input,
)
from factstore.extraction.extractor import ExtractionResult, extract  # noqa: E402
from factstore.extraction.numbers import Quantity, find_quantities  # noqa: E402
from factstore.extraction.topics import topic_key  # noqa: E402

__all__ = [
    "EXTRACTOR_VERSION",
    "RULES_VERSION",
    "ArticleInput",
    "ExtractionResult",
    "ParsedArticle",
    "Quantity",
    "Vocabulary",
    "extract",
    "find_quantities",
    "get_vocabulary",
    "parse_article",
    "read_article_input",
    "topic_key",
    "version_for",
]
