"""The claim rules: from quantity mentions to attributed, placed, dated claims.

A quantity becomes a claim when it counts something the vocabulary knows (a subject) and a
measure cue binds to it in the same clause:

- `passive`: the cue follows the counted noun phrase ('111,750 people had also been evacuated',
  '50,000 residents are still trapped', '11 drones shot down');
- `active`: the cue precedes the number ('killed more than 1,300 members', 'killing 12');
- `total-of`: the subject precedes the number ('the total number of districts liberated ... to 40').

Everything else (prices, tonnages, distances, durations, ages, dates) yields nothing. See
docs/extraction.md for the rules on kind, as_of, place and attribution.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from factstore.domain.claims import Claim, ClaimKind
from factstore.extraction.article import ParsedArticle, parse_article
from factstore.extraction.attribution import (
    PERSON_ROLES,
    Cue,
    Speaker,
    find_cues,
    normalise_speaker,
)
from factstore.extraction.dates import DateMention, find_dates, resolve, resolve_month
from factstore.extraction.numbers import (
    NUMBER_START_WORDS,
    TENS_WORDS,
    UNITS_WORDS,
    Quantity,
    _may_start_number,
    find_quantities,
)
from factstore.extraction.places import CITY_KINDS, PlaceMention, find_places
from factstore.extraction.text import Sentence, Token, paragraph_spans, split_sentences, tokenize
from factstore.extraction.topics import topic_key
from factstore.extraction.vocabulary import MeasureCue, SubjectSpec, Vocabulary, get_vocabulary

FUNCTION_WORDS = frozenset(
    [
        "of",
        "in",
        "at",
        "on",
        "to",
        "from",
        "by",
        "with",
        "for",
        "during",
        "after",
        "before",
        "since",
        "and",
        "or",
        "but",
        "were",
        "was",
        "are",
        "is",
        "be",
        "been",
        "being",
        "had",
        "have",
        "has",
        "who",
        "which",
        "that",
        "as",
        "than",
        "when",
        "while",
        "including",
        "among",
        "across",
        "near",
        "into",
        "per",
        "a",
        "an",
        "the",
        "this",
        "these",
        "those",
        "its",
        "their",
        "his",
        "her",
        "our",
        "it",
        "they",
        "he",
        "she",
        "we",
        "i",
        "you",
        "said",
        "says",
        "would",
        "will",
        "could",
        "can",
        "may",
        "might",
        "should",
        "also",
        "still",
        "reportedly",
        "now",
        "last",
        "ago",
        "each",
        "every",
        "so",
        "not",
        "no",
        "all",
        "over",
        "under",
        "about",
        "around",
        "within",
        "between",
        "out",
        "off",
        "up",
        "down",
        "amid",
        "inside",
        "outside",
    ]
)
ANAPHORIC_DETERMINERS = frozenset(
    [
        "the",
        "these",
        "those",
        "its",
        "their",
        "his",
        "her",
        "our",
        "both",
        "each",
        "every",
        "first",
        "last",
        "this",
        "your",
        "my",
    ]
)
CLAUSE_BREAKS = frozenset({";", ":"})
CLAUSE_BREAK_WORDS = frozenset(
    {
        "while",
        "whereas",
        "but",
        "although",
        "though",
        "after",
        "before",
        "when",
        "which",
        "who",
        "because",
        "where",
    }
)  # after a comma: ", while ...", ", which killed ..."
BACKWARD_STOPS = frozenset(
    [
        "which",
        "who",
        "whom",
        "that",
        "after",
        "before",
        "when",
        "because",
        "although",
        "if",
        "where",
        "whereas",
        "while",
        "but",
        "until",
        "since",
        "said",
        "says",
        "told",
    ]
)
CURRENT_MARKERS = frozenset({"remain", "remained", "remains", "remaining", "still", "currently"})
TOTAL_MARKERS: tuple[tuple[str, ...], ...] = (
    ("since",),
    ("so", "far"),
    ("to", "date"),
    ("in", "total"),
    ("a", "total", "of"),
    ("total", "number"),
    ("overall",),
    ("cumulative",),
    ("in", "all"),
    ("bringing", "the", "total"),
    ("total", "of"),
    ("thus", "far"),
    ("until", "now"),
    ("up", "to", "now"),
    ("tally",),
)
INCIDENT_NOUNS = frozenset(
    [
        "attack",
        "airstrike",
        "air",
        "strike",
        "strike",
        "bombing",
        "blast",
        "explosion",
        "raid",
        "clash",
        "clashes",
        "ambush",
        "operation",
        "assault",
        "shelling",
        "shooting",
        "incident",
        "crash",
        "collision",
        "earthquake",
        "quake",
        "fire",
        "flood",
        "landslide",
        "stampede",
        "storm",
    ]
)
STATE_MEASURES = frozenset({"trapped", "held", "present", "missing"})
PLACE_CLASSES_LOCAL = frozenset({"materiel", "aircraft", "structures"})
PASSIVE_AUXILIARIES = frozenset({"were", "was", "are", "is", "been", "be", "being"})
NON_VERB_ING = frozenset(
    {
        "including",
        "during",
        "bring",
        "bringing",
        "morning",
        "evening",
        "building",
        "buildings",
        "king",
        "ring",
        "spring",
        "string",
        "thing",
        "something",
        "nothing",
        "anything",
        "everything",
        "wing",
        "according",
        "remaining",
        "following",
        "totalling",
        "totaling",
    }
)
IRREGULAR_PAST = frozenset(
    [
        "sent",
        "took",
        "left",
        "made",
        "put",
        "set",
        "brought",
        "gave",
        "got",
        "kept",
        "lost",
        "hit",
        "shot",
        "struck",
        "fought",
        "won",
        "began",
        "sold",
        "bought",
        "paid",
        "told",
        "said",
        "saw",
        "met",
        "ran",
    ]
)
IRREGULAR_PLURALS = frozenset({"men", "women", "people", "children", "police", "militia"})
PHRASAL_PARTICLES = frozenset({"back", "up", "off", "out", "over"})
CONFLICT_CUES = frozenset(
    [
        "forces",
        "troops",
        "army",
        "military",
        "militants",
        "militant",
        "rebels",
        "rebel",
        "insurgents",
        "fighters",
        "militia",
        "militias",
        "offensive",
        "battle",
        "fighting",
        "control",
        "soldiers",
        "army's",
        "jihadists",
        "terrorists",
        "daesh",
        "isis",
        "isil",
        "taliban",
        "recaptured",
        "retaken",
        "liberated",
        "captured",
        "seized",
        "besieged",
        "siege",
        "frontline",
    ]
)
CONFLICT_MEASURES = frozenset({"held", "liberated", "present"})
NEW_CLAUSE_STARTERS = frozenset(
    {
        "the",
        "a",
        "an",
        "he",
        "she",
        "they",
        "it",
        "we",
        "i",
        "his",
        "her",
        "their",
        "its",
        "this",
        "that",
        "there",
    }
)
PREPOSITIONS = frozenset(
    {
        "with",
        "of",
        "in",
        "on",
        "from",
        "at",
        "near",
        "to",
        "by",
        "for",
        "into",
        "inside",
        "outside",
        "across",
        "among",
        "around",
        "against",
    }
)
COORDINATION = frozenset(
    {
        "and",
        "or",
        ",",
        "a",
        "an",
        "the",
        "other",
        "another",
        "also",
        "one",
        "some",
        "several",
        "many",
    }
)
MAX_BACKWARD_GAP = 6
MAX_FORWARD = 14
MAX_BACKWARD = 16
MAX_NP = 6


@dataclass(frozen=True, slots=True)
class ExtractionResult:
    article: ParsedArticle
    claims: list[Claim]

    def to_dict(self) -> dict[str, object]:
        return {
            "article": self.article.to_dict(),
            "published_at": (
                self.article.published_at.isoformat() if self.article.published_at else None
            ),
            "claims": [claim.to_dict() for claim in self.claims],
        }


@dataclass(slots=True)
class _Subject:
    name: str | None
    subject_class: str | None
    end: int  # token index after the noun phrase
    unknown_noun: bool = False
    relational: bool = False


@dataclass(slots=True)
class _Context:
    """What the rules know while walking the article in order."""

    text: str
    tokens: list[Token]
    vocab: Vocabulary
    published: dt.date | None
    published_trusted: bool
    version: str
    lead_place: str | None = None
    last_speaker: Speaker | None = None
    last_person: Speaker | None = None
    previous_claim: Claim | None = None
    previous_paragraph: int = -1
    claims: list[Claim] = field(default_factory=list)


def extract(
    text: str,
    published_at: dt.date | dt.datetime | str | None = None,
    outlet: str | None = None,
    title: str | None = None,
    *,
    vocabulary: Vocabulary | None = None,
) -> ExtractionResult:
    """Claims stated in `text`, in text order. Pure and deterministic."""
    vocab = vocabulary or get_vocabulary()
    article = parse_article(
        text, published_at=published_at, outlet=outlet, title=title, vocabulary=vocab
    )
    return ExtractionResult(article, extract_from_article(article, vocab))


def extract_from_article(article: ParsedArticle, vocab: Vocabulary) -> list[Claim]:
    from factstore.extraction import version_for

    text = article.text
    tokens: list[Token] = [] if article.body_tokens is None else list(article.body_tokens)
    paragraphs: list[tuple[int, int]] = []
    for start, end in article.body_spans:
        paragraphs.extend(paragraph_spans(text, start, end))
        if article.body_tokens is None:  # else parsing tokenized the body already
            tokens.extend(tokenize(text, start, end))
    sentences = split_sentences(text, tokens, paragraphs)
    places = find_places(tokens, vocab)
    context = _Context(
        text=text,
        tokens=tokens,
        vocab=vocab,
        published=article.published_at,
        published_trusted=article.published_at is not None and not article.published_at_inferred,
        version=version_for(vocab),
    )
    places_by_sentence = _group_places(places, sentences)
    context.lead_place = _lead_place(places_by_sentence, vocab)
    for number, sentence in enumerate(sentences):
        _extract_sentence(context, sentences, number, sentence, places_by_sentence)
    return context.claims


def _group_places(
    places: list[PlaceMention], sentences: list[Sentence]
) -> list[list[PlaceMention]]:
    grouped: list[list[PlaceMention]] = [[] for _ in sentences]
    position = 0
    for number, sentence in enumerate(sentences):
        while position < len(places) and places[position].first_token < sentence.first_token:
            position += 1
        while position < len(places) and places[position].first_token < sentence.last_token:
            grouped[number].append(places[position])
            position += 1
    return grouped


def _lead_place(grouped: list[list[PlaceMention]], vocab: Vocabulary) -> str | None:
    """The place of the article: the first place named in its first sentence that names one."""
    for mentions in grouped[:3]:
        for mention in mentions:
            if mention.carries and not mention.dateline:
                return mention.slug
    return None


def _extract_sentence(
    context: _Context,
    sentences: list[Sentence],
    number: int,
    sentence: Sentence,
    places_by_sentence: list[list[PlaceMention]],
) -> None:
    tokens = context.tokens
    first, last = sentence.first_token, sentence.last_token
    text = context.text
    words = {token.lower for token in tokens[first:last]}
    has_number = DIGIT.search(
        text, sentence.start, sentence.end
    ) is not None or not words.isdisjoint(NUMBER_WORDS)
    if not words.isdisjoint(context.vocab.speech_hints):
        cues = find_cues(tokens, first, last, context.vocab)
    else:
        cues = []  # no speech verb: skip the cue search (most sentences)
    speakers = [_resolve_speaker(context, cue) for cue in cues]
    if has_number:
        shifted = find_quantities(text, tokens=tokens[first:last], token_offset=first)
        dates = find_dates(tokens, first, last)
        sentence_claims: list[Claim] = []
        starts = {quantity.first_token for quantity in shifted}
        for quantity in shifted:
            claim = _claim_for(
                context,
                sentence,
                sentences,
                number,
                quantity,
                starts,
                places_by_sentence,
                cues,
                speakers,
                dates,
                sentence_claims,
            )
            if claim is not None:
                sentence_claims.append(claim)
                context.claims.append(claim)
                context.previous_claim = claim
                context.previous_paragraph = sentence.paragraph
    # remember who spoke last, for 'he said' and 'the commander noted' in later sentences
    for speaker in speakers:
        if speaker.name is not None:
            context.last_speaker = speaker
            if speaker.is_person:
                context.last_person = speaker


DIGIT = re.compile(r"[0-9]")
# words that may start a number: a sentence with no digit and none of them has no quantity
NUMBER_WORDS = frozenset(
    {*UNITS_WORDS, *TENS_WORDS, *NUMBER_START_WORDS, "dozen", "scores", "hundreds", "thousands"}
    | {
        f"{tens}-{unit}"
        for tens in TENS_WORDS
        for unit in UNITS_WORDS
        if 0 < UNITS_WORDS[unit] < 10
    }
)


def _resolve_speaker(context: _Context, cue: Cue) -> Speaker:
    speaker = normalise_speaker(context.tokens, cue.speaker_first, cue.speaker_last, context.vocab)
    if speaker.anaphoric:
        # a pronoun is whoever spoke last; "the commander" is the last person who spoke
        pronoun = cue.speaker_last - cue.speaker_first == 1
        if not pronoun and speaker.is_person and context.last_person is not None:
            return context.last_person
        if context.last_speaker is not None:
            return context.last_speaker
    return speaker


def _clause(tokens: list[Token], sentence: Sentence, index: int) -> tuple[int, int]:
    """The clause around token `index`: split at ';', ':' and ', while', ', but' ..."""
    first, last = sentence.first_token, sentence.last_token
    start = index
    while start > first:
        token = tokens[start - 1]
        if token.text in CLAUSE_BREAKS or (
            token.lower in CLAUSE_BREAK_WORDS
            and start - 2 >= first
            and tokens[start - 2].text == ","
        ):
            break
        start -= 1
    end = index
    while end < last:
        token = tokens[end]
        if token.text in CLAUSE_BREAKS or (
            token.lower in CLAUSE_BREAK_WORDS and end > first and tokens[end - 1].text == ","
        ):
            break
        end += 1
    return start, end


def _match_subject(
    tokens: list[Token], index: int, stop: int, vocab: Vocabulary
) -> tuple[SubjectSpec, int] | None:
    for size in range(min(vocab.max_subject_words, stop - index), 0, -1):
        key = tuple(tokens[index + k].lower for k in range(size))
        found = vocab.subjects.get(key)
        if found is not None:
            return found, index + size
    return None


def _match_cue(
    tokens: list[Token], index: int, stop: int, vocab: Vocabulary, direction: str
) -> tuple[list[MeasureCue], int] | None:
    """Cues of `direction` starting at token `index` (longest phrase): (cues, end index)."""
    for size in range(min(vocab.max_cue_words, stop - index), 0, -1):
        key = tuple(tokens[index + k].lower for k in range(size))
        found = vocab.cues.get(key)
        if found is not None:
            matching = [cue for cue in found if cue.direction == direction]
            if matching:
                return matching, index + size
    return None


def _starts_cue(tokens: list[Token], index: int, stop: int, vocab: Vocabulary) -> bool:
    return (
        _match_cue(tokens, index, stop, vocab, "after") is not None
        or _match_cue(tokens, index, stop, vocab, "before") is not None
    )


def _sentence_has_militants(tokens: list[Token], first: int, last: int, vocab: Vocabulary) -> bool:
    for token in tokens[first:last]:
        if token.lower in vocab.militant_cues:
            return True
        if "-" in token.lower and any(p in vocab.militant_cues for p in token.lower.split("-")):
            return True
    return False


def _read_subject(
    context: _Context,
    quantity: Quantity,
    clause_end: int,
    sentence: Sentence,
    sentence_claims: list[Claim],
) -> _Subject:
    tokens, vocab = context.tokens, context.vocab
    index = quantity.last_token
    if quantity.unit == "km2":
        return _Subject("area", "area", index)
    stop = min(clause_end, index + MAX_NP + 2)
    partitive = index < stop and tokens[index].lower == "of"
    if partitive:
        index += 1
        while index < stop and tokens[index].lower in ANAPHORIC_DETERMINERS | {"them", "those"}:
            if tokens[index].lower in ("them", "those"):
                return _relational_subject(context, sentence, sentence_claims, index + 1)
            index += 1
        stop = min(clause_end, index + MAX_NP)
    found: tuple[SubjectSpec, int] | None = None
    modifiers: list[str] = []
    position = index
    while position < stop:
        token = tokens[position]
        match = _match_subject(tokens, position, stop, vocab)
        if match is not None:
            found = match
            position = match[1]
            # compound nouns: the head is the last known noun ("militant hideouts"); a plural
            # noun ends the phrase ("three men police had detained")
            while position < stop and not _is_plural_head(tokens[position - 1].lower):
                again = _match_subject(tokens, position, stop, vocab)
                if again is None:
                    break
                modifiers.append(found[0].name)
                found = again
                position = again[1]
            break
        if token.lower in vocab.relational_nouns and token.kind == "word":
            # "members of the Takfiri Daesh militant group", "three of his associates"
            return _relational_subject(context, sentence, sentence_claims, position + 1)
        if (
            token.kind != "word"
            or token.lower in FUNCTION_WORDS
            or _starts_cue(tokens, position, stop, vocab)
        ):
            break
        modifiers.append(token.lower)
        position += 1
    if found is None:
        first = tokens[index] if index < len(tokens) and index < clause_end else None
        unknown = (
            first is not None
            and first.kind == "word"
            and first.lower not in (FUNCTION_WORDS)
            and not _starts_cue(tokens, index, clause_end, vocab)
        )
        return _Subject(None, None, quantity.last_token, unknown_noun=unknown)
    spec, end = found
    name, subject_class = spec.name, spec.subject_class
    head_word = tokens[end - 1].lower
    if head_word in vocab.relational_nouns or (
        name in ("fighters", "people") and any((m,) in vocab.subject_modifiers for m in modifiers)
    ):
        if head_word in vocab.relational_nouns:
            # "members of the Takfiri Daesh militant group", "three of his associates"
            relational = _relational_subject(context, sentence, sentence_claims, end)
            return relational
        for modifier in modifiers:
            override = vocab.subject_modifiers.get((modifier,))
            if override is not None:
                return _Subject(override, vocab.subject_classes[override], end)
    for modifier in modifiers:
        override = vocab.subject_modifiers.get((modifier,))
        if (
            override == "militants"
            and subject_class == "persons"
            and name in ("fighters", "people", "members", "rebels", "commanders")
        ):
            return _Subject(override, "persons", end)
    if subject_class == "territory":
        end, name = _territory_list(tokens, end, clause_end, vocab, name)
    return _Subject(name, subject_class, end)


def _is_plural_head(word: str) -> bool:
    return word in IRREGULAR_PLURALS or (word.endswith("s") and not word.endswith("ss"))


def _territory_list(
    tokens: list[Token], end: int, clause_end: int, vocab: Vocabulary, name: str
) -> tuple[int, str]:
    """'55 districts, villages and vital facilities': several kinds of place -> 'places'."""
    position = end
    kinds = {name}
    last_end = end
    limit = min(clause_end, end + 8)
    while position < limit:
        token = tokens[position]
        if token.text == "," or token.lower in ("and", "or"):
            position += 1
            continue
        match = _match_subject(tokens, position, limit, vocab)
        if match is not None and match[0].subject_class == "territory":
            kinds.add(match[0].name)
            position = last_end = match[1]
            continue
        if (
            token.kind == "word"
            and token.lower not in FUNCTION_WORDS
            and position + 1 < limit
            and tokens[position - 1].lower in (",", "and", "or")
        ):
            position += 1  # "vital" in "vital facilities"
            continue
        break
    if len(kinds) > 1:
        return last_end, "places"
    return end, name


def _relational_subject(
    context: _Context, sentence: Sentence, sentence_claims: list[Claim], end: int
) -> _Subject:
    """'two others', 'three of his associates', 'members of the militant group'."""
    tokens, vocab = context.tokens, context.vocab
    # "members of <group>": the group says who they are
    probe_end = min(sentence.last_token, end + 8)
    if end < probe_end and tokens[end].lower == "of":
        for position in range(end + 1, probe_end):
            token = tokens[position]
            if token.lower in vocab.militant_cues:
                return _Subject("militants", "persons", end)
            match = _match_subject(tokens, position, probe_end, vocab)
            if match is not None and match[0].subject_class == "persons":
                return _Subject(match[0].name, "persons", end)
    if (
        sentence_claims
        and sentence_claims[-1].subject
        and vocab.subject_classes.get(sentence_claims[-1].subject) == "persons"
    ):
        return _Subject(sentence_claims[-1].subject, "persons", end, relational=True)
    if _sentence_has_militants(tokens, sentence.first_token, sentence.last_token, vocab):
        return _Subject("militants", "persons", end, relational=True)
    return _Subject("people", "persons", end, relational=True)


def _compatible(cues: list[MeasureCue], subject: _Subject, vocab: Vocabulary) -> str | None:
    for cue in cues:
        spec = vocab.measures[cue.measure]
        if subject.subject_class is None:
            if spec.default_subject is not None:
                return cue.measure
            continue
        if subject.subject_class in spec.subject_classes:
            return cue.measure
    return None


_AUX_OR_ADVERB_BEFORE_CUE = frozenset(
    {
        "have",
        "has",
        "had",
        "been",
        "were",
        "was",
        "are",
        "is",
        "be",
        "being",
        "to",
        "also",
        "still",
        "reportedly",
        "all",
        "already",
        "now",
        "later",
        "remain",
        "remained",
        "get",
        "got",
        "left",
        "feared",
        "believed",
        "thought",
        "presumed",
        "either",
        "or",
        "and",
        "who",
        "since",
        "found",
        "confirmed",
        "initially",
    }
)
_OBJECT_STARTERS = frozenset(
    {
        "a",
        "an",
        "the",
        "his",
        "her",
        "their",
        "its",
        "dozens",
        "hundreds",
        "thousands",
        "scores",
        "some",
        "several",
        "many",
        "at",
        "more",
        "over",
        "nearly",
        "about",
        "around",
        "up",
        "as",
    }
)


def _forward_measure(
    context: _Context, subject: _Subject, clause_end: int, quantities_after: set[int]
) -> tuple[str, int, int] | None:
    """A cue after the counted noun phrase: passive, participle or intransitive."""
    tokens, vocab = context.tokens, context.vocab
    position = subject.end
    limit = min(clause_end, subject.end + MAX_FORWARD)
    depth = 0
    coordination_only = True  # only "and", "a", "the" ... since the noun phrase
    previous_ok = True  # the cue directly after the noun phrase binds ("11 drones shot down")
    while position < limit:
        token = tokens[position]
        if token.text in ("(", "—", "–") or (
            token.text == "-" and position + 1 < limit and tokens[position + 1].text == "-"
        ):
            # parenthetical: "-- or a total area of 406 square kilometers --"
            closing = _skip_parenthetical(tokens, position, clause_end)
            if closing is not None:
                limit = min(clause_end, limit + closing - position)  # asides do not count
            if closing is None:
                if depth:
                    break
                position += 2 if token.text == "-" else 1
                previous_ok = True
                continue
            position = closing
            previous_ok = True
            continue
        match = _match_cue(tokens, position, limit, vocab, "after")
        if match is not None and previous_ok:
            cues, end = match
            measure = _compatible(cues, subject, vocab)
            if measure is not None and not _is_active_use(tokens, position, end, clause_end, vocab):
                return measure, position, end
        if position in quantities_after:
            if tokens[position - 1].text != "," and tokens[position - 1].lower not in ("and", "or"):
                return None  # another figure with its own noun phrase in between
            # "61 hideouts, 10 bomb-making workshops and five command centers were demolished":
            # skip the next member of the list
            member_end = _list_member_end(tokens, position, limit, vocab)
            if member_end is not None:
                limit = min(clause_end, limit + member_end - position)
                position = member_end
                previous_ok = True
                continue
        if token.text in ('"', "“", "”") or token.lower in BACKWARD_STOPS - {"since"}:
            return None
        if (
            token.text == ","
            and position + 1 < limit
            and tokens[position + 1].lower in (NEW_CLAUSE_STARTERS)
        ):
            return None  # "with two police officers, the suspects had fled"
        if (
            position > subject.end
            and not coordination_only
            and (
                _match_subject(tokens, position, limit, vocab) is not None
                and tokens[position - 1].lower not in PREPOSITIONS
                and (position < 2 or tokens[position - 2].lower not in PREPOSITIONS)
            )
        ):
            return None  # "six bodies lying on the ground and other people wounded"
        if token.lower not in COORDINATION:
            coordination_only = False
        previous_ok = (
            token.lower in _AUX_OR_ADVERB_BEFORE_CUE
            or token.lower in (vocab.auxiliaries)
            or token.lower.endswith("ly")
        )
        position += 1
    return None


def _list_member_end(
    tokens: list[Token], position: int, limit: int, vocab: Vocabulary
) -> int | None:
    """The end of '10 bomb-making workshops' starting at its number, or None."""
    index = position
    while index < limit and (tokens[index].kind == "num" or _may_start_number(tokens[index])):
        index += 1
    for _ in range(MAX_NP):
        if index >= limit:
            return None
        found = _match_subject(tokens, index, limit, vocab)
        if found is not None:
            end = found[1]
            while end < limit:
                again = _match_subject(tokens, end, limit, vocab)
                if again is None:
                    break
                end = again[1]
            return end
        if tokens[index].kind != "word" or tokens[index].lower in FUNCTION_WORDS:
            return None
        index += 1
    return None


def _adjectival_measure(
    context: _Context, quantity: Quantity, clause_end: int
) -> tuple[str, int, int, _Subject] | None:
    """'20 wounded students', '300 dead civilians': the cue is an adjective of the noun."""
    tokens, vocab = context.tokens, context.vocab
    index = quantity.last_token
    if index + 1 >= clause_end:
        return None
    match = _match_cue(tokens, index, index + 1, vocab, "after")
    if match is None:
        return None
    for position in (index + 1, index + 2):
        if position >= clause_end or tokens[position].kind != "word":
            break  # "killed 16 people" is a verb and its object, not an adjective
        if _may_start_number(tokens[position]):
            break
        found = _match_subject(tokens, position, clause_end, vocab)
        if found is not None:
            spec, end = found
            subject = _Subject(spec.name, spec.subject_class, end)
            measure = _compatible(match[0], subject, vocab)
            if measure is None:
                return None
            return measure, index, index + 1, subject
    return None


def _skip_parenthetical(tokens: list[Token], position: int, limit: int) -> int | None:
    opener = tokens[position].text
    closer = ")" if opener == "(" else opener
    width = 2 if opener == "-" else 1
    index = position + width
    while index < limit:
        if tokens[index].text == closer and (
            width == 1 or (index + 1 < limit and tokens[index + 1].text == "-")
        ):
            return index + width
        index += 1
    return None


def _is_active_use(
    tokens: list[Token], first: int, end: int, clause_end: int, vocab: Vocabulary
) -> bool:
    """'20 gunmen killed 30 people': a transitive cue followed by its object is not about the
    figure before it."""
    if end >= clause_end:
        return False
    if tokens[end].lower in PHRASAL_PARTICLES:
        return True  # "being held back", "shot up": another verb altogether
    if end - first > 1:
        return False
    key = (tokens[first].lower,)
    if not any(cue.direction == "before" for cue in vocab.cues.get(key, [])):
        return False
    following = tokens[end]
    if first > 0 and tokens[first - 1].lower in ("been", "were", "was", "are", "is", "be"):
        return False
    if following.lower in PHRASAL_PARTICLES:
        return True  # "held back", "shot up": another verb altogether
    return (
        following.kind == "num"
        or _may_start_number(following)
        or following.lower in (_OBJECT_STARTERS)
        or (following.text[:1].isupper() and following.kind == "word")
    )


def _backward_measure(
    context: _Context,
    quantity: Quantity,
    subject: _Subject,
    clause_start: int,
    long_reach: bool = False,
) -> tuple[str, int, int] | None:
    """A cue before the number: 'killed more than 1,300', 'killing 12', 'freed seven'."""
    tokens, vocab = context.tokens, context.vocab
    start_token = _start_token(tokens, quantity)
    position = start_token - 1
    limit = max(clause_start, start_token - MAX_BACKWARD)
    # "killed 5 soldiers and 3 civilians": a figure in a list shares the list's verb
    coordinated = position >= 0 and tokens[position].lower in ("and", "or", ",", "including")
    while position >= limit:
        token = tokens[position]
        if token.lower in BACKWARD_STOPS or token.text in ('"', "“", "”", "(", ")"):
            return None
        if token.kind == "num" and not coordinated:
            return None  # "controls 40 pct of the market, has 2,400 employees"
        if (
            token.kind == "word"
            and position > limit
            and tokens[position - 1].lower in ("and", "or", ",")
            and (token.lower.endswith("ed") or token.lower in IRREGULAR_PAST)
            and not _ends_cue(tokens, position, vocab)
        ):
            return None  # "killed one and sent 17 to hospital": a new predicate
        if (
            position > limit
            and token.kind == "word"
            and token.lower.endswith("ing")
            and (token.lower not in NON_VERB_ING and not _ends_cue(tokens, position, vocab))
        ):
            return None  # another verb governs what follows: "a ferry carrying 540 people"
        for size in range(min(vocab.max_cue_words, position - limit + 1), 0, -1):
            first = position - size + 1
            key = tuple(tokens[first + k].lower for k in range(size))
            found = vocab.cues.get(key)
            if found is None:
                continue
            cues = [cue for cue in found if cue.direction == "before"]
            if cues and first > 0 and tokens[first - 1].lower in PASSIVE_AUXILIARIES:
                return None  # "200 people were rescued from a ferry carrying 540": passive
            if (
                cues
                and start_token - (position + 1) > MAX_BACKWARD_GAP
                and not (coordinated or long_reach)
            ):
                return None  # too far to govern the figure, unless a list shares the verb
            if cues:
                measure = _compatible(cues, subject, vocab)
                if measure is not None:
                    return measure, first, position + 1
                return None  # the nearest verb governs the figure, even when it does not fit
            if first > 0 and tokens[first - 1].lower in ("and", "or"):
                return None  # "killed one miner and trapped 44 others": that verb governs
            break
        position -= 1
    return None


def _ends_cue(tokens: list[Token], position: int, vocab: Vocabulary) -> bool:
    return (tokens[position].lower,) in vocab.cues


def _start_token(tokens: list[Token], quantity: Quantity) -> int:
    index = quantity.first_token
    while index > 0 and tokens[index - 1].start >= quantity.start:
        index -= 1
    return index


def _subject_before(context: _Context, quantity: Quantity, clause_start: int) -> _Subject | None:
    """'the total number of districts liberated ... to 40': the subject precedes the figure."""
    tokens, vocab = context.tokens, context.vocab
    start = _start_token(tokens, quantity)
    if start == 0 or tokens[start - 1].lower not in (
        "to",
        "at",
        "reached",
        "of",
        "is",
        "was",
        "stood",
        "hit",
        "rose",
        "climbed",
    ):
        return None
    position = start - 1
    while position > clause_start:
        if (
            tokens[position].lower == "number"
            and position + 1 < start
            and tokens[position + 1].lower == "of"
        ):
            match = _match_subject(tokens, position + 2, start, vocab)
            if match is not None:
                return _Subject(match[0].name, match[0].subject_class, quantity.last_token)
        if tokens[position].lower in ("toll", "tally"):
            return _Subject("people", "persons", quantity.last_token)
        position -= 1
    return None


def _claim_for(
    context: _Context,
    sentence: Sentence,
    sentences: list[Sentence],
    number: int,
    quantity: Quantity,
    quantities_after: set[int],
    places_by_sentence: list[list[PlaceMention]],
    cues: list[Cue],
    speakers: list[Speaker],
    dates: list[DateMention],
    sentence_claims: list[Claim],
) -> Claim | None:
    tokens, vocab = context.tokens, context.vocab
    if quantity.unit not in ("count", "km2"):
        return None
    if quantity.unit == "count" and (
        not float(quantity.value).is_integer()
        or (
            "." in tokens[quantity.first_token].text
            and quantity.last_token - quantity.first_token == 1
        )
    ):
        return None  # people and things are counted in whole numbers: 12.1 is a ratio or price
    start_token = _start_token(tokens, quantity)
    if (
        start_token > 0
        and tokens[start_token - 1].lower in ANAPHORIC_DETERMINERS
        and (quantity.qualifier == "exact")
    ):
        return None  # "the two districts": a figure already stated
    if start_token > 0 and tokens[start_token - 1].lower.endswith(("'s", "’s")):
        return None  # "the facility's 425 employees" describes, it does not report
    if _is_age_apposition(tokens, start_token, quantity.last_token):
        return None  # "Hiroshi Ishikawa, 47, former president"
    if start_token > 0 and _is_acronym(tokens[start_token - 1]):
        return None  # "RIC 118", "UNSC 2254": a label
    clause_start, clause_end = _clause(tokens, sentence, quantity.first_token)
    subject = _read_subject(context, quantity, clause_end, sentence, sentence_claims)
    rule = ""
    if subject.name is None:
        if subject.unknown_noun:
            return None
        before = _subject_before(context, quantity, clause_start)
        if before is not None:
            subject = before
            rule = "total-of"
    found: tuple[str, int, int] | None = None
    adjectival = _adjectival_measure(context, quantity, clause_end)
    if adjectival is not None:
        measure_name, adjective_first, adjective_end, subject = adjectival
        found = (measure_name, adjective_first, adjective_end)
        rule = "adjectival"
    else:
        found = _forward_measure(context, subject, clause_end, quantities_after)
    if found is not None:
        rule = rule or "passive"
    else:
        found = _backward_measure(
            context, quantity, subject, clause_start, long_reach=rule == "total-of"
        )
        if found is not None:
            rule = rule or "active"
    if found is None:
        return None
    measure, cue_first, cue_end = found
    if measure in CONFLICT_MEASURES and not _near_conflict(tokens, sentences, number):
        return None  # "holds 6,500 acres" is a lease, not a front line
    if subject.name is None:
        default = vocab.measures[measure].default_subject
        if default is None:
            return None
        subject = _Subject(default, vocab.subject_classes.get(default, "persons"), subject.end)
    subject_name = subject.name or "people"
    # quote: from the cue or qualifier to the end of the noun phrase or of a close cue
    quote_first = min(start_token, cue_first) if cue_first < start_token else start_token
    quote_last = max(subject.end, cue_end) if cue_end - subject.end <= 4 else subject.end
    if quote_last == cue_end and tokens[cue_end - 1].lower in PREPOSITIONS | {"under"}:
        # "remained under its control": a cue ending in a preposition needs its object
        while quote_last < min(clause_end, cue_end + 3) and tokens[quote_last].kind == "word":
            quote_last += 1
    if cue_first < start_token and start_token - cue_first > 4:
        quote_first = start_token
    quote_start = tokens[quote_first].start
    quote_end = max(tokens[quote_last - 1].end, quantity.end)
    number_token = quantity.first_token
    speaker = _attribution(cues, speakers, number_token)
    kind = _kind(
        context,
        sentence,
        clause_start,
        clause_end,
        measure,
        speaker,
        (min(start_token, cue_first), max(quantity.last_token, cue_end)),
    )
    as_of, as_of_inferred = _as_of(context, dates, clause_start, clause_end, number_token)
    valid_from = _valid_from(context, dates, sentence)
    place = _place(
        context,
        sentences,
        number,
        places_by_sentence,
        clause_start,
        clause_end,
        number_token,
        subject.subject_class,
    )
    subject_name = _subject_name_for(measure, subject_name)
    key = topic_key(kind=kind, measure=measure, subject=subject_name, place=place, as_of=as_of)
    return Claim(
        quote=context.text[quote_start:quote_end],
        start=quote_start,
        end=quote_end,
        sentence=context.text[sentence.start : sentence.end],
        value=quantity.value,
        lower=quantity.lower,
        upper=quantity.upper,
        qualifier=quantity.qualifier,
        unit=quantity.unit,
        stated_unit=quantity.stated_unit,
        measure=measure,
        subject=subject_name,
        place=place,
        attributed_to=speaker.name if speaker else None,
        kind=kind,
        as_of=as_of,
        as_of_inferred=as_of_inferred,
        valid_from=valid_from,
        topic=key,
        rule=f"{rule}:{measure}",
        extractor_version=context.version,
    )


def _is_age_apposition(tokens: list[Token], first: int, last: int) -> bool:
    return (
        first >= 2
        and last < len(tokens)
        and tokens[first - 1].text == ","
        and tokens[last].text == ","
        and last - first == 1
        and tokens[first - 2].kind == "word"
        and tokens[first - 2].text[:1].isupper()
    )


def _is_acronym(token: Token) -> bool:
    return token.kind == "word" and len(token.text) >= 2 and token.text.isupper()


def _near_conflict(tokens: list[Token], sentences: list[Sentence], number: int) -> bool:
    first = sentences[max(0, number - 1)].first_token
    last = sentences[number].last_token
    return any(t.lower in CONFLICT_CUES for t in tokens[first:last])


def _subject_name_for(measure: str, subject: str) -> str:
    return subject


def _attribution(cues: list[Cue], speakers: list[Speaker], number_token: int) -> Speaker | None:
    """The source whose cue covers the figure; a named source beats a relaying outlet, and the
    cue closest to the figure wins."""
    best: tuple[tuple[int, int], Speaker] | None = None
    for cue, speaker in zip(cues, speakers, strict=True):
        if speaker.name is None:
            continue
        if not cue.scope_first <= number_token < cue.scope_last:
            continue
        distance = abs(number_token - cue.cue_first)
        rank = (1 if speaker.is_relay else 0, distance)
        if best is None or rank < best[0]:
            best = (rank, speaker)
    return best[1] if best else None


def _has_phrase(
    tokens: list[Token], first: int, last: int, phrases: tuple[tuple[str, ...], ...]
) -> bool:
    for index in range(first, last):
        lower = tokens[index].lower
        for phrase in phrases:
            if phrase[0] == lower and all(
                index + k < last and tokens[index + k].lower == phrase[k]
                for k in range(1, len(phrase))
            ):
                return True
    return False


def _kind(
    context: _Context,
    sentence: Sentence,
    clause_start: int,
    clause_end: int,
    measure: str,
    speaker: Speaker | None,
    span: tuple[int, int],
) -> ClaimKind:
    tokens = context.tokens
    words = {t.lower for t in tokens[clause_start:clause_end]}
    between = {t.lower for t in tokens[span[0] : span[1]]}
    if measure in STATE_MEASURES or between & CURRENT_MARKERS:
        return "current"  # "remain trapped", "are still missing"
    if _has_phrase(tokens, sentence.first_token, sentence.last_token, TOTAL_MARKERS):
        return "total"
    previous = context.previous_claim
    if (
        previous is not None
        and previous.kind == "total"
        and speaker is not None
        and previous.attributed_to == speaker.name
        and context.previous_paragraph >= sentence.paragraph - 1
        and not words & INCIDENT_NOUNS
    ):
        return "total"  # the same source continuing its running tally
    return "incident"


def _as_of(
    context: _Context,
    dates: list[DateMention],
    clause_start: int,
    clause_end: int,
    number_token: int,
) -> tuple[str | None, bool]:
    """The day a figure refers to: a day-precision date in the sentence (nearest the figure,
    preferring its clause), else the publication day, marked inferred."""
    published = context.published if context.published_trusted else None
    candidates: list[tuple[int, dt.date]] = []
    for mention in dates:
        if mention.precision != "day" or _after_since(context.tokens, mention):
            continue
        day = resolve(mention, published)
        if day is None:
            continue
        inside = clause_start <= mention.first_token < clause_end
        distance = abs(mention.first_token - number_token) + (0 if inside else 1000)
        candidates.append((distance, day))
    if candidates:
        return min(candidates)[1].isoformat(), False
    if published is not None:
        return published.isoformat(), True
    return None, False


def _after_since(tokens: list[Token], mention: DateMention) -> bool:
    start = max(0, mention.first_token - 8)
    return any(
        t.lower in ("since", "from", "began", "start", "beginning")
        for t in tokens[start : mention.first_token]
    )


def _valid_from(context: _Context, dates: list[DateMention], sentence: Sentence) -> str | None:
    """'since the start of the offensive in February' -> '2017-02' (month precision)."""
    tokens = context.tokens
    published = context.published  # a month needs only the year, an inferred one will do
    for mention in dates:
        window = tokens[max(sentence.first_token, mention.first_token - 8) : mention.first_token]
        if not any(t.lower == "since" for t in window):
            continue
        if mention.precision == "day":
            day = resolve(mention, published)
            if day is not None:
                return day.isoformat()
        month = resolve_month(mention, published)
        if month is not None:
            return month
    return None


def _place(
    context: _Context,
    sentences: list[Sentence],
    number: int,
    places_by_sentence: list[list[PlaceMention]],
    clause_start: int,
    clause_end: int,
    number_token: int,
    subject_class: str | None,
) -> str | None:
    vocab = context.vocab
    mentions = places_by_sentence[number]
    located = [m for m in mentions if not m.dateline]
    if located:
        mentions = located  # "SANAA (Reuters) - ... in Taiz": the dateline is the desk
    in_clause = [m for m in mentions if clause_start <= m.first_token < clause_end]
    inside = [m for m in in_clause if not m.outside]
    if in_clause and not inside:
        return None  # "outside the city, hundreds fled": somewhere, but not there
    if inside:
        frame = _fronted_locative(context.tokens, sentences[number], inside)
        if frame is not None and not any(
            frame.slug in vocab.ancestors(m.slug) for m in inside if m.slug != frame.slug
        ):
            return frame.slug  # "In west of Mosul, units freed seven villages near Tal Afar"
        return _choose_place(inside, number_token, vocab)
    frame = _fronted_locative(context.tokens, sentences[number], mentions)
    if frame is not None:
        return frame.slug  # "In Nepal, ... while 500,000 homes were destroyed"
    if subject_class in PLACE_CLASSES_LOCAL:
        return None  # materiel counts are campaign-wide unless the clause places them
    sentence_places = mentions
    if sentence_places:
        return _choose_place(sentence_places, number_token, vocab)
    paragraph = sentences[number].paragraph
    for earlier in range(number - 1, -1, -1):
        if sentences[earlier].paragraph != paragraph:
            break
        carried = [m for m in places_by_sentence[earlier] if m.carries]
        if carried:
            return carried[-1].slug
    return context.lead_place


def _fronted_locative(
    tokens: list[Token], sentence: Sentence, mentions: list[PlaceMention]
) -> PlaceMention | None:
    """A place that opens the sentence as a frame: 'In eastern Aleppo, ...'."""
    first = sentence.first_token
    if tokens[first].lower not in ("in", "inside", "across", "near", "around", "at"):
        return None
    for mention in mentions:
        if mention.first_token <= first + 3 and (
            mention.last_token < len(tokens) and tokens[mention.last_token].text == ","
        ):
            return mention
    return None


def _choose_place(mentions: list[PlaceMention], number_token: int, vocab: Vocabulary) -> str:
    """Several places in a clause: the innermost of a containment chain ('Mosul, Iraq' ->
    mosul); the common container of siblings within one city ('Karama, Khadra and Kokjali
    neighborhoods' of 'eastern Mosul' -> mosul-east); otherwise the nearest to the figure."""
    slugs = list(dict.fromkeys(m.slug for m in mentions))
    if len(slugs) == 1:
        return slugs[0]
    chains = {slug: vocab.ancestors(slug) for slug in slugs}
    innermost = [s for s in slugs if not any(s != o and s in chains[o] for o in slugs)]
    if len(innermost) == 1:
        return innermost[0]
    common = set(chains[innermost[0]])
    for slug in innermost[1:]:
        common &= set(chains[slug])
    if common:
        lowest = min(common, key=lambda s: chains[innermost[0]].index(s))
        kind = vocab.place_kind(lowest)
        if lowest in slugs or kind in CITY_KINDS or kind in ("part", "district", "neighborhood"):
            return lowest
    nearest = min(mentions, key=lambda m: abs(m.first_token - number_token))
    return nearest.slug


__all__ = ["PERSON_ROLES", "ExtractionResult", "extract", "extract_from_article"]
