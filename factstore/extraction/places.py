"""Place mentions: gazetteer names, parts of cities, and the anaphoric 'the city'.

A mention resolves to a slug of the gazetteer. Parts of a city are qualified by the city:
'western Mosul', 'the western part of Mosul', "Mosul's west side", 'west of Mosul' -> mosul-west;
'the Old City of Mosul', "Mosul's old city" -> mosul-old-city; 'the Old City', 'the city' and
'west of the city' resolve against the last city named before them.

`carries` is False for relations that locate something relative to a place without putting it
there ('70 km west of Mosul'): such mentions count for their own sentence but do not become the
context of the following sentences.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from factstore.extraction.text import Token
from factstore.extraction.vocabulary import Vocabulary

DIRECTION_WORDS = {
    "east": "east", "eastern": "east", "west": "west", "western": "west", "north": "north",
    "northern": "north", "south": "south", "southern": "south",
}  # fmt: skip
PART_NOUNS = frozenset(
    [
        "part",
        "parts",
        "side",
        "sides",
        "flank",
        "half",
        "bank",
        "section",
        "sections",
        "districts",
        "neighborhoods",
        "neighbourhoods",
        "outskirts",
        "sector",
        "sectors",
        "areas",
        "quarters",
        "suburbs",
        "edge",
        "edges",
        "fringes",
    ]
)
ANAPHOR_WORDS = frozenset({"old", "city", "city's", "city’s"})
CITY_KINDS = frozenset({"city", "town"})
LOCATIVE = frozenset(
    [
        "in",
        "at",
        "near",
        "from",
        "of",
        "outside",
        "inside",
        "across",
        "to",
        "into",
        "around",
        "on",
        "toward",
        "towards",
        "through",
        "within",
        "throughout",
        "between",
    ]
)


@dataclass(frozen=True, slots=True)
class PlaceMention:
    start: int
    end: int
    first_token: int
    last_token: int
    slug: str
    carries: bool
    outside: bool = False  # "outside the city": located by the place, but not in it
    dateline: bool = False  # "SANAA (Reuters) -": where the story was filed


def _is_name_token(token: Token) -> bool:
    first = token.text[:1]
    if first.isupper():
        return True
    # "al-Mashahda", "el-Arish": a lowercase article glued to a capitalised name
    return (
        token.lower.startswith(("al-", "el-", "ad-", "ar-", "as-", "an-")) and len(token.text) > 3
    )


def find_places(
    tokens: list[Token],
    vocab: Vocabulary,
    first: int = 0,
    last: int | None = None,
    city_before: str | None = None,
) -> list[PlaceMention]:
    """Place mentions in tokens[first:last]. `city_before` is the last city named earlier in the
    text, for 'the city' and 'the Old City' before any city is named in this range."""
    stop = len(tokens) if last is None else last
    mentions: list[PlaceMention] = []
    last_city = city_before
    index = first
    names = vocab.place_names
    width = vocab.max_place_words
    while index < stop:
        token = tokens[index]
        if token.kind != "word":
            index += 1
            continue
        lower = token.lower
        # "the city", "the Old City", "west of the city", "the city's eastern districts"
        if lower == "the" and index + 1 < stop and tokens[index + 1].lower in ANAPHOR_WORDS:
            anaphor = _city_anaphor(tokens, index, stop, last_city, vocab)
            if anaphor is not None:
                mentions.append(anaphor)
                last_city = _city_of(anaphor.slug, vocab) or last_city
                index = anaphor.last_token
                continue
        if lower in DIRECTION_WORDS and index + 1 < stop:
            part = _direction_of_city(tokens, index, stop, vocab, last_city)
            if part is not None:
                mentions.append(part)
                if vocab.place_kind(vocab.parent_of(part.slug) or "") in CITY_KINDS:
                    last_city = vocab.parent_of(part.slug)
                index = part.last_token
                continue
        if (
            lower not in vocab.place_first_words and lower not in vocab.place_first_words_possessive
        ) or not _is_name_token(token):
            index += 1
            continue
        matched: tuple[str, int] | None = None
        for size in range(min(width, stop - index), 0, -1):
            key = tuple(tokens[index + k].lower for k in range(size))
            slug = names.get(key)
            if slug is not None:
                matched = (slug, index + size)
                break
        if matched is None and lower.endswith(("'s", "’s")):
            # "Iraq's", "Mosul's": the possessive is glued to the name
            slug = names.get((lower[:-2],))
            if slug is not None:
                matched = (slug, index + 1)
        if matched is None:
            index += 1
            continue
        slug, end = matched
        place = vocab.places[slug]
        if (place.capital or place.kind == "country") and _is_metonym(tokens, index, end, stop):
            index = end  # "since Moscow started its campaign": a government, not a place
            continue
        if end < stop and _continues_proper_name(tokens, end, names, width):
            index = end  # "the Nineveh Liberation Operation" names an operation, not a place
            continue
        if place.needs_preposition and (index == 0 or tokens[index - 1].lower not in LOCATIVE):
            index = end
            continue
        if place.kind in CITY_KINDS:
            last_city = slug
            possessive_part = _possessive_part(tokens, index, end, stop, slug, vocab)
            if possessive_part is not None:
                mentions.append(possessive_part)
                index = possessive_part.last_token
                continue
        elif place.parent and vocab.place_kind(place.parent) in CITY_KINDS:
            last_city = place.parent
        possessive = tokens[end - 1].lower.endswith(("'s", "’s"))
        # "Iraq's flag" says whose, not where: it counts in its sentence but is not carried on
        mentions.append(
            PlaceMention(token.start, tokens[end - 1].end, index, end, slug, not possessive)
        )
        index = end
    return [_mark_outside(tokens, mention) for mention in mentions]


ACTOR_VERBS = frozenset(
    [
        "said",
        "says",
        "has",
        "have",
        "had",
        "is",
        "was",
        "will",
        "would",
        "wants",
        "wanted",
        "accused",
        "announced",
        "started",
        "began",
        "launched",
        "denied",
        "warned",
        "urged",
        "signed",
        "agreed",
        "rejected",
        "demanded",
        "responded",
        "called",
        "claimed",
        "insisted",
        "hopes",
        "sent",
    ]
)


def _is_metonym(tokens: list[Token], index: int, end: int, stop: int) -> bool:
    if end >= stop or (index > 0 and tokens[index - 1].lower in LOCATIVE):
        return False
    following = tokens[end]
    return following.kind == "word" and following.lower in ACTOR_VERBS


def _continues_proper_name(
    tokens: list[Token], index: int, names: dict[tuple[str, ...], str], width: int
) -> bool:
    token = tokens[index]
    if token.kind != "word" or not token.text[:1].isupper():
        return False
    if token.start - tokens[index - 1].end != 1:
        return False  # separated by punctuation or a line break
    if tokens[index - 1].lower.endswith(("'s", "’s")):
        return False
    return (token.lower,) not in names


def _mark_outside(tokens: list[Token], mention: PlaceMention) -> PlaceMention:
    if mention.first_token > 0 and tokens[mention.first_token - 1].lower in ("outside", "beyond"):
        return replace(mention, carries=False, outside=True)
    if _is_dateline(tokens, mention):
        return replace(mention, carries=False, dateline=True)
    return mention


def _is_dateline(tokens: list[Token], mention: PlaceMention) -> bool:
    """'SANAA (Reuters) -', 'CAIRO—', 'BEIJING French ...': a capitalised city name opening a
    paragraph."""
    first = tokens[mention.first_token]
    if not all(t.text.isupper() for t in tokens[mention.first_token : mention.last_token]):
        return False
    if len(first.text) < 3:
        return False
    return mention.first_token == 0 or "\n" in _gap(tokens, mention.first_token)


def _gap(tokens: list[Token], index: int) -> str:
    # the characters between two tokens are not kept; a paragraph start shows as a large jump
    previous = tokens[index - 1]
    return "\n" if tokens[index].start - previous.end > 1 or previous.text in ".!?" else ""


def _city_of(slug: str, vocab: Vocabulary) -> str | None:
    for ancestor in vocab.ancestors(slug):
        if vocab.place_kind(ancestor) in CITY_KINDS:
            return ancestor
    return None


def last_city_of(mentions: list[PlaceMention], vocab: Vocabulary) -> str | None:
    for mention in reversed(mentions):
        for slug in vocab.ancestors(mention.slug):
            if vocab.place_kind(slug) in CITY_KINDS:
                return slug
    return None


def _city_anaphor(
    tokens: list[Token], index: int, stop: int, city: str | None, vocab: Vocabulary
) -> PlaceMention | None:
    """'the city', "the city's", 'the Old City' (capitalised or 'old city')."""
    following = tokens[index + 1]
    if following.lower in ("old",) and index + 2 < stop and tokens[index + 2].lower == "city":
        # "the Old City of Mosul" names its city explicitly
        if index + 4 < stop and tokens[index + 3].lower == "of":
            named = _city_at(tokens, index + 4, stop, vocab)
            if named is not None:
                slug, end = named
                return PlaceMention(
                    tokens[index].start,
                    tokens[end - 1].end,
                    index,
                    end,
                    vocab.part_slug(slug, "old-city"),
                    True,
                )
        if city is None:
            return None
        return PlaceMention(
            tokens[index].start,
            tokens[index + 2].end,
            index,
            index + 3,
            vocab.part_slug(city, "old-city"),
            True,
        )
    if city is not None and following.lower in ("city", "city's", "city’s"):
        if following.lower != "city" and index + 2 < stop:
            direction = DIRECTION_WORDS.get(tokens[index + 2].lower)
            if direction is not None:
                end = index + 3
                if end < stop and tokens[end].lower in PART_NOUNS:
                    end += 1
                return PlaceMention(
                    tokens[index].start,
                    tokens[end - 1].end,
                    index,
                    end,
                    vocab.part_slug(city, direction),
                    True,
                )
            if (
                tokens[index + 2].lower == "old"
                and index + 3 < stop
                and tokens[index + 3].lower == "city"
            ):
                return PlaceMention(
                    tokens[index].start,
                    tokens[index + 3].end,
                    index,
                    index + 4,
                    vocab.part_slug(city, "old-city"),
                    True,
                )
        if index + 3 < stop and tokens[index + 2].lower == "of":
            return None  # "the city of Mosul": the name follows
        return PlaceMention(tokens[index].start, following.end, index, index + 2, city, True)
    return None


def _city_at(
    tokens: list[Token], index: int, stop: int, vocab: Vocabulary
) -> tuple[str, int] | None:
    """A city named at token `index` (allowing 'the city of X'): (slug, end index)."""
    if (
        index + 3 < stop
        and tokens[index].lower == "the"
        and tokens[index + 1].lower == "city"
        and tokens[index + 2].lower == "of"
    ):
        index += 3
    for size in range(min(vocab.max_place_words, stop - index), 0, -1):
        key = tuple(tokens[index + k].lower for k in range(size))
        if not _is_name_token(tokens[index]):
            break
        slug = vocab.place_names.get(key)
        if slug is not None:
            return slug, index + size
    return None


def _direction_of_city(
    tokens: list[Token], index: int, stop: int, vocab: Vocabulary, last_city: str | None
) -> PlaceMention | None:
    """'western Mosul', 'West Mosul', 'west of Mosul', 'western part of Mosul', 'west of the
    city'. Parts exist for cities and towns only ('northern Iraq' is just Iraq)."""
    direction = DIRECTION_WORDS[tokens[index].lower]
    start_index = index
    # "the western part of", "the west side of"
    if index > 0 and tokens[index - 1].lower == "the":
        start_index = index - 1
    position = index + 1
    relation = False
    named = _city_at(tokens, position, stop, vocab)
    if named is None:
        if tokens[position].lower in PART_NOUNS and position + 1 < stop:
            position += 1
        if position < stop and tokens[position].lower == "of":
            relation = tokens[position - 1].lower not in PART_NOUNS
            position += 1
            if (
                position + 1 < stop
                and tokens[position].lower == "the"
                and tokens[position + 1].lower in ("city", "town")
                and not (position + 2 < stop and tokens[position + 2].lower == "of")
            ):
                if last_city is None:
                    return None
                end = position + 2
                return PlaceMention(
                    tokens[start_index].start,
                    tokens[end - 1].end,
                    start_index,
                    end,
                    vocab.part_slug(last_city, direction),
                    not relation,
                )
            named = _city_at(tokens, position, stop, vocab)
    if named is None:
        return None
    slug, end = named
    if vocab.place_kind(slug) not in CITY_KINDS:
        return None
    # "to the west of Mosul" is a relation as well
    return PlaceMention(
        tokens[start_index].start,
        tokens[end - 1].end,
        start_index,
        end,
        _part_or_city(vocab, slug, direction),
        not relation,
    )


def _part_or_city(vocab: Vocabulary, city: str, direction: str) -> str:
    return vocab.part_slug(city, direction)


def _possessive_part(
    tokens: list[Token], index: int, end: int, stop: int, city: str, vocab: Vocabulary
) -> PlaceMention | None:
    """ "Mosul's western districts", "Mosul's old city"."""
    name = tokens[end - 1].lower
    if not name.endswith(("'s", "’s")) or end >= stop:
        return None
    word = tokens[end].lower
    if word in DIRECTION_WORDS:
        last = end + 1
        if last < stop and tokens[last].lower in PART_NOUNS:
            last += 1
        return PlaceMention(
            tokens[index].start,
            tokens[last - 1].end,
            index,
            last,
            vocab.part_slug(city, DIRECTION_WORDS[word]),
            True,
        )
    if word == "old" and end + 1 < stop and tokens[end + 1].lower == "city":
        return PlaceMention(
            tokens[index].start,
            tokens[end + 1].end,
            index,
            end + 2,
            vocab.part_slug(city, "old-city"),
            True,
        )
    return None
