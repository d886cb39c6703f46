"""Parsing messy headers and tails; structured input."""

from __future__ import annotations

import datetime as dt
import json

from factstore.domain.claims import Claim
from factstore.extraction import extract, parse_article, read_article_input
from factstore.extraction.text import tokenize


def test_metadata_line_glued_to_the_first_sentence() -> None:
    text = " date 2017-05-10 Troops killed 30 militants in Fallujah on Wednesday."
    article = parse_article(text)
    assert article.published_at == dt.date(2017, 5, 10)
    assert (article.published_at_inferred, article.published_at_source) == (False, "metadata")
    assert text[article.body_start :].startswith("Troops killed")


def test_title_date_line_banner_and_repeated_title() -> None:
    text = (
        "World Media\n\nFloods Hit Northern Town\n\nFloods Hit Northern Town\n\n"
        "Tue Nov 1, 2016 15:47:24\n\nFloods killed 12 people in the town, officials said.\n"
    )
    article = parse_article(text)
    assert article.title == "Floods Hit Northern Town"
    assert article.published_at == dt.date(2016, 11, 1)
    assert article.published_at_source == "dateline"
    assert article.body.startswith("Floods killed 12 people")


def test_no_date_is_inferred_from_a_dated_caption_and_marked() -> None:
    text = (
        "Rescuers searched the rubble.\n\nSmoke rises over the port, Yemen March 3, 2016.\n\n"
        "Officials said 20 people were missing."
    )
    article = parse_article(text)
    assert article.published_at == dt.date(2016, 3, 3)
    assert (article.published_at_inferred, article.published_at_source) == (True, "text")
    # an inferred date is not used to date figures
    assert extract(text).claims[0].as_of is None


def test_the_tokens_read_to_infer_a_date_are_the_body_tokens_the_extractor_takes() -> None:
    text = "Officials said 20 people were missing.\n\nMarch 3, 2016 -- 5 more were found.\n"
    inferred = parse_article(text)
    assert inferred.published_at_source == "text"
    assert inferred.body_tokens == tuple(
        token for start, end in inferred.body_spans for token in tokenize(text, start, end)
    )
    given = parse_article(text, published_at="2016-03-04")
    assert given.body_tokens is None  # the extractor tokenizes the body itself
    assert given.body_spans == inferred.body_spans

    def figures(claims: list[Claim]) -> list[tuple[float, str, int]]:
        return [(c.value, c.quote, c.start) for c in claims]

    assert figures(extract(text).claims) == figures(extract(text, "2016-03-04").claims) != []


def test_no_date_at_all_says_so() -> None:
    article = parse_article("Officials said 20 people were missing.")
    assert article.published_at is None
    assert article.published_at_source == "none"


def test_code_dumps_and_source_lines_yield_no_claims() -> None:
    text = (
        "Gunmen killed 5 soldiers near Kirkuk, police said.\n\nsource: Xinhua\n\n"
        'string(770) "[{"id":"1881004","title":"ISIS Chief Killed, 40 militants killed"} ]"\n'
    )
    result = extract(text)
    assert result.article.outlet == "Xinhua"
    assert [c.value for c in result.claims] == [5]
    assert all(c.end < text.index("source:") for c in result.claims)


def test_given_metadata_wins_over_the_header() -> None:
    text = "Tue Nov 1, 2016 15:47:24\n\nPolice said 3 people were killed on Monday."
    result = extract(text, published_at=dt.date(2016, 11, 2), outlet="Reuters", title="T")
    assert result.article.published_at == dt.date(2016, 11, 2)
    assert (result.article.outlet, result.article.title) == ("Reuters", "T")
    assert result.claims[0].as_of == "2016-10-31"


def test_structured_json_input() -> None:
    raw = json.dumps(
        {
            "title": "Quake",
            "outlet": "AP",
            "published_at": "2016-04-16 10:00:00",
            "url": "http://x",
            "text": "The quake killed 41 people.",
        }
    )
    article_input = read_article_input(raw)
    assert (article_input.title, article_input.outlet) == ("Quake", "AP")
    assert article_input.published_at == dt.date(2016, 4, 16)
    assert read_article_input("plain text").text == "plain text"
