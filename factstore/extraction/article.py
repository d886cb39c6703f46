"""From raw article text (or structured JSON) to a `ParsedArticle`: header, date, body, junk.

The header of scraped articles is messy: a metadata line glued to the first sentence
(" date 2017-05-10 Iraqi forces ..."), a date line ("Tue Nov 1, 2016 15:47:24"), a site banner,
the title (sometimes twice), blank lines. The tail may carry a "source: Xinhua" line, a
"(Reporting by ...)" credit, or code dumps (PHP `string(770) "[{...}]"`, markup). The header is
parsed line by line; the body is what remains, as spans of the original text; junk is recorded
so that it yields no claims.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from factstore.extraction.dates import find_dates, resolve
from factstore.extraction.text import Token, tokenize
from factstore.extraction.vocabulary import Vocabulary, get_vocabulary

METADATA_DATE = re.compile(r"[ \t]*date[ \t]+([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ \t]+|$)")
CLOCK = re.compile(r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?")
SOURCE_LINE = re.compile(r"(?i)(?:source|sources|via)[ \t]*:[ \t]*([^\n]{1,60})$")
CREDIT_LINE = re.compile(r"(?i)\(?[ \t]*(?:reporting|writing|editing|additional reporting)\b")
CODE_MARKERS = (
    '{"',
    '":"',
    '":',
    "[{",
    "string(",
    "</",
    "/>",
    "<div",
    "<p",
    "&lt;",
    "&#",
    "function(",
    "var ",
    "=>",
)
MAX_HEADER_LINES = 8
MAX_TITLE_WORDS = 30


@dataclass(frozen=True, slots=True)
class ParsedArticle:
    text: str  # the original text, exactly as given
    title: str | None
    published_at: dt.date | None
    published_at_inferred: bool
    published_at_source: str  # given | metadata | dateline | text | none
    outlet: str | None
    body_spans: tuple[tuple[int, int], ...]  # spans of text that may state claims
    junk_spans: tuple[tuple[int, int], ...] = field(default=())
    title_span: tuple[int, int] | None = None
    # The body's tokens, span after span, when parsing needed them (to infer the date): the
    # extractor takes them instead of tokenizing the body again. Derived from the rest.
    body_tokens: tuple[Token, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def body(self) -> str:
        return "\n\n".join(self.text[a:b] for a, b in self.body_spans)

    @property
    def body_start(self) -> int:
        return self.body_spans[0][0] if self.body_spans else 0

    @property
    def body_end(self) -> int:
        return self.body_spans[-1][1] if self.body_spans else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "published_at_inferred": self.published_at_inferred,
            "published_at_source": self.published_at_source,
            "outlet": self.outlet,
            "body_spans": [list(span) for span in self.body_spans],
            "junk_spans": [list(span) for span in self.junk_spans],
            "title_span": list(self.title_span) if self.title_span else None,
        }


@dataclass(frozen=True, slots=True)
class ArticleInput:
    """Structured input: `{title, outlet, published_at, url, text}`."""

    text: str
    title: str | None = None
    outlet: str | None = None
    published_at: dt.date | None = None
    url: str | None = None


def read_article_input(raw: str) -> ArticleInput:
    """Raw text as is, or a JSON object with a `text` field."""
    stripped = raw.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            return ArticleInput(
                text=data["text"],
                title=_str_or_none(data.get("title")),
                outlet=_str_or_none(data.get("outlet")),
                published_at=coerce_date(data.get("published_at")),
                url=_str_or_none(data.get("url")),
            )
    return ArticleInput(text=raw)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def coerce_date(value: object) -> dt.date | None:
    """date, datetime or an ISO string ('2016-01-10', '2016-01-10 21:45:06') -> date."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


@dataclass(slots=True)
class _Line:
    start: int
    end: int

    def text(self, source: str) -> str:
        return source[self.start : self.end]


def _lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    position = 0
    for piece in text.split("\n"):
        start, end = position, position + len(piece)
        position = end + 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            lines.append(_Line(start, end))
    return lines


def is_junk_line(line: str) -> bool:
    """Code dumps, markup and tickers: lines that are not prose."""
    if any(marker in line for marker in CODE_MARKERS):
        letters = sum(ch.isalpha() for ch in line)
        symbols = sum(ch in '{}[]<>"=:;|\\/' for ch in line)
        if symbols * 4 >= letters or line.startswith(("string(", "[{", "{", "<")):
            return True
    stripped = line.strip()
    if stripped and not any(ch.isalpha() for ch in stripped):
        return True  # "-0.20", "%", "***"
    return stripped.lower() in ("reuter", "reuters", "advertisement", "share this:", "related")


def _date_line(line: str) -> dt.date | None:
    """A line that is only a date (and maybe a clock time): 'Tue Nov 1, 2016 15:47:24'."""
    if len(line) > 60:
        return None
    tokens = tokenize(line)
    dates = find_dates(tokens)
    if len(dates) != 1 or dates[0].year is None or dates[0].day is None:
        return None
    rest = (line[: dates[0].start] + line[dates[0].end :]).strip()
    rest = CLOCK.sub("", rest)
    rest = re.sub(
        r"(?i)\b(?:a\.m\.|p\.m\.|am|pm|et|gmt|utc|edt|est|bst|cet|updated|posted|"
        r"published|on|at)\b",
        "",
        rest,
    )
    if any(ch.isalnum() for ch in rest):
        return None
    return resolve(dates[0], None)


