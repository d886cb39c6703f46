"""Bytes of a web page to the text of its article: decoding, then boilerplate removal.

Decoding follows what browsers do: the charset the server declared (latin-1 and ASCII labels
read as windows-1252, their superset, as the WHATWG Encoding standard says), else a byte-order
mark, else the page's own <meta charset> / XML declaration, else strict UTF-8, else a guess by
charset-normalizer; bytes that still do not fit become U+FFFD. It never raises on bad bytes.

Article text comes from trafilatura: maintained, pure Python over lxml, works offline, and it
is the reference of the boilerplate-removal benchmarks (it keeps the body and drops navigation,
footers, cookie banners and related-link lists). Its date search is limited to the page's
metadata (no guessing from the body text: a date mentioned in an article is not its date).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from email.message import Message

from charset_normalizer import from_bytes
from charset_normalizer.utils import any_specified_encoding
from trafilatura import bare_extraction
from trafilatura.settings import Document, set_date_params

# Labels that browsers decode as windows-1252: it agrees with them on every byte they define.
_WINDOWS_1252_ALIASES = {"iso8859-1", "latin-1", "ascii", "cp819"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True, slots=True)
class PageText:
    text: str
    title: str | None
    published_at: str | None  # ISO date from the page's metadata


def declared_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset.strip() if isinstance(charset, str) and charset.strip() else None


def media_type(content_type: str | None) -> str:
    """`text/html` from `text/html; charset=utf-8`; empty when there is no header."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "cp1252" if name in _WINDOWS_1252_ALIASES else name


def decode_body(body: bytes, content_type: str | None) -> str:
    """The text of a response body; never raises on undecodable bytes."""
    codec = _codec(declared_charset(content_type))
    if codec is None:
        for bom, name in _BOMS:
            if body.startswith(bom):
                codec = name
                break
    if codec is None:
        codec = _codec(any_specified_encoding(body[:4096]))
    if codec is None:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            guess = from_bytes(body).best()
            codec = _codec(guess.encoding if guess is not None else None) or "cp1252"
    return body.decode(codec, errors="replace")


def extract_article(html: str, *, url: str | None = None) -> PageText | None:
    """The article body of an HTML page (None when there is none), with title and date."""
    document = bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        date_extraction_params=set_date_params(extensive=False),
    )
    text = document.text if isinstance(document, Document) else None
    if not isinstance(document, Document) or not text or not text.strip():
        return None
    return PageText(
        text=text.strip(),
        title=(document.title or "").strip() or None,
        published_at=(document.date or "").strip() or None,
    )
