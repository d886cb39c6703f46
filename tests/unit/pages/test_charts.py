"""The SVG charts: well-formed, accessible, escaped, and sane on 0, 1 and thousands of points."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from api.pages.article import highlight_claims, word_diff
from api.pages.charts import (
    ClaimPoint,
    belief_chart,
    claims_chart,
    compact_number,
    legend,
    nice_ticks,
)
from api.pages.topic import quote_in_sentence

SVG = "{http://www.w3.org/2000/svg}"


def point(day: date | None, value: float, **overrides: object) -> ClaimPoint:
    fields: dict[str, object] = {
        "day": day,
        "value": value,
        "lower": None,
        "upper": None,
        "qualifier": "exact",
        "source": "UN",
        "status": "active",
        "label": f"{value:,.0f}",
        "href": "/articles/a",
    }
    fields.update(overrides)
    return ClaimPoint(**fields)  # type: ignore[arg-type]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def test_claims_chart_is_accessible_and_draws_every_point_with_its_bounds() -> None:
    points = [
        point(date(2017, 1, 1), 91_000, lower=91_000, qualifier="more_than"),
        point(date(2017, 3, 1), 700_000, upper=700_000, qualifier="up_to", source="IOM"),
        point(date(2017, 6, 1), 750_000, lower=740_000, upper=760_000, qualifier="between"),
        point(None, 5_000, status="deprecated"),
    ]
    chart = claims_chart(
        points,
        [(date(2017, 1, 1), 91_000), (date(2017, 6, 1), 750_000)],
        title="Displaced",
        undated_best=5_000,
    )
    root = parse(chart.svg)
    assert root.get("role") == "group"  # its points link to their articles
    assert root.find(f"{SVG}title").text == "Displaced"  # type: ignore[union-attr]
    assert "4 claim(s) from 2 source(s)" in (root.find(f"{SVG}desc").text or "")
    assert len(root.findall(f".//{SVG}circle")) == 4
    assert len(root.findall(f".//{SVG}path[@class='arrow']")) == 2  # more than, up to
    assert len(root.findall(f".//{SVG}g[@class='point greyed']")) == 1
    assert len(root.findall(f".//{SVG}path[@class='best']")) == 2  # dated step, undated
    assert ">undated<" in chart.svg and chart.note is None
    assert chart.table.count("<tr>") == 5 and "deprecated" in chart.table
    assert chart.table.count('<a href="/articles/a">') == 4
    assert legend(points) == [("UN", "#0072b2"), ("IOM", "#d55e00")]


def test_every_text_is_escaped() -> None:
    hostile = '<script>alert("x")</script>'
    chart = claims_chart(
        [point(date(2017, 1, 1), 1, source=hostile, label=hostile, href='"><script>')],
        [],
        title=hostile,
    )
    parse(chart.svg)
    assert "<script>" not in chart.svg and "<script>" not in chart.table
    assert "&lt;script&gt;" in chart.svg and "&lt;script&gt;" in chart.table
    belief = belief_chart([(3, 10, hostile)], head=5, known_at=4, title=hostile)
    parse(belief.svg)
    assert "<script>" not in belief.svg


def test_no_points_one_point_and_thousands() -> None:
    empty = claims_chart([], [], title="t")
    parse(empty.svg)
    assert "No claims to draw" in empty.svg and empty.table == ""

    single = claims_chart([point(date(2017, 1, 1), 7)], [(date(2017, 1, 1), 7)], title="t")
    parse(single.svg)
    assert single.svg.count("<circle") == 1 and "nan" not in single.svg

    many = [point(date.fromordinal(736330 + i % 400), i) for i in range(3000)]
    capped = claims_chart(many, [], title="t", max_points=500)
    parse(capped.svg)
    assert capped.svg.count("<circle") == 500
    assert capped.note == "showing the latest 500 of 3000 claims"


def test_belief_chart_steps_and_marker() -> None:
    chart = belief_chart(
        [(18, 91_000, "more than 91,000"), (33, 750_000, "at least 750,000"), (40, None, "-")],
        head=50,
        known_at=20,
        title="believed",
    )
    root = parse(chart.svg)
    assert root.get("role") == "img"
    assert len(root.findall(f".//{SVG}circle")) == 2
    assert root.find(f".//{SVG}line[@class='marker']") is not None
    assert "known at #20" in chart.svg
    assert "no recorded changes" in belief_chart([], head=0, known_at=None, title="t").svg


def test_axis_helpers() -> None:
    assert compact_number(750_000) == "750k" and compact_number(1_250_000) == "1.2M"
    assert compact_number(950) == "950"
    assert nice_ticks(0, 800_000) == [0, 200_000, 400_000, 600_000, 800_000]
    assert nice_ticks(5, 5) == [5]


def test_quote_highlight_and_word_diff() -> None:
    assert quote_in_sentence("The UN said 5 died.", "5 died") == ("The UN said ", "5 died", ".")
    assert quote_in_sentence("The UN said 5 died.", "6 died") is None
    parts = word_diff("At least 20 died.", "At least 25 died.")
    assert [(p.text, p.change) for p in parts if p.change != "same"] == [
        ("20", "deleted"),
        ("25", "inserted"),
    ]
    text = "Intro. The UN said 5 died. Later 7 fled."
    claims = [
        {"quote": "5 died", "start": 0, "end": 3, "sentence": "The UN said 5 died."},
        {"quote": "7 fled", "start": 33, "end": 39, "sentence": None},
        {"quote": "gone", "start": None, "end": None, "sentence": None},
    ]
    segments = highlight_claims(text, claims)
    assert "".join(s.text for s in segments) == text
    assert [s.text for s in segments if s.claim] == ["5 died", "7 fled"]
