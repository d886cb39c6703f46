"""The Topic page: the best figure and its provenance, the claims over valid time, what the
store believed over transaction time (`known_at`), and the history of changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from api.context import reader
from api.pages import charts
from api.pages.blueprint import blueprint
from factstore.domain.articles import date_or_none
from factstore.domain.figures import ClaimView, best_by_valid_date, decide
from factstore.projections import queries
from factstore.projections.render import format_figure

# A topic with thousands of claims draws its latest ones and says so.
MAX_POINTS_DRAWN = charts.MAX_POINTS


@blueprint.get("/topics/<string:topic>")
def topic_page(topic: str) -> ResponseReturnValue:
    services = reader()
    policy = services.settings.policy
    known_at = request.args.get("known_at", "").strip() or None
    valid_at = request.args.get("valid_at", "").strip() or None
    with services.connect() as conn:
        meta = queries.topic_row(conn, topic)
        if meta is None:
            abort(404, description=f"There is no topic {topic!r}.")
        as_of = queries.resolve_as_of(conn, known_at, valid_at)
        # One narrow read of the topic's claims serves the figure and the chart; full rows are
        # read only for the claims the figure shows and the points drawn.
        views = queries.topic_views(conn, topic, as_of)
        document = queries.figure_from_views(conn, meta, views, as_of, policy)
        history = queries.history_for(conn, topic, queries.AsOf())
        points = charts.latest_points(_claim_points(views), MAX_POINTS_DRAWN)
        rows = queries.claim_rows(conn, [p.key for p in points])
    head = services.store.head_position()
    title = f"{meta['measure']} {meta['subject']}" + (
        f" in {meta['place']}" if meta["place"] else ""
    )
    points = [
        replace(
            p,
            href=url_for("pages.article_page", stream_id=str(rows[p.key]["stream_id"])),
            label=format_figure(
                {"value": _number(p.value), "qualifier": p.qualifier, "unit": meta["unit"]}
            ),
        )
        for p in points
    ]
    undated_best = decide([v for v in views if date_or_none(v.effective_date) is None], policy).best
    valid_chart = charts.claims_chart(
        points,
        [
            (day, best.value)
            for text, best in best_by_valid_date(views, policy)
            if (day := date_or_none(text)) is not None
        ],
        title=f"Claims about {title} by the date they are about",
        undated_best=undated_best.value if undated_best else None,
        max_points=MAX_POINTS_DRAWN,
        total=len(views),
    )
    belief_chart = charts.belief_chart(
        [
            (row["position"], (row["to"] or {}).get("value"), format_figure(row["to"]))
            for row in history
        ],
        head=head,
        known_at=as_of.position,
        title=f"Best figure for {title} as the store knew it, by log position",
    )
    figure = document["figure"] if document else None
    provenance = figure["provenance"] if figure else None
    return render_template(
        "pages/topic.html",
        meta=meta,
        title=title,
        document=document,
        figure=figure,
        provenance=provenance,
        quote_parts=quote_in_sentence(provenance["sentence"], provenance["quote"])
        if provenance
        else None,
        as_of=as_of,
        known_at=known_at or "",
        valid_at=valid_at or "",
        head=head,
        history=history,
        valid_chart=valid_chart,
        valid_svg=Markup(valid_chart.svg),
        valid_table=Markup(valid_chart.table),
        legend=charts.legend(points),
        belief_svg=Markup(belief_chart.svg),
    )


def _claim_points(views: Sequence[ClaimView]) -> list[charts.ClaimPoint]:
    """Chart points at each claim's date (its `as_of`, else its article's date; None if none);
    labels and links are added to the points drawn only."""
    return [
        charts.ClaimPoint(
            day=date_or_none(view.effective_date),
            value=view.value,
            lower=view.lower,
            upper=view.upper,
            qualifier=view.qualifier,
            source=view.attributed_to or view.outlet or "the article itself",
            status=view.status,
            label="",
            key=view.claim_id,
        )
        for view in views
    ]


def quote_in_sentence(sentence: str | None, quote: str | None) -> tuple[str, str, str] | None:
    """(before, quote, after) to highlight the quote inside its sentence; None when the quote
    is not in the sentence (the page then shows the quote alone)."""
    if not sentence or not quote:
        return None
    start = sentence.find(quote)
    if start < 0:
        return None
    return sentence[:start], quote, sentence[start + len(quote) :]


def _number(value: float) -> Any:
    return int(value) if float(value).is_integer() else value
