"""Reading quantities: numerals, number words, scale words, ranges, vague amounts, qualifiers,
units.

`find_quantities` returns every quantity mention it recognises, with its span, its value as an
interval and its unit. Numbers that are not quantities (dates, years, clock times, ordinals,
identifiers, fractions, ages, scores, numbers inside markup) are left out.

Bounds follow the qualifier: exact -> [v, v]; more_than/at_least/over -> [v, None];
up_to/as_many_as/nearly/less_than -> [None, v]; about -> [None, None]; between -> [a, b].
Vague amounts ("dozens", "hundreds") read as at_least their documented lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from factstore.extraction.text import Token, tokenize

UNITS_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS_WORDS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALE_WORDS = {
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "trillion": 1_000_000_000_000,
}
# scale words that may follow a numeral: "2.5 million", "1.2m", "4.5 mln", "3bn"
NUMERAL_SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "trillion": 1_000_000_000_000,
    "mln": 1_000_000,
    "bln": 1_000_000_000,
    "mn": 1_000_000,
    "bn": 1_000_000_000,
    "k": 1_000,
    "m": 1_000_000,
    "b": 1_000_000_000,
}

# documented lower bounds of vague amounts (see docs/extraction.md)
VAGUE_AMOUNTS: dict[tuple[str, ...], int] = {
    ("tens", "of", "thousands"): 20_000,
    ("hundreds", "of", "thousands"): 200_000,
    ("tens", "of", "millions"): 20_000_000,
    ("hundreds", "of", "millions"): 200_000_000,
    ("several", "dozen"): 24,
    ("several", "hundred"): 200,
    ("several", "thousand"): 2_000,
    ("a", "few", "hundred"): 200,
    ("a", "few", "thousand"): 2_000,
    ("a", "few", "dozen"): 24,
    ("dozens",): 24,
    ("scores",): 40,
    ("hundreds",): 200,
    ("thousands",): 2_000,
    ("millions",): 2_000_000,
}
VAGUE_FIRST_WORDS = frozenset(key[0] for key in VAGUE_AMOUNTS)

# qualifier phrases, matched right before the number (longest first)
QUALIFIERS: dict[tuple[str, ...], str] = {
    ("more", "than"): "more_than",
    ("over",): "more_than",
    ("well", "over"): "more_than",
    ("just", "over"): "more_than",
    ("above",): "more_than",
    ("in", "excess", "of"): "more_than",
    ("upwards", "of"): "more_than",
    ("more", "then"): "more_than",
    ("exceeding",): "more_than",
    ("at", "least"): "at_least",
    ("no", "fewer", "than"): "at_least",
    ("no", "less", "than"): "at_least",
    ("a", "minimum", "of"): "at_least",
    ("up", "to"): "up_to",
    ("at", "most"): "up_to",
    ("a", "maximum", "of"): "up_to",
    ("as", "many", "as"): "as_many_as",
    ("as", "much", "as"): "as_many_as",
    ("nearly",): "nearly",
    ("almost",): "nearly",
    ("close", "to"): "nearly",
    ("just", "under"): "nearly",
    ("fewer", "than"): "less_than",
    ("less", "than"): "less_than",
    ("under",): "less_than",
    ("about",): "about",
    ("around",): "about",
    ("some",): "about",
    ("approximately",): "about",
    ("roughly",): "about",
    ("an", "estimated"): "about",
    ("estimated",): "about",
    ("approx",): "about",
    ("circa",): "about",
    ("nearly", "about"): "about",
    ("as", "high", "as"): "as_many_as",
    ("as", "few", "as"): "at_least",
    ("a", "total", "of"): "exact",
    ("a", "further"): "exact",
    ("another",): "exact",
}
MAX_QUALIFIER_WORDS = 3

MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}

# unit phrases after a number: words -> (unit, factor to the unit, stated unit if converted)
UnitSpec = tuple[str, float, str | None]
UNIT_PHRASES: dict[tuple[str, ...], UnitSpec] = {
    ("%",): ("percent", 1, None),
    ("percent",): ("percent", 1, None),
    ("per", "cent"): ("percent", 1, None),
    ("pct",): ("percent", 1, None),
    ("percentage", "points"): ("percentage_points", 1, None),
    ("square", "kilometers"): ("km2", 1, None),
    ("square", "kilometres"): ("km2", 1, None),
    ("square", "kilometer"): ("km2", 1, None),
    ("square", "kilometre"): ("km2", 1, None),
    ("sq", "km"): ("km2", 1, None),
    ("sq", ".", "km"): ("km2", 1, None),
    ("km2",): ("km2", 1, None),
    ("km", "²"): ("km2", 1, None),
    ("square", "km"): ("km2", 1, None),
    ("square", "miles"): ("km2", 2.589988, "sq mile"),
    ("square", "mile"): ("km2", 2.589988, "sq mile"),
    ("sq", "mile"): ("km2", 2.589988, "sq mile"),
    ("sq", "miles"): ("km2", 2.589988, "sq mile"),
    ("sq", "mi"): ("km2", 2.589988, "sq mile"),
    ("hectares",): ("km2", 0.01, "hectare"),
    ("hectare",): ("km2", 0.01, "hectare"),
    ("ha",): ("km2", 0.01, "hectare"),
    ("acres",): ("km2", 0.004046856, "acre"),
    ("acre",): ("km2", 0.004046856, "acre"),
    ("kilometers",): ("km", 1, None),
    ("kilometres",): ("km", 1, None),
    ("kilometer",): ("km", 1, None),
    ("kilometre",): ("km", 1, None),
    ("km",): ("km", 1, None),
    ("kms",): ("km", 1, None),
    ("miles",): ("km", 1.609344, "mile"),
    ("mile",): ("km", 1.609344, "mile"),
    ("meters",): ("m", 1, None),
    ("metres",): ("m", 1, None),
    ("meter",): ("m", 1, None),
    ("metre",): ("m", 1, None),
    ("feet",): ("m", 0.3048, "foot"),
    ("ft",): ("m", 0.3048, "foot"),
    ("yards",): ("m", 0.9144, "yard"),
    ("cm",): ("m", 0.01, "cm"),
    ("centimeters",): ("m", 0.01, "cm"),
    ("days",): ("day", 1, None),
    ("day",): ("day", 1, None),
    ("weeks",): ("week", 1, None),
    ("week",): ("week", 1, None),
    ("months",): ("month", 1, None),
    ("month",): ("month", 1, None),
    ("years",): ("year", 1, None),
    ("year",): ("year", 1, None),
    ("yrs",): ("year", 1, None),
    ("decades",): ("decade", 1, None),
    ("decade",): ("decade", 1, None),
    ("hours",): ("hour", 1, None),
    ("hour",): ("hour", 1, None),
    ("hrs",): ("hour", 1, None),
    ("minutes",): ("minute", 1, None),
    ("minute",): ("minute", 1, None),
    ("mins",): ("minute", 1, None),
    ("seconds",): ("second", 1, None),
    ("centuries",): ("century", 1, None),
    ("dollars",): ("usd", 1, None),
    ("dollar",): ("usd", 1, None),
    ("dlrs",): ("usd", 1, None),
    ("dlr",): ("usd", 1, None),
    ("usd",): ("usd", 1, None),
    ("euros",): ("eur", 1, None),
    ("euro",): ("eur", 1, None),
    ("pounds",): ("gbp", 1, None),
    ("sterling",): ("gbp", 1, None),
    ("stg",): ("gbp", 1, None),
    ("yen",): ("jpy", 1, None),
    ("yuan",): ("cny", 1, None),
    ("francs",): ("chf", 1, None),
    ("marks",): ("dem", 1, None),
    ("rupees",): ("inr", 1, None),
    ("riyals",): ("sar", 1, None),
    ("pesos",): ("mxn", 1, None),
    ("lire",): ("itl", 1, None),
    ("cents",): ("usd", 0.01, "cent"),
    ("crowns",): ("sek", 1, None),
    ("rand",): ("zar", 1, None),
    ("tonnes",): ("tonne", 1, None),
    ("dead", "weight", "tons"): ("tonne", 1, "dwt"),
    ("deadweight", "tons"): ("tonne", 1, "dwt"),
    ("dwt",): ("tonne", 1, "dwt"),
    ("tons",): ("tonne", 1, None),
    ("tonne",): ("tonne", 1, None),
    ("ton",): ("tonne", 1, None),
    ("kg",): ("kg", 1, None),
    ("kilos",): ("kg", 1, None),
    ("kilograms",): ("kg", 1, None),
    ("lbs",): ("kg", 0.4536, "lb"),
    ("ounces",): ("ounce", 1, None),
    ("oz",): ("ounce", 1, None),
    ("barrels",): ("barrel", 1, None),
    ("bpd",): ("barrel_per_day", 1, None),
    ("bushels",): ("bushel", 1, None),
    ("gallons",): ("gallon", 1, None),
    ("litres",): ("litre", 1, None),
    ("liters",): ("litre", 1, None),
    ("degrees",): ("degree", 1, None),
    ("points",): ("point", 1, None),
    ("megawatts",): ("megawatt", 1, None),
    ("mw",): ("megawatt", 1, None),
    ("shares",): ("share", 1, None),
    ("votes",): ("vote", 1, None),
    ("bags",): ("bag", 1, None),
    ("mph",): ("mph", 1, None),
    ("magnitude",): ("magnitude", 1, None),
}
MAX_UNIT_WORDS = 3
CURRENCY_SYMBOLS = {"$": "usd", "£": "gbp", "€": "eur", "¥": "jpy"}
CONVERTIBLE_UNITS = frozenset({"km2", "km", "m", "usd", "gbp", "eur", "kg", "tonne"})
TIME_UNITS = frozenset({"day", "week", "month", "year", "decade", "hour", "minute", "second"})

# words before a number that make it a label, not an amount ("Resolution 2254", "Flight 370")
LABEL_WORDS = frozenset(
    [
        "no",
        "nos",
        "number",
        "route",
        "highway",
        "road",
        "flight",
        "resolution",
        "article",
        "section",
        "chapter",
        "page",
        "pages",
        "room",
        "gate",
        "level",
        "phase",
        "platform",
        "channel",
        "item",
        "apartment",
        "brigade",
        "division",
        "battalion",
        "regiment",
        "squadron",
        "line",
        "bus",
        "lane",
        "exit",
        "version",
        "model",
        "grade",
        "class",
        "category",
        "stage",
        "round",
        "game",
        "vol",
        "volume",
        "issue",
        "sura",
        "verse",
        "zone",
        "rule",
        "law",
        "decree",
        "paragraph",
        "clause",
        "code",
        "type",
        "size",
        "ward",
        "precinct",
        "terminal",
        "track",
        "episode",
        "season",
        "act",
        "title",
        "term",
        "tower",
        "block",
        "camp",
        "group",
        "box",
        "ext",
        "tel",
        "fax",
        "p.o",
        "pier",
        "unit",
        "building",
        "floor",
        "grid",
        "point",
        "kilometre",
        "kilometer",
        "km",
        "mile",
        "station",
        "sector",
    ]
)
AGE_WORDS = frozenset({"aged", "age", "ages"})


@dataclass(frozen=True, slots=True)
class Quantity:
    """A quantity mention. `start`/`end` cover qualifier, numeral(s) and unit."""

    start: int
    end: int
    number_start: int
    number_end: int
    value: float | int
    lower: float | int | None
    upper: float | int | None
    qualifier: str
    unit: str
    stated_unit: str | None
    vague: bool
    first_token: int  # token index of the first numeral token
    last_token: int  # token index after the last token of the mention (unit included)

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "qualifier": self.qualifier,
            "unit": self.unit,
            "stated_unit": self.stated_unit,
            "vague": self.vague,
        }


@dataclass(frozen=True, slots=True)
class _Numeral:
    value: float | int
    first: int  # first token index
    last: int  # exclusive
    vague: bool = False
    has_scale: bool = False
    digits: bool = False


def _tidy(value: float) -> float | int:
    if isinstance(value, int):
        return value
    rounded = round(value)
    if abs(value - rounded) < 1e-9 * max(1.0, abs(value)):
        return int(rounded)
    return round(value, 6)


def _adjacent(tokens: list[Token], left: int, right: int) -> bool:
    return left >= 0 and right < len(tokens) and tokens[left].end == tokens[right].start


def _parse_digits(text: str) -> float | int | None:
    """'1,321' -> 1321; '2.5' -> 2.5; '1,32' -> None (not a separator pattern)."""
    if len(text) > 24:
        return None  # a run of digits, not an amount (and int() refuses huge strings)
    if "," in text:
        head, *groups = text.split(",")
        if "." in groups[-1]:
            last, _, fraction = groups[-1].partition(".")
            groups[-1] = last
        else:
            fraction = ""
        if not (1 <= len(head) <= 3) or any(len(g) != 3 for g in groups):
            return None
        number = int(head + "".join(groups))
        return number + float("0." + fraction) if fraction else number
    if text.count(".") > 1:
        return None
    if "." in text:
        return float(text)
    return int(text)


def _word_parts(token: Token) -> list[str] | None:
    """'twenty-three' -> ['twenty', 'three'] when every part is a number word."""
    parts = token.lower.split("-")
    for part in parts:
        if part not in UNITS_WORDS and part not in TENS_WORDS and part not in SCALE_WORDS:
            return None
    return parts


def _read_number_words(tokens: list[Token], index: int, initial: int = 0) -> _Numeral | None:
    """Read 'three hundred and fifty thousand', 'a dozen', 'half a million', 'a hundred'."""
    count = len(tokens)
    token = tokens[index]
    lower = token.lower
    if lower in ("a", "an", "one") and index + 1 < count:
        following = tokens[index + 1].lower
        if following == "dozen":
            return _Numeral(12, index, index + 2)
        if following in ("hundred", "thousand", "million", "billion") and lower != "one":
            inner = _read_number_words(tokens, index + 1, initial=1)
            if inner is not None:
                return _Numeral(inner.value, index, inner.last, has_scale=True)
    if lower == "half" and index + 2 < count and tokens[index + 1].lower in ("a", "an"):
        half_of = tokens[index + 2].lower
        if half_of == "dozen":
            return _Numeral(6, index, index + 3)
        if half_of in ("million", "billion", "thousand", "hundred"):
            return _Numeral(SCALE_WORDS[half_of] // 2, index, index + 3, has_scale=True)
    if tokens[index].kind != "word" or _word_parts(tokens[index]) is None:
        return None
    total = 0
    current = initial  # 1 for "a hundred", "a thousand"
    seen_any = False
    last_kind = "unit" if initial else ""  # "unit" | "ten" | "hundred" | "scale"
    last_scale = 10**18
    position = index
    end = index
    while position < count:
        token = tokens[position]
        if token.kind != "word":
            break
        if token.lower == "and" and seen_any and last_kind in ("hundred", "scale"):
            # "three hundred and fifty": 'and' only joins when a number word follows
            if position + 1 < count and _word_parts(tokens[position + 1]) is not None:
                position += 1
                continue
            break
        parts = _word_parts(token)
        if parts is None:
            break
        ok = True
        for part in parts:
            if part in UNITS_WORDS:
                if last_kind in ("unit",) or (last_kind == "ten" and UNITS_WORDS[part] >= 10):
                    ok = False
                    break
                if last_kind == "ten" and current % 10 != 0:
                    ok = False
                    break
                current += UNITS_WORDS[part]
                last_kind = "unit"
            elif part in TENS_WORDS:
                if last_kind in ("unit", "ten"):
                    ok = False
                    break
                current += TENS_WORDS[part]
                last_kind = "ten"
            elif part == "hundred":
                if current == 0 or current >= 100 or last_kind in ("hundred", "scale"):
                    ok = False
                    break
                current *= 100
                last_kind = "hundred"
            else:
                scale = SCALE_WORDS[part]
                if current == 0 or scale >= last_scale:
                    ok = False
                    break
                total += current * scale
                current = 0
                last_scale = scale
                last_kind = "scale"
            seen_any = True
        if not ok:
            break
        position += 1
        end = position
    if not seen_any or end == index:
        return None
    value = total + current
    if end < count and tokens[end].lower == "dozen" and 0 < value < 100 and total == 0:
        return _Numeral(value * 12, index, end + 1, has_scale=True)  # "two dozen"
    if end < count and tokens[end].lower in FRACTION_WORDS and 0 < value < 10:
        fraction = _fraction_of_scale(tokens, end, value, index)
        if fraction is not None:
            return fraction  # "three quarters of a million"
    has_scale = last_scale < 10**18 or last_kind == "hundred"
    return _Numeral(value, index, end, has_scale=has_scale)


FRACTION_WORDS = {"quarter": 4, "quarters": 4, "third": 3, "thirds": 3, "half": 2}


def _fraction_of_scale(
    tokens: list[Token], index: int, numerator: int, first: int
) -> _Numeral | None:
    """'a quarter of a million', 'three quarters of a million', 'half of a million' at the
    fraction word `index`; `first` is where the mention starts."""
    count = len(tokens)
    denominator = FRACTION_WORDS.get(tokens[index].lower)
    if denominator is None or index + 2 >= count or tokens[index + 1].lower != "of":
        return None
    whole = _read_numeral(tokens, index + 2)
    if whole is None or not whole.has_scale or whole.vague:
        return None
    return _Numeral(_tidy(whole.value * numerator / denominator), first, whole.last, has_scale=True)


def _read_numeral(tokens: list[Token], index: int) -> _Numeral | None:
    token = tokens[index]
    count = len(tokens)
    if token.kind == "word" and index + 1 < count:
        if token.lower in ("a", "one") and tokens[index + 1].lower in FRACTION_WORDS:
            fraction = _fraction_of_scale(tokens, index + 1, 1, index)
            if fraction is not None:
                return fraction
        if token.lower in FRACTION_WORDS:
            fraction = _fraction_of_scale(tokens, index, 1, index)
            if fraction is not None:
                return fraction
    if token.kind == "num":
        value = _parse_digits(token.text)
        if value is None:
            return None
        last = index + 1
        has_scale = False
        if last < count and tokens[last].kind == "word":
            scale_word = tokens[last].lower
            if scale_word in NUMERAL_SCALES:
                joined = tokens[last].start == token.end
                short = scale_word in ("k", "m", "b", "bn", "mn")
                # "1.2m people", "$3bn" are scales; "800m" alone is metres, "5 m" is metres
                if scale_word == "m":
                    nxt = tokens[last + 1].lower if last + 1 < count else ""
                    prev = tokens[index - 1].text if index > 0 else ""
                    use = joined and (prev in CURRENCY_SYMBOLS or nxt in MILLION_M_FOLLOWERS)
                elif short:
                    use = joined
                else:
                    use = True
                if use:
                    value = value * NUMERAL_SCALES[scale_word]
                    last += 1
                    has_scale = True
        return _Numeral(_tidy(value), index, last, has_scale=has_scale, digits=True)
    if token.kind == "word":
        lower = token.lower
        if lower in VAGUE_FIRST_WORDS:
            for key, bound in VAGUE_AMOUNTS.items():
                size = len(key)
                if index + size <= count and all(
                    tokens[index + k].lower == key[k] for k in range(size)
                ):
                    return _Numeral(bound, index, index + size, vague=True)
        return _read_number_words(tokens, index)
    return None


# words after "1.2m" that make the m a million, not metres
MILLION_M_FOLLOWERS = frozenset(
    [
        "people",
        "residents",
        "refugees",
        "children",
        "civilians",
        "migrants",
        "users",
        "customers",
        "viewers",
        "dollars",
        "euros",
        "pounds",
        "homes",
        "households",
        "voters",
        "workers",
        "jobs",
        "subscribers",
        "barrels",
        "tonnes",
        "tons",
        "shares",
    ]
)


def _match_phrase(
    tokens: list[Token], index: int, table: dict[tuple[str, ...], str], width: int
) -> tuple[str, int] | None:
    """Longest phrase of `table` ending right before token `index`: (value, first index)."""
    for size in range(min(width, index), 0, -1):
        key = tuple(tokens[index - size + k].lower for k in range(size))
        found = table.get(key)
        if found is not None:
            return found, index - size
    return None


def _match_unit(tokens: list[Token], index: int) -> tuple[UnitSpec, int] | None:
    """Longest unit phrase starting at token `index`: (spec, index after it)."""
    count = len(tokens)
    for size in range(min(MAX_UNIT_WORDS, count - index), 0, -1):
        key = tuple(tokens[index + k].lower for k in range(size))
        found = UNIT_PHRASES.get(key)
        if found is not None:
            return found, index + size
    return None


def _is_date_context(tokens: list[Token], numeral: _Numeral) -> bool:
    first, last = numeral.first, numeral.last
    count = len(tokens)
    if not numeral.digits:
        return False
    before = tokens[first - 1].lower if first > 0 else ""
    if before == "." and first > 1:
        before = tokens[first - 2].lower  # "Oct. 17"
    after = tokens[last].lower if last < count else ""
    value = numeral.value
    if isinstance(value, int) and 1 <= value <= 31 and not numeral.has_scale:
        if before in MONTHS or after in MONTHS:
            return True
        if after == "of" and last + 1 < count and tokens[last + 1].lower in MONTHS:
            return True
    # a bare four-digit number in this range reads as a year
    return (
        isinstance(value, int)
        and 1000 <= value <= 2100
        and "," not in tokens[first].text
        and not numeral.has_scale
    )


def _is_identifier_or_label(tokens: list[Token], numeral: _Numeral) -> bool:
    first, last = numeral.first, numeral.last
    count = len(tokens)
    token = tokens[first]
    if first > 0:
        previous = tokens[first - 1]
        if previous.end == token.start:
            if previous.kind == "word":
                return True  # "MH17", "A320"
            if previous.text in "-/#:" and first > 1 and tokens[first - 2].end == previous.start:
                return tokens[first - 2].kind in ("word", "num")  # "F-16", "11/04", "15:47"
            if previous.text in "#&":
                return True
        if previous.lower.rstrip(".") in LABEL_WORDS and previous.kind == "word":
            return numeral.digits
    if last < count:
        following = tokens[last]
        if following.start == tokens[last - 1].end:
            if following.kind == "word":
                if following.lower in ("st", "nd", "rd", "th", "s", "am", "pm"):
                    return True  # ordinals, decades, clock times
                if _match_unit(tokens, last) is None:
                    return True  # "3D", "4G"
            elif following.text in ":/" and last + 1 < count:
                if tokens[last + 1].kind == "num" and tokens[last + 1].start == following.end:
                    return True  # "15:47", "11/04/2016", "13/16"
            elif following.text == "-" and last + 1 < count:
                nxt = tokens[last + 1]
                if (
                    nxt.start == following.end
                    and nxt.kind == "word"
                    and (
                        nxt.lower.startswith(("year", "month", "week", "day", "storey", "story"))
                        or (
                            _match_unit(tokens, last + 1) is None
                            and nxt.lower not in NUMERAL_SCALES
                            and _word_parts(nxt) is None
                        )
                    )
                ):
                    return True  # "25-year-old", "12-storey", "3-day" are modifiers
        if following.lower in ("a.m", "p.m", "a.m.", "p.m.", "am", "pm", "gmt", "et", "bst"):
            return True
        if following.lower in ("o'clock",):
            return True
    return False


def _range_end(tokens: list[Token], numeral: _Numeral) -> _Numeral | None:
    """The upper numeral of '200-300', '200 to 300', '200 and 300' (after 'between')."""
    last = numeral.last
    count = len(tokens)
    if last + 1 >= count:
        return None
    joiner = tokens[last]
    if joiner.text in ("-", "–", "—") or joiner.lower in ("to", "and"):
        upper = _read_numeral(tokens, last + 1)
        if upper is None or upper.vague:
            return None
        return upper
    return None


def find_quantities(
    text: str,
    start: int = 0,
    end: int | None = None,
    tokens: list[Token] | None = None,
    token_offset: int = 0,
) -> list[Quantity]:
    """Every quantity mention in text[start:end] (or in `tokens`, when given). Token indexes
    of the mentions are shifted by `token_offset` (when `tokens` is a slice of a longer list)."""
    if tokens is None:
        tokens = tokenize(text, start, end)
    quantities: list[Quantity] = []
    count = len(tokens)
    index = 0
    while index < count:
        token = tokens[index]
        if token.kind == "punct" or (token.kind == "word" and not _may_start_number(token)):
            index += 1
            continue
        numeral = _read_numeral(tokens, index)
        if numeral is None:
            index += 1
            continue
        quantity, next_index = _complete_quantity(tokens, numeral, token_offset)
        if quantity is not None:
            quantities.append(quantity)
        index = max(next_index, index + 1)
    return quantities


NUMBER_START_WORDS = frozenset(
    set(UNITS_WORDS) | set(TENS_WORDS) | VAGUE_FIRST_WORDS | {"a", "an", "half", "quarter"}
)


def _may_start_number(token: Token) -> bool:
    lower = token.lower
    if lower in NUMBER_START_WORDS:
        return True
    head = lower.split("-", 1)[0]
    return head in UNITS_WORDS or head in TENS_WORDS


def _complete_quantity(
    tokens: list[Token], numeral: _Numeral, token_offset: int = 0
) -> tuple[Quantity | None, int]:
    count = len(tokens)
    first = numeral.first
    if (
        numeral.digits
        and _is_date_context(tokens, numeral)
        and not _followed_by_count_noun(tokens, numeral.last)
    ):
        return None, numeral.last  # a year, unless a count noun follows ("2000 people")
    if numeral.digits and _is_identifier_or_label(tokens, numeral):
        return None, numeral.last
    if not numeral.digits and _is_identifier_or_label(tokens, numeral):
        return None, numeral.last
    if (
        numeral.digits
        and first > 0
        and tokens[first - 1].text in ("-", "+", "−")
        and (first < 2 or tokens[first - 2].end != tokens[first - 1].start)
    ):
        return None, numeral.last  # signed changes "-0.20" are market moves
    qualifier = "exact"
    start_index = first
    lower_value: float | int | None = numeral.value
    upper_value: float | int | None = numeral.value
    value: float | int = numeral.value
    last = numeral.last
    # ranges
    between = first > 0 and tokens[first - 1].lower == "between"
    from_before = first > 0 and tokens[first - 1].lower == "from"
    upper = _range_end(tokens, numeral) if not numeral.vague else None
    if upper is not None:
        joiner = tokens[numeral.last].lower
        lower_number: float | int = numeral.value
        if upper.has_scale and not numeral.has_scale and numeral.value < 1000:
            scale = _scale_of(upper)
            lower_number = _tidy(numeral.value * scale)
        valid = upper.value > lower_number and (
            (joiner == "and" and between) or (joiner != "and" and not from_before)
        )
        if joiner in ("-", "–", "—") and tokens[numeral.last].start != tokens[numeral.last - 1].end:
            valid = valid and between
        if valid:
            qualifier = "between"
            lower_value, upper_value, value = lower_number, upper.value, lower_number
            last = upper.last
            if between:
                start_index = first - 1
        elif (
            joiner in ("-", "–", "—")
            and upper.value <= numeral.value
            and (tokens[numeral.last].start == tokens[numeral.last - 1].end)
        ):
            return None, upper.last  # a score such as 3-1
    if numeral.vague:
        qualifier = "at_least"
        lower_value, upper_value = numeral.value, None
    elif qualifier == "exact":
        found = _match_phrase(tokens, first, QUALIFIERS, MAX_QUALIFIER_WORDS)
        if found is not None:
            qualifier, start_index = found
            lower_value, upper_value = _bounds(qualifier, value)
    # unit
    unit = "count"
    stated_unit: str | None = None
    if first > 0 and tokens[first - 1].text in CURRENCY_SYMBOLS and start_index == first:
        unit = CURRENCY_SYMBOLS[tokens[first - 1].text]
        start_index = first - 1
    elif first > 1 and tokens[first - 1].text in CURRENCY_SYMBOLS:
        unit = CURRENCY_SYMBOLS[tokens[first - 1].text]
    else:
        matched = _match_unit(tokens, last)
        if matched is not None:
            (unit, factor, stated_unit), last = matched
            if factor != 1:
                value = _tidy(value * factor)
                lower_value = None if lower_value is None else _tidy(lower_value * factor)
                upper_value = None if upper_value is None else _tidy(upper_value * factor)
    if unit == "count" and start_index > 0:
        age_word = tokens[start_index - 1].lower
        if age_word == "of" and start_index > 1:
            age_word = tokens[start_index - 2].lower  # "under the age of five"
        if age_word in AGE_WORDS:
            return None, last
    # a parenthetical conversion "(0.4 sq mile)" belongs to the same quantity
    if unit != "count" and last + 1 < count and tokens[last].text == "(":
        inner = _read_numeral(tokens, last + 1)
        if inner is not None:
            unit_after = _match_unit(tokens, inner.last)
            close = unit_after[1] if unit_after else inner.last
            prefix_currency = tokens[last + 1].text in CURRENCY_SYMBOLS
            if (unit_after or prefix_currency) and close < count and tokens[close].text == ")":
                last = close + 1
    if unit == "count" and last + 1 < count and tokens[last].text == "(":
        pass
    quantity = Quantity(
        start=tokens[start_index].start,
        end=tokens[last - 1].end,
        number_start=tokens[first].start,
        number_end=tokens[numeral.last - 1].end if upper is None else tokens[last - 1].end,
        value=value,
        lower=lower_value,
        upper=upper_value,
        qualifier=qualifier,
        unit=unit,
        stated_unit=stated_unit,
        vague=numeral.vague,
        first_token=first + token_offset,
        last_token=last + token_offset,
    )
    return quantity, last


def _scale_of(numeral: _Numeral) -> int:
    value = numeral.value
    for scale in (1_000_000_000_000, 1_000_000_000, 1_000_000, 1_000, 100):
        if value >= scale and value % scale == 0:
            return scale
    return 1


def _bounds(qualifier: str, value: float | int) -> tuple[float | int | None, float | int | None]:
    if qualifier in ("more_than", "at_least"):
        return value, None
    if qualifier in ("up_to", "as_many_as", "nearly", "less_than"):
        return None, value
    if qualifier == "about":
        return None, None
    return value, value


def _followed_by_count_noun(tokens: list[Token], index: int) -> bool:
    return index < len(tokens) and tokens[index].lower in COUNT_NOUNS_AFTER_YEAR_LIKE


# a four-digit number followed by one of these is a count, not a year ("1500 people")
COUNT_NOUNS_AFTER_YEAR_LIKE = frozenset(
    [
        "people",
        "persons",
        "civilians",
        "soldiers",
        "troops",
        "militants",
        "fighters",
        "refugees",
        "migrants",
        "residents",
        "children",
        "families",
        "homes",
        "houses",
        "buildings",
        "villages",
        "prisoners",
        "detainees",
        "workers",
        "police",
        "policemen",
        "rebels",
        "insurgents",
        "others",
        "men",
        "women",
    ]
)
