"""Who gave a figure: speech cues ('X said', 'according to X', 'X told', 'quoted X as saying',
'estimated by X', 'X reported') and the normalised name of their source.

Names are normalised the way a reader cites them: a person by surname without titles or the
Arabic article ('Lieutenant General Abdul Amir Yarallah' -> 'Yarallah', 'al-Hamdani' ->
'Hamdani'); an organisation or a described source by its name without determiner or possessive
prefix ("Iraq's Badr Organization" -> 'Badr Organization', 'a military source' -> 'military
source'). Pronouns and definite role descriptions ('he', 'the top Iraqi commander') resolve to
the most recent source named earlier in the article.
"""

from __future__ import annotations

from dataclasses import dataclass

from factstore.extraction.text import Token
from factstore.extraction.vocabulary import CONTINUATION_HINTS, Vocabulary

DETERMINERS = frozenset({"the", "a", "an", "another", "one"})
SKIPPABLE_BEFORE_VERB = frozenset(
    [
        "has",
        "have",
        "had",
        "also",
        "further",
        "later",
        "previously",
        "again",
        "then",
        "earlier",
        "separately",
        "recently",
        "reportedly",
        "additionally",
        "moreover",
        "on",
    ]
)
NP_ADJECTIVES = frozenset(
    [
        "top",
        "senior",
        "local",
        "state",
        "security",
        "health",
        "provincial",
        "regional",
        "federal",
        "medical",
        "hospital",
        "rescue",
        "news",
        "civil",
        "defence",
        "defense",
        "interior",
        "foreign",
        "tribal",
        "humanitarian",
        "rights",
        "human",
        "military",
        "army",
        "police",
        "government",
        "unnamed",
        "official",
        "joint",
        "elite",
        "special",
        "media",
        "online",
        "english-language",
        "english",
        "arabic",
        "independent",
        "international",
        "national",
        "district",
        "city",
        "municipal",
        "village",
        "hashd",
        "intelligence",
        "emergency",
        "relief",
        "aid",
        "defense",
    ]
)
CONNECTORS = frozenset({"of", "for", "on", "and"})
PRONOUNS = frozenset({"he", "she", "they", "it"})
PERSON_ROLES = frozenset(
    [
        "commander",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "official",
        "minister",
        "general",
        "officer",
        "chief",
        "head",
        "governor",
        "mayor",
        "president",
        "leader",
        "colonel",
        "lieutenant",
        "major",
        "captain",
        "brigadier",
        "sergeant",
        "ambassador",
        "envoy",
        "representative",
        "director",
        "analyst",
    ]
)
GENERIC_SOURCES = frozenset({"statement", "report", "source", "sources", "official", "officials"})
CONTINUATION_VERBS = frozenset(CONTINUATION_HINTS)
ARABIC_ARTICLES = ("al-", "el-", "ad-", "ar-", "as-", "an-", "ash-", "at-", "az-")


@dataclass(frozen=True, slots=True)
class Cue:
    """A speech cue in a sentence. The figure it covers lies in tokens [scope_first, scope_last)."""

    cue_first: int
    cue_last: int
    speaker_first: int
    speaker_last: int
    scope_first: int
    scope_last: int


@dataclass(frozen=True, slots=True)
class Speaker:
    name: str | None  # None when a pronoun or definite description could not be resolved
    is_person: bool
    is_relay: bool  # a news outlet passing on someone else's figure
    anaphoric: bool


def _is_name(token: Token) -> bool:
    return token.text[:1].isupper() or (
        token.lower.startswith(ARABIC_ARTICLES) and len(token.text) > 3 and "-" in token.text
    )


def _np_word(token: Token, vocab: Vocabulary) -> bool:
    if token.kind != "word":
        return False
    return _is_name(token) or token.lower in vocab.role_nouns or token.lower in NP_ADJECTIVES


