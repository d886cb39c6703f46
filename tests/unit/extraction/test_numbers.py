"""The number reader on its own: numerals, words, scales, ranges, vague amounts, non-numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factstore.extraction.numbers import Quantity, find_quantities

UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def under_thousand(number: int, hyphen: bool, use_and: bool) -> str:
    hundreds, rest = divmod(number, 100)
    words: list[str] = []
    if hundreds:
        words += [UNITS[hundreds], "hundred"]
        if rest and use_and:
            words.append("and")
    if rest >= 20:
        tens, units = divmod(rest, 10)
        if units:
            words.append(
                f"{TENS[tens]}-{UNITS[units]}" if hyphen else f"{TENS[tens]} {UNITS[units]}"
            )
        else:
            words.append(TENS[tens])
    elif rest:
        words.append(UNITS[rest])
    return " ".join(words)


def in_words(number: int, hyphen: bool = True, use_and: bool = False) -> str:
    """English number words, the way newspapers write them."""
    if number == 0:
        return "zero"
    parts: list[str] = []
    for scale, name in ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand")):
        group, number = divmod(number, scale)
        if group:
            parts.append(f"{under_thousand(group, hyphen, use_and)} {name}")
    if number:
        parts.append(under_thousand(number, hyphen, use_and))
    return " ".join(parts)


def only(text: str) -> Quantity:
    found = find_quantities(text)
    assert len(found) == 1, [(text[q.start : q.end], q.value) for q in found]
    return found[0]


@pytest.mark.parametrize(
    ("text", "value", "lower", "upper", "qualifier", "unit"),
    [
        ("killed more than 1,300 members", 1300, 1300, None, "more_than", "count"),
        ("a total of 111,750 people", 111750, 111750, 111750, "exact", "count"),
        ("2.5 million people", 2_500_000, 2_500_000, 2_500_000, "exact", "count"),
        ("1.2m people fled", 1_200_000, 1_200_000, 1_200_000, "exact", "count"),
        ("twenty-three soldiers", 23, 23, 23, "exact", "count"),
        ("a dozen soldiers", 12, 12, 12, "exact", "count"),
        ("two dozen soldiers", 24, 24, 24, "exact", "count"),
        ("half a million refugees", 500_000, 500_000, 500_000, "exact", "count"),
        ("a hundred people", 100, 100, 100, "exact", "count"),
        ("between 200 and 300 people", 200, 200, 300, "between", "count"),
        ("200-300 people", 200, 200, 300, "between", "count"),
        ("between 2 and 3 million people", 2_000_000, 2_000_000, 3_000_000, "between", "count"),
        ("hundreds of civilians", 200, 200, None, "at_least", "count"),
        ("dozens of people", 24, 24, None, "at_least", "count"),
        ("tens of thousands of people", 20_000, 20_000, None, "at_least", "count"),
        ("up to 350 militants", 350, None, 350, "up_to", "count"),
        ("as many as 27 terrorists", 27, None, 27, "as_many_as", "count"),
        ("nearly 20 soldiers", 20, None, 20, "nearly", "count"),
        ("some 70 km west", 70, None, None, "about", "km"),
        ("at least 750,000 people", 750_000, 750_000, None, "at_least", "count"),
        ("406 square kilometers", 406, 406, 406, "exact", "km2"),
        ("55 pct interest", 55, 55, 55, "exact", "percent"),
        ("4.5 mln dlrs", 4_500_000, 4_500_000, 4_500_000, "exact", "usd"),
        ("$37,900 in cash", 37900, 37900, 37900, "exact", "usd"),
        ("over two years", 2, 2, None, "more_than", "year"),
    ],
)
def test_reads_quantities(
    text: str, value: float, lower: float | None, upper: float | None, qualifier: str, unit: str
) -> None:
    quantity = only(text)
    assert (quantity.value, quantity.lower, quantity.upper) == (value, lower, upper)
    assert (quantity.qualifier, quantity.unit) == (qualifier, unit)


def test_area_conversion_keeps_the_stated_unit() -> None:
    quantity = only("an area of 10 square miles")
    assert quantity.unit == "km2"
    assert quantity.value == pytest.approx(25.89988)
    assert quantity.stated_unit == "sq mile"


def test_parenthetical_conversion_is_the_same_quantity() -> None:
    text = "About one sq km (0.4 sq mile) remained under its control"
    quantity = only(text)
    assert text[quantity.start : quantity.end] == "About one sq km (0.4 sq mile)"
    assert (quantity.value, quantity.unit, quantity.qualifier) == (1, "km2", "about")


@pytest.mark.parametrize(
    "text",
    [
        "the 16th infantry division",
        "the army's 9th Armored Division",
        "Tue Nov 1, 2016 15:47:24",
        "on October 16.",
        "Smoke rises in Mosul, Iraq June 27, 2017.",
        "since June 2014",
        "in 2003",
        "a 25-year-old man",
        "aged 25",
        "Flight 370 vanished",
        "an MH17 crash and F-16 jets",
        "Resolution 2254",
        "the 1990s",
        "won 3-1",
        "15-1/2 year",
        "at 7:53 p.m. ET",
    ],
)
def test_ignores_numbers_that_are_not_quantities(text: str) -> None:
    assert find_quantities(text) == []


def test_offsets_are_relative_to_the_text() -> None:
    text = "Officials said 1,321 militants died."
    quantity = only(text)
    assert text[quantity.number_start : quantity.number_end] == "1,321"


@given(st.integers(min_value=0, max_value=999_999_999))
def test_digits_with_separators_read_back(number: int) -> None:
    assert only(f"{number:,} people").value == number


@given(st.integers(min_value=0, max_value=99_999))
def test_plain_digits_read_back(number: int) -> None:
    assert only(f"killed {number} people").value == number


@given(st.integers(min_value=1, max_value=999_999_999), st.booleans(), st.booleans())
def test_number_words_read_back(number: int, hyphen: bool, use_and: bool) -> None:
    text = f"{in_words(number, hyphen, use_and)} people"
    assert only(text).value == number


@given(
    st.integers(min_value=1, max_value=999),
    st.integers(min_value=0, max_value=9),
    st.sampled_from([("million", 1_000_000), ("billion", 1_000_000_000), ("thousand", 1_000)]),
)
def test_scale_words_read_back(whole: int, tenth: int, scale: tuple[str, int]) -> None:
    name, factor = scale
    text = f"{whole}.{tenth} {name} people" if tenth else f"{whole} {name} people"
    assert only(text).value == (whole * 10 + tenth) * factor // 10


@given(st.integers(min_value=1, max_value=9_999), st.integers(min_value=1, max_value=9_999))
def test_ranges_read_back(low: int, width: int) -> None:
    quantity = only(f"between {low:,} and {low + width:,} people")
    assert (quantity.lower, quantity.upper, quantity.qualifier) == (low, low + width, "between")


@given(st.text(max_size=300))
def test_never_fails_on_arbitrary_text(text: str) -> None:
    for quantity in find_quantities(text):
        assert 0 <= quantity.start < quantity.end <= len(text)
