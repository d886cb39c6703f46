"""The Event log page: the latest events first, a page at a time (indexed reads by position)."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from api.context import reader
from api.pages.blueprint import blueprint
from api.resources.events import event_document
from factstore.whole_numbers import parse_whole_number

PAGE_SIZE = 50


@blueprint.get("/events")
def event_log_page() -> ResponseReturnValue:
    services = reader()
    head = services.store.head_position()
    before_arg = request.args.get("before", "")
    before = parse_whole_number(before_arg)
    before = head + 1 if before is None else min(before, head + 1)
    after = max(before - 1 - PAGE_SIZE, 0)
    events = [e for e in services.store.read_all(after, PAGE_SIZE) if e.position < before]
    events.reverse()
    return render_template(
        "pages/events.html",
        events=[event_document(e) for e in events],
        head=head,
        older=events[-1].position if events and events[-1].position > 1 else None,
        newer=min(before + PAGE_SIZE, head + 1) if before <= head else None,
    )
