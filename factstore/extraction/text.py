"""Tokens, sentences and paragraphs with offsets into the original text.

Every pattern here is linear: each repetition starts with a character the previous one cannot
consume, so there is no backtracking blow-up on megabytes of garbage.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# word: letters with inner apostrophes/hyphens/dots-free joins (al-Shami, bomb-making, don't);
# number: ASCII digits with inner separators (1,321 / 2.5 / 15:47).
TOKEN_PATTERN = re.compile(
    r"(?P<word>[^\W\d_]+(?:['’\-][^\W\d_]+)*)"
    r"|(?P<num>[0-9]+(?:[.,][0-9]+)*)"
    r"|(?P<punct>[^\w\s]|_)"
)
PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n|\n[ \t\u00a0]{2,}|\n\t")

ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "gen",
        "lt",
        "col",
        "maj",
        "capt",
        "sgt",
        "cpl",
        "pvt",
        "adm",
        "brig",
        "cmdr",
        "gov",
        "sen",
        "rep",
        "st",
        "mt",
        "ft",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "no",
        "nos",
        "vol",
        "fig",
        "approx",
        "est",
        "dept",
        "co",
        "corp",
        "inc",
        "ltd",
        "jr",
        "sr",
        "vs",
        "etc",
        "al",
        "u.s",
        "u.k",
        "u.n",
        "e.g",
        "i.e",
        "rev",
        "hon",
        "pres",
    ]
)


class Token(NamedTuple):
    text: str
    lower: str
    start: int
    end: int
    kind: str  # "word" | "num" | "punct"


class Sentence(NamedTuple):
    start: int
    end: int
    paragraph: int  # index of the paragraph the sentence belongs to
    first_token: int  # index into the token list
    last_token: int  # exclusive


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    stop = len(text) if end is None else end
    tokens: list[Token] = []
    append = tokens.append
    make = tuple.__new__  # NamedTuple construction without the keyword machinery
    for match in TOKEN_PATTERN.finditer(text, start, stop):
        piece = match[0]
        append(make(Token, (piece, piece.lower(), match.start(), match.end(), match.lastgroup)))
    return tokens


def paragraph_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of paragraphs: separated by blank lines or by a newline followed by indentation."""
    stop = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    position = start
    for match in PARAGRAPH_BREAK.finditer(text, start, stop):
        if match.start() > position:
            spans.append((position, match.start()))
        position = match.end() - (1 if match.group().endswith(("\t", " ")) else 0)
    if stop > position:
        spans.append((position, stop))
    return [(a, b) for a, b in (_strip_span(text, a, b) for a, b in spans) if b > a]


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _ends_sentence(tokens: list[Token], index: int, text: str) -> bool:
    """Is the punctuation token at `index` the end of a sentence?"""
    token = tokens[index]
    if token.text in "!?":
        return True
    if token.text != ".":
        return False
    if index + 1 < len(tokens):
        following = tokens[index + 1]
        if following.start == token.end and following.kind != "punct":
            return False  # "U.S", "3.5" style joins
        if following.kind == "word" and following.text[:1].islower():
            return False
        if following.kind == "punct" and following.text in ",;:)":
            return False
    if index > 0:
        previous = tokens[index - 1]
        if previous.end == token.start and previous.kind == "word":
            if previous.lower in ABBREVIATIONS:
                return False
            if len(previous.text) == 1 and previous.text.isupper():
                return False  # initials: "George W. Bush", "U.S."
    return True


# Longer "sentences" are cut into pieces of this many tokens. A real sentence is far shorter
# (a 100-word sentence is ~130 tokens); text without sentence ends (lists, tables, garbage, a
# whole article on one line with no full stop) would otherwise make the per-figure work, which
# looks across its sentence, quadratic in the length of the text.
MAX_SENTENCE_TOKENS = 400


def split_sentences(
    text: str, tokens: list[Token], paragraphs: list[tuple[int, int]]
) -> list[Sentence]:
    sentences = [
        piece
        for sentence in _split_sentences(text, tokens, paragraphs)
        for piece in _capped(sentence, tokens)
    ]
    return sentences


def _capped(sentence: Sentence, tokens: list[Token]) -> list[Sentence]:
    if sentence.last_token - sentence.first_token <= MAX_SENTENCE_TOKENS:
        return [sentence]
    pieces = []
    for first in range(sentence.first_token, sentence.last_token, MAX_SENTENCE_TOKENS):
        last = min(first + MAX_SENTENCE_TOKENS, sentence.last_token)
        pieces.append(
            Sentence(tokens[first].start, tokens[last - 1].end, sentence.paragraph, first, last)
        )
    return pieces


def _split_sentences(
    text: str, tokens: list[Token], paragraphs: list[tuple[int, int]]
) -> list[Sentence]:
    sentences: list[Sentence] = []
    index = 0
    count = len(tokens)
    for paragraph_index, (p_start, p_end) in enumerate(paragraphs):
        while index < count and tokens[index].start < p_start:
            index += 1
        first = index
        while index < count and tokens[index].end <= p_end:
            token = tokens[index]
            if token.kind == "punct" and _ends_sentence(tokens, index, text):
                last = index + 1
                # closing quotes and brackets belong to the sentence they close
                while (
                    last < count
                    and tokens[last].end <= p_end
                    and tokens[last].text in "\"'”’)]"
                    and tokens[last].start == tokens[last - 1].end
                ):
                    last += 1
                if last > first:
                    sentences.append(
                        Sentence(
                            tokens[first].start, tokens[last - 1].end, paragraph_index, first, last
                        )
                    )
                first = last
                index = last
                continue
            index += 1
        if index > first:
            sentences.append(
                Sentence(tokens[first].start, tokens[index - 1].end, paragraph_index, first, index)
            )
    return sentences