def _looks_like_title(line: str) -> bool:
    words = line.split()
    if not words or len(words) > MAX_TITLE_WORDS:
        return False
    return not line.rstrip().endswith((".", '?"', '."', ".”", ":"))


def parse_article(
    text: str,
    *,
    published_at: dt.date | dt.datetime | str | None = None,
    outlet: str | None = None,
    title: str | None = None,
    vocabulary: Vocabulary | None = None,
) -> ParsedArticle:
    """Parse raw article text. Given metadata wins over what the header says."""
    vocab = vocabulary or get_vocabulary()
    given_date = coerce_date(published_at)
    lines = _lines(text)
    header_date: dt.date | None = None
    date_source = "none"
    found_title: str | None = None
    title_span: tuple[int, int] | None = None
    junk: list[tuple[int, int]] = []
    body_start_line = 0
    skip_until = 0  # a character offset: text before it belongs to the header

    # header: at most a few short lines before the first prose paragraph
    index = 0
    while index < len(lines) and index < MAX_HEADER_LINES:
        line = lines[index]
        content = line.text(text)
        metadata = METADATA_DATE.match(text, line.start)
        if metadata is not None:
            header_date = _ymd(metadata.groups())
            date_source = "metadata"
            skip_until = metadata.end()
            if metadata.end() < line.end:
                lines[index] = _Line(metadata.end(), line.end)
                break  # the metadata line is glued to the first sentence
            index += 1
            continue
        line_date = _date_line(content)
        if line_date is not None:
            if header_date is None:
                header_date, date_source = line_date, "dateline"
            junk.append((line.start, line.end))
            index += 1
            continue
        if is_junk_line(content):
            junk.append((line.start, line.end))
            index += 1
            continue
        next_line = lines[index + 1].text(text) if index + 1 < len(lines) else ""
        if content.lower() in vocab.outlet_names and len(content.split()) <= 4:
            junk.append((line.start, line.end))  # a site banner
            index += 1
            continue
        if (
            _looks_like_title(content)
            and next_line
            and (
                not _looks_like_title(next_line)
                or _date_line(next_line) is not None
                or next_line == content
                or len(next_line.split()) > MAX_TITLE_WORDS // 2
            )
        ):
            if found_title is None:
                found_title, title_span = content, (line.start, line.end)
            elif content != found_title:
                break
            index += 1
            continue
        if _looks_like_title(content) and next_line == content:
            index += 1
            continue
        if found_title is not None and content == found_title:
            index += 1  # the repeated title
            continue
        if _looks_like_title(content) and len(content.split()) <= 4 and index == 0:
            junk.append((line.start, line.end))  # a short banner such as "World Media"
            index += 1
            continue
        break
    body_start_line = index
    del skip_until

    # tail: source lines, credits and code dumps
    found_outlet: str | None = None
    body_lines = lines[body_start_line:]
    kept: list[_Line] = []
    for line in body_lines:
        content = line.text(text)
        source = SOURCE_LINE.match(content)
        if source is not None and len(content) <= 70:
            found_outlet = source.group(1).strip()
            junk.append((line.start, line.end))
            continue
        if is_junk_line(content) or (CREDIT_LINE.match(content) and len(content) < 200):
            junk.append((line.start, line.end))
            continue
        kept.append(line)

    body_spans = tuple(_merge_lines(text, kept))
    final_date = given_date
    inferred = False
    body_tokens: list[Token] | None = None
    if final_date is not None:
        date_source = "given"
    elif header_date is not None:
        final_date = header_date
    else:
        body_tokens = []
        final_date = _infer_date(text, body_spans, body_tokens)
        if final_date is not None:
            inferred, date_source = True, "text"
    return ParsedArticle(
        text=text,
        title=title if title is not None else found_title,
        published_at=final_date,
        published_at_inferred=inferred,
        published_at_source=date_source if final_date is not None else "none",
        outlet=outlet if outlet is not None else found_outlet,
        body_spans=body_spans,
        junk_spans=tuple(sorted(junk)),
        title_span=title_span,
        body_tokens=None if body_tokens is None else tuple(body_tokens),
    )


def _ymd(groups: tuple[str | Any, ...]) -> dt.date | None:
    try:
        return dt.date(int(groups[0]), int(groups[1]), int(groups[2]))
    except ValueError:
        return None


def _merge_lines(text: str, lines: list[_Line]) -> list[tuple[int, int]]:
    """Consecutive kept lines become one span; a removed line in between splits spans."""
    spans: list[tuple[int, int]] = []
    for line in lines:
        if spans and not _has_removed_between(text, spans[-1][1], line.start):
            spans[-1] = (spans[-1][0], line.end)
        else:
            spans.append((line.start, line.end))
    return spans


def _has_removed_between(text: str, end: int, start: int) -> bool:
    return bool(text[end:start].strip())


def _infer_date(
    text: str, body_spans: tuple[tuple[int, int], ...], tokens: list[Token]
) -> dt.date | None:
    """The latest full date (day, month and year) stated in the body, e.g. in a photo caption;
    the body's tokens are added to `tokens` on the way.

    The article cannot be older than the newest full date it mentions; captions and datelines
    usually carry the day of writing. Marked inferred.
    """
    latest: dt.date | None = None
    for start, end in body_spans:
        first = len(tokens)
        tokens.extend(tokenize(text, start, end))
        for mention in find_dates(tokens, first):  # within the span: a date never crosses one
            if mention.year is None or mention.day is None:
                continue
            day = resolve(mention, None)
            if day is not None and (latest is None or day > latest):
                latest = day
    return latest