def _speaker_before(
    tokens: list[Token], verb: int, first: int, vocab: Vocabulary
) -> tuple[int, int] | None:
    """The subject noun phrase ending right before the verb at `verb`: (first, last)."""
    end = verb
    while end > first and tokens[end - 1].lower in SKIPPABLE_BEFORE_VERB:
        end -= 1
    closed_by_comma = end > first and tokens[end - 1].text == ","
    if closed_by_comma:
        end -= 1  # "Lieutenant General Abdul Amir Yarallah, said"
    start = end
    while start > first:
        token = tokens[start - 1]
        if token.text == ")" and start - 3 >= first and tokens[start - 3].text == "(":
            start -= 3  # "(JOC)"
            continue
        if _np_word(token, vocab):
            start -= 1
            continue
        if (
            token.lower in CONNECTORS
            and start - 1 > first
            and _is_name(tokens[start - 2])
            and (start < end and _is_name(tokens[start]))
        ):
            start -= 1
            continue
        if token.lower in DETERMINERS:
            start -= 1
        break
    if start == end:
        if end > first and tokens[end - 1].lower in PRONOUNS:
            return end - 1, end
        return None
    # "Ahmed al-Asiri, spokesman for the coalition, said": the name before the role
    role_start = start
    while (
        role_start - 2 >= first
        and tokens[role_start - 1].lower in ("of", "for", "at", "to")
        and tokens[role_start - 2].lower in vocab.role_nouns
    ):
        role_start -= 2
        while role_start > first and (
            tokens[role_start - 1].lower in NP_ADJECTIVES
            or tokens[role_start - 1].lower in DETERMINERS
        ):
            role_start -= 1
    head = next((t for t in tokens[role_start:end] if t.lower not in DETERMINERS), None)
    if (
        closed_by_comma
        and head is not None
        and head.lower in PERSON_ROLES
        and not _is_name(head)
        and role_start - 2 >= first
        and tokens[role_start - 1].text == ","
    ):
        name_end = role_start - 1
        name_start = name_end
        while name_start > first and _is_name(tokens[name_start - 1]):
            name_start -= 1
        if name_start < name_end and tokens[role_start].lower not in PRONOUNS:
            return name_start, name_end
    return start, end


def _speaker_after(
    tokens: list[Token], begin: int, last: int, vocab: Vocabulary
) -> tuple[int, int] | None:
    """The noun phrase starting at `begin` ('according to the Defense Ministry, ...')."""
    position = begin
    if position < last and tokens[position].lower in DETERMINERS:
        position += 1
    while position < last:
        token = tokens[position]
        if _np_word(token, vocab):
            position += 1
            continue
        if token.lower in CONNECTORS and position + 1 < last and _is_name(tokens[position + 1]):
            position += 1
            continue
        if (
            token.lower in ("by", "from")
            and position > begin
            and tokens[position - 1].lower in GENERIC_SOURCES
            and position + 1 < last
        ):
            position += 1  # "a statement from the interior ministry"
            continue
        if token.text == "(" and position + 2 < last and tokens[position + 2].text == ")":
            position += 3
            continue
        break
    if position == begin or (position == begin + 1 and tokens[begin].lower in DETERMINERS):
        if begin < last and tokens[begin].lower in PRONOUNS:
            return begin, begin + 1
        return None
    return begin, position


def find_cues(tokens: list[Token], first: int, last: int, vocab: Vocabulary) -> list[Cue]:
    """Speech cues of the sentence tokens[first:last], in text order."""
    cues: list[Cue] = []
    index = first
    while index < last:
        token = tokens[index]
        lower = token.lower
        if token.kind != "word":
            index += 1
            continue
        # "according to X"
        if lower == "according" and index + 1 < last and tokens[index + 1].lower == "to":
            span = _speaker_after(tokens, index + 2, last, vocab)
            if span is not None:
                if _at_sentence_start(tokens, index, first):
                    scope = (span[1], last)
                elif _ends_sentence_at(tokens, span[1], last):
                    scope = (first, index)
                else:
                    scope = (first, last)  # ", according to X, ..." covers its sentence
                cues.append(Cue(index, index + 2, span[0], span[1], *scope))
                index = span[1]
                continue
        # "quoted X as saying"
        if lower == "quoted":
            span = _speaker_after(tokens, index + 1, last, vocab)
            if span is not None and span[1] + 1 < last and tokens[span[1]].lower == "as":
                cues.append(Cue(index, span[1] + 2, span[0], span[1], first, last))
                index = span[1] + 2
                continue
        # "estimated by X", "reported by X", "announced by X"
        if (
            lower == "by"
            and index > first
            and tokens[index - 1].lower
            in (
                "estimated",
                "reported",
                "announced",
                "confirmed",
                "counted",
                "put",
                "given",
                "released",
                "published",
                "cited",
                "provided",
            )
        ):
            span = _speaker_after(tokens, index + 1, last, vocab)
            if span is not None:
                cues.append(Cue(index - 1, index + 1, span[0], span[1], first, last))
                index = span[1]
                continue
        if lower in CONTINUATION_VERBS and cues and index + 1 < last:
            # "he said, adding that ...": the same source goes on
            previous = cues[-1]
            cues.append(
                Cue(
                    index, index + 1, previous.speaker_first, previous.speaker_last, index + 1, last
                )
            )
            index += 1
            continue
        if (lower,) in vocab.speech_verbs_after and lower not in ("put", "puts", "quoted"):
            span = _speaker_before(tokens, index, first, vocab)
            if span is not None:
                # ", X said." covers what precedes; "X said (on Wednesday) that" what follows
                trailing = _is_trailing(tokens, index, last)
                scope = (first, span[0]) if trailing else (index + 1, last)
                cues.append(Cue(index, index + 1, span[0], span[1], *scope))
            elif index + 1 < last and lower in ("said", "says", "added", "told"):
                # inverted: '..., said Major General X.'
                after = _speaker_after(tokens, index + 1, last, vocab)
                if (
                    after is not None
                    and index > first
                    and tokens[index - 1].text in (",", "”", '"')
                ):
                    cues.append(Cue(index, index + 1, after[0], after[1], first, index))
        index += 1
    return cues


