"""The Topics page: every topic with its best figure; search, filter, sort, paginate."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from api.context import reader
from api.pages.blueprint import blueprint
from factstore.projections import queries
from factstore.whole_numbers import parse_whole_number

PAGE_SIZE = 50
COLUMNS = (
    ("topic", "Topic"),
    ("value", "Best figure"),
    ("as_of", "As of"),
    ("sources", "Sources"),
)


@blueprint.get("/")
def topics_page() -> ResponseReturnValue:
    services = reader()
    args = request.args
    sort = args.get("sort", "topic")
    field = sort.lstrip("-")
    if field not in queries.SORTS:
        field, sort = "topic", "topic"
    page = _page_number(args.get("page"))
    filters = {key: args.get(key, "").strip() for key in ("q", "measure", "place")}
    items, total, _ = queries.list_topics(
        services.store.engine,
        measure=filters["measure"] or None,
        place=filters["place"].lower() or None,
        search=filters["q"] or None,
        sort=field,
        descending=sort.startswith("-"),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        policy=services.settings.policy,
    )
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template(
        "pages/topics.html",
        items=items,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        sort=sort,
        columns=COLUMNS,
        measures=queries.list_measures(services.store.engine),
    )


def _page_number(text: str | None) -> int:
    """?page= as a page number from 1; nonsense reads as the first page, and a page past any
    list (10**9 pages) as that, so the offset stays a database integer."""
    number = parse_whole_number(text or "")
    return 1 if not number else min(number, 10**9)
