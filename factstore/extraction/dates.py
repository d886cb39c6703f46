"""Date expressions in text and their resolution against a publication date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from factstore.extraction.numbers import MONTHS
from factstore.extraction.text import Token

WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
WEEKDAY_ABBREVIATIONS = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
RELATIVE_DAYS = {"yesterday": -1, "today": 0, "tonight": 0}
DATE_WORDS = frozenset(
    set(MONTHS) | set(WEEKDAYS) | set(WEEKDAY_ABBREVIATIONS) | set(RELATIVE_DAYS)
)
# words that make a capitalised month name something else ("May" the verb, "March" the noun)
AMBIGUOUS_MONTHS = frozenset({"may", "march", "mar", "jan", "sun", "dec"})


@dataclass(frozen=True, slots=True)
class DateMention:
    start: int
    end: int
    first_token: int
    last_token: int  # exclusive
    year: int | None
    month: int | None
    day: int | None
    weekday: int | None
    relative_days: int | None

    @property
    def precision(self) -> str:
        if self.day is not None or self.weekday is not None or self.relative_days is not None:
            return "day"
        if self.month is not None:
            return "month"
        return "year"


def _int(token: Token) -> int | None:
    if token.kind != "num" or len(token.text) > 4 or not token.text.isdigit():
        return None  # days, months and years have at most four digits
    return int(token.text)


def find_dates(tokens: list[Token], first: int = 0, last: int | None = None) -> list[DateMention]:
    """Dates between token indexes [first, last): 'June 27, 2017', '27 June', 'Oct. 17',
    'February', 'June 2014', 'on Tuesday', 'yesterday', '2017-05-10'."""
    stop = len(tokens) if last is None else last
    found: list[DateMention] = []
    index = first
    while index < stop:
        token = tokens[index]
        if token.kind != "num" and token.lower not in DATE_WORDS:
            index += 1
            continue
        mention = _date_at(tokens, index, stop)
        if mention is None:
            index += 1
            continue
        found.append(mention)
        index = mention.last_token
    return found


def _skip_dot(tokens: list[Token], index: int, stop: int) -> int:
    if index < stop and tokens[index].text == "." and tokens[index].start == tokens[index - 1].end:
        return index + 1
    return index


def _date_at(tokens: list[Token], index: int, stop: int) -> DateMention | None:
    token = tokens[index]
    lower = token.lower
    if token.kind == "num":
        iso = _iso_date_at(tokens, index, stop)
        if iso is not None:
            return iso
        day = _int(token)
        # "27 June 2017"
        if day is not None and 1 <= day <= 31 and index + 1 < stop:
            month = MONTHS.get(tokens[index + 1].lower)
            if month is not None and tokens[index + 1].text[:1].isupper():
                end = index + 2
                year = None
                if end < stop and (value := _int(tokens[end])) is not None and 1000 < value < 2200:
                    year = value
                    end += 1
                return _mention(tokens, index, end, year, month, day)
        return None
    if token.kind != "word":
        return None
    if lower in RELATIVE_DAYS:
        return DateMention(
            token.start, token.end, index, index + 1, None, None, None, None, RELATIVE_DAYS[lower]
        )
    weekday = WEEKDAYS.get(lower)
    if weekday is None and lower in WEEKDAY_ABBREVIATIONS and token.text[:1].isupper():
        weekday = WEEKDAY_ABBREVIATIONS[lower]
    if weekday is not None and token.text[:1].isupper():
        # "Tue Nov 1, 2016": a full date after the weekday wins
        after = _skip_dot(tokens, index + 1, stop)
        if after < stop:
            if after < stop and tokens[after].text == ",":
                after += 1
            full = _date_at(tokens, after, stop) if after < stop else None
            if full is not None and full.day is not None:
                return _mention(tokens, index, full.last_token, full.year, full.month, full.day)
        return DateMention(
            token.start, token.end, index, index + 1, None, None, None, weekday, None
        )
    month = MONTHS.get(lower)
    if month is None or not token.text[:1].isupper():
        return None
    end = _skip_dot(tokens, index + 1, stop)
    day = _int(tokens[end]) if end < stop else None
    if day is not None and 1 <= day <= 31 and tokens[end].start - token.end <= 2:
        end += 1
        # ordinal suffix "June 27th"
        if end < stop and tokens[end].lower in ("st", "nd", "rd", "th"):
            end += 1
        year = None
        probe = end + 1 if end < stop and tokens[end].text == "," else end
        if probe < stop and (value := _int(tokens[probe])) is not None and 1000 < value < 2200:
            year = value
            end = probe + 1
        return _mention(tokens, index, end, year, month, day)
    if day is not None and 1000 < day < 2200:
        return _mention(tokens, index, end + 1, day, month, None)  # "June 2014"
    if lower in AMBIGUOUS_MONTHS:
        return None  # "may" the verb, "march" the noun
    if end > index + 1 or len(lower) > 3:
        return _mention(tokens, index, end, None, month, None)  # "in February"
    return None


def _iso_date_at(tokens: list[Token], index: int, stop: int) -> DateMention | None:
    """'2017-05-10' arrives as num '2017', '-', num '05', '-', num '10'."""
    if index + 4 >= stop:
        return None
    parts = tokens[index : index + 5]
    if not (parts[1].text == "-" and parts[3].text == "-"):
        return None
    if any(parts[k].start != parts[k - 1].end for k in range(1, 5)):
        return None
    year, month, day = _int(parts[0]), _int(parts[2]), _int(parts[4])
    if year is None or month is None or day is None or len(parts[0].text) != 4:
        return None
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return _mention(tokens, index, index + 5, year, month, day)


def _mention(
    tokens: list[Token],
    first: int,
    last: int,
    year: int | None,
    month: int | None,
    day: int | None,
) -> DateMention:
    return DateMention(
        tokens[first].start, tokens[last - 1].end, first, last, year, month, day, None, None
    )


def resolve(mention: DateMention, published: dt.date | None) -> dt.date | None:
    """The calendar day a day-precision mention refers to, or None when it cannot be known.

    Weekdays are the most recent such day on or before publication ("on Tuesday" in a Tuesday
    paper is that day); dates without a year take the publication year, or the year before when
    that would put them more than a week after publication.
    """
    if mention.relative_days is not None:
        return None if published is None else published + dt.timedelta(mention.relative_days)
    if mention.weekday is not None:
        if published is None:
            return None
        back = (published.weekday() - mention.weekday) % 7
        return published - dt.timedelta(days=back)
    if mention.day is None or mention.month is None:
        return None
    year = mention.year
    if year is None:
        if published is None:
            return None
        year = published.year
        if _safe_date(year, mention.month, mention.day) is not None:
            candidate = _safe_date(year, mention.month, mention.day)
            if candidate is not None and candidate > published + dt.timedelta(days=7):
                year -= 1
    return _safe_date(year, mention.month, mention.day)


def resolve_month(mention: DateMention, published: dt.date | None) -> str | None:
    """'2017-02' for a month mention ('in February' in a May 2017 paper), else None."""
    if mention.month is None:
        return None
    year = mention.year
    if year is None:
        if published is None:
            return None
        year = published.year if mention.month <= published.month else published.year - 1
    return f"{year:04d}-{mention.month:02d}"


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