def _at_sentence_start(tokens: list[Token], index: int, first: int) -> bool:
    return all(t.kind == "punct" for t in tokens[first:index])


def _ends_sentence_at(tokens: list[Token], index: int, last: int) -> bool:
    return all(t.kind == "punct" for t in tokens[index:last])


def _is_trailing(tokens: list[Token], verb: int, last: int) -> bool:
    """', X said.' / ', X said on Friday.' close the sentence: the cue covers what precedes."""
    position = verb + 1
    while (
        position < last
        and tokens[position].kind == "word"
        and tokens[position].lower
        in (
            "on",
            "in",
            "a",
            "an",
            "the",
            "statement",
            "late",
            "early",
            "last",
            "this",
            "week",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
            "today",
            "yesterday",
            "night",
            "morning",
            "evening",
            "afternoon",
            "recently",
            "earlier",
            "later",
            "told",
            "reporters",
            "at",
            "news",
            "conference",
            "briefing",
            "its",
            "his",
            "her",
            "their",
            "weekly",
            "daily",
            "report",
            "website",
            "via",
            "twitter",
            "separately",
            "also",
        )
    ):
        position += 1
    return position >= last or tokens[position].text in (".", "!", "?", ",", ";", '"', "”")


def normalise_speaker(tokens: list[Token], first: int, last: int, vocab: Vocabulary) -> Speaker:
    words = [t for t in tokens[first:last] if t.kind == "word"]
    # "a statement by X": the source is X
    for position, token in enumerate(words):
        if token.lower in ("by", "from") and position + 1 < len(words):
            words = words[position + 1 :]
            break
    if not words:
        return Speaker(None, False, False, True)
    if len(words) == 1 and words[0].lower in PRONOUNS:
        return Speaker(None, words[0].lower in ("he", "she"), False, True)
    definite = words[0].lower == "the"
    while words and words[0].lower in DETERMINERS:
        words = words[1:]
    # "Iraq's Badr Organization": drop the possessive prefix
    for position in range(len(words) - 2, -1, -1):
        if words[position].lower.endswith(("'s", "’s")):
            words = words[position + 1 :]
            break
    if not words:
        return Speaker(None, False, False, True)
    joined = " ".join(w.text for w in words)
    if joined.lower() in vocab.relay_sources:
        return Speaker(joined, False, True, False)
    lowers = [w.lower for w in words]
    org_positions = [i for i, w in enumerate(lowers) if w in vocab.org_words]
    if org_positions:
        last_org = org_positions[-1]
        tail = words[last_org + 1 :]
        if tail and tail[0].lower not in CONNECTORS and all(_is_name(w) for w in tail):
            return _person(tail, vocab)  # "Popular Mobilization Units Ahmed Assadi"
        if definite and all(w in GENERIC_SOURCES for w in lowers):
            return Speaker(None, False, False, True)  # "the statement": said before
        return Speaker(joined, False, False, False)
    if all(_is_name(w) for w in words):
        return _person(words, vocab)
    if definite and any(w in PERSON_ROLES for w in lowers):
        return Speaker(None, True, False, True)  # "the top Iraqi commander"
    names = [w for w in words if _is_name(w) and w.lower not in vocab.titles]
    if names and _is_name(words[-1]):
        return _person(words, vocab)
    return Speaker(joined, any(w in PERSON_ROLES for w in lowers), False, False)


def _person(words: list[Token], vocab: Vocabulary) -> Speaker:
    kept = list(words)
    for position in range(len(kept) - 1, -1, -1):
        if kept[position].lower.rstrip(".") in vocab.titles or kept[position].lower in (
            vocab.role_nouns
        ):
            kept = kept[position + 1 :]
            break
    if not kept:
        return Speaker(" ".join(w.text for w in words), True, False, False)
    surname = kept[-1].text
    for article in ARABIC_ARTICLES:
        if surname.lower().startswith(article) and len(surname) > len(article) + 1:
            surname = surname[len(article) :]
            surname = surname[:1].upper() + surname[1:]
            break
    if surname.lower().endswith(("'s", "’s")):
        surname = surname[:-2]
    return Speaker(surname, True, False, False)
