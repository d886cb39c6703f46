"""Charts as SVG markup, built on the server from plain data. Pure: no Flask, no database.

Every chart carries a `<title>` and `<desc>` (screen readers announce them) and comes with an
HTML table of the same data, the text alternative the page shows beside it. Every piece of text
that reaches the markup is escaped here: callers pass plain strings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

WIDTH, HEIGHT = 720, 340
LEFT, RIGHT, TOP, BOTTOM = 64, 28, 16, 40
MAX_POINTS = 500
UNDATED_WIDTH = 64  # the column undated claims are drawn in, left of the dated axis
UNDATED_X = LEFT + UNDATED_WIDTH // 2
# Okabe-Ito hues, darkened where needed so every mark has 3:1 contrast on white (WCAG 1.4.11).
PALETTE = ("#0072b2", "#d55e00", "#007a5a", "#a6508a", "#8a6d00", "#b2182b", "#7b3294", "#000")
OTHER_COLOUR = "#6b6b6b"
GREY = "#9a9a9a"
GREYED_STATUSES = frozenset({"deprecated", "retracted", "withdrawn"})
LOWER_BOUNDED = frozenset({"more_than", "at_least"})
UPPER_BOUNDED = frozenset({"up_to", "as_many_as", "fewer_than", "less_than", "at_most"})


@dataclass(frozen=True, slots=True)
class ClaimPoint:
    """One claim on the valid-time chart."""

    day: date | None  # None: an undated claim, drawn in a column of its own
    value: float
    lower: float | None
    upper: float | None
    qualifier: str
    source: str
    status: str
    label: str  # the figure as people read it ("more than 91,000")
    href: str | None = None
    key: str = ""  # the caller's id for the point (a claim id)


@dataclass(frozen=True, slots=True)
class Chart:
    svg: str
    table: str
    note: str | None  # what the chart leaves out (undated claims, points over the cap)


def compact_number(value: float) -> str:
    """Axis labels short enough for a phone: 750k, 1.2M, 91k, 950."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            shown = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return shown + suffix
    return f"{value:g}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2 or 5 times a power of ten)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else [0.0]
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    tick = first
    while tick <= high + step * 1e-9:
        if tick >= low - step * 1e-9:
            ticks.append(round(tick, 10))
        tick += step
    return ticks


class _Frame:
    """Maps data to pixels: x and y are linear over [x0, x1] and [0, y_top]."""

    def __init__(self, x0: float, x1: float, y_top: float, left: int = LEFT) -> None:
        if x1 <= x0:
            x0, x1 = x0 - 1, x1 + 1
        self.x0, self.x1, self.left = x0, x1, left
        self.ticks = nice_ticks(0, y_top if y_top > 0 else 1)
        self.y_top = max(self.ticks[-1], y_top, 1)

    def x(self, value: float) -> float:
        span = WIDTH - self.left - RIGHT
        return round(self.left + (value - self.x0) / (self.x1 - self.x0) * span, 1)

    def y(self, value: float) -> float:
        span = HEIGHT - TOP - BOTTOM
        clamped = min(max(value, 0.0), self.y_top)
        return round(HEIGHT - BOTTOM - clamped / self.y_top * span, 1)


def _open(chart_id: str, title: str, desc: str, *, links: bool = False) -> list[str]:
    # A chart whose points are links is a group (its links stay reachable), else one image.
    role = "group" if links else "img"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="{role}" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _y_axis(frame: _Frame) -> list[str]:
    parts = []
    for tick in frame.ticks:
        y = frame.y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">'
            f"{escape(compact_number(tick))}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>'
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
        f'y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM}"/>'
    )
    return parts


def _x_ticks(frame: _Frame, values: Sequence[float], labels: Sequence[str]) -> list[str]:
    return [
        f'<text class="tick" x="{frame.x(v)}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
        f"{escape(label)}</text>"
        for v, label in zip(values, labels, strict=True)
    ]


def _empty(chart_id: str, title: str, message: str) -> Chart:
    parts = [
        *_open(chart_id, title, message),
        f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
        f"{escape(message)}</text>",
        "</svg>",
    ]
    return Chart("".join(parts), "", message)


def _step_path(frame: _Frame, steps: Sequence[tuple[float, float | None]], end: float) -> str:
    """A step line: each value holds until the next x (or `end`); None breaks the line."""
    commands: list[str] = []
    for index, (x, value) in enumerate(steps):
        if value is None:
            continue
        following = steps[index + 1][0] if index + 1 < len(steps) else end
        y = frame.y(value)
        commands.append(f"M{frame.x(x)},{y}H{frame.x(following)}")
        if index + 1 < len(steps) and steps[index + 1][1] is not None:
            commands.append(f"V{frame.y(steps[index + 1][1] or 0)}")
    return "".join(commands)


def _colours(points: Sequence[ClaimPoint]) -> dict[str, str]:
    """The most frequent sources get the palette's colours; the rest share one."""
    counts: dict[str, int] = {}
    for point in points:
        counts[point.source] = counts.get(point.source, 0) + 1
    ranked = sorted(counts, key=lambda s: (-counts[s], s))
    return {
        source: PALETTE[i] if i < len(PALETTE) else OTHER_COLOUR for i, source in enumerate(ranked)
    }


def _date_ticks(first: date, last: date, count: int = 5) -> list[date]:
    span = (last - first).days
    if span <= 0:
        return [first]
    steps = min(count, span)
    return [date.fromordinal(first.toordinal() + round(span * i / steps)) for i in range(steps + 1)]


def _point_marks(frame: _Frame, point: ClaimPoint, colour: str) -> str:
    greyed = point.status in GREYED_STATUSES
    stroke = GREY if greyed else colour
    x = UNDATED_X if point.day is None else frame.x(point.day.toordinal())
    y = frame.y(point.value)
    marks = []
    lower = point.lower if point.lower is not None and point.lower < point.value else None
    upper = point.upper if point.upper is not None and point.upper > point.value else None
    if lower is not None or upper is not None:
        y_low = frame.y(lower if lower is not None else point.value)
        y_high = frame.y(upper if upper is not None else point.value)
        marks.append(f'<line class="whisker" x1="{x}" x2="{x}" y1="{y_low}" y2="{y_high}"/>')
        for end in (y_low, y_high):
            marks.append(f'<line class="whisker" x1="{x - 4}" x2="{x + 4}" y1="{end}" y2="{end}"/>')
    elif point.qualifier in LOWER_BOUNDED or point.qualifier in UPPER_BOUNDED:
        # An open bound: an arrow pointing the way the true figure may lie.
        sign = -1 if point.qualifier in LOWER_BOUNDED else 1
        tip = y + sign * 22
        barb = tip - sign * 6
        marks.append(
            f'<line class="whisker" x1="{x}" x2="{x}" y1="{y}" y2="{tip}"/>'
            f'<path class="arrow" d="M{x - 4},{barb}L{x},{tip}L{x + 4},{barb}"/>'
        )
    fill = "none" if greyed else colour
    state = f" ({point.status})" if point.status not in ("active", "preferred") else ""
    tooltip = f"{point.label}, {point.source}, {_day_text(point.day)}{state}"
    marks.append(
        f'<circle cx="{x}" cy="{y}" r="5" fill="{fill}"><title>{escape(tooltip)}</title></circle>'
    )
    css = "point greyed" if greyed else "point"
    body = f'<g class="{css}" stroke="{stroke}">{"".join(marks)}</g>'
    if point.href:
        return f'<a href="{escape(point.href)}">{body}</a>'
    return body


def latest_points(points: Sequence[ClaimPoint], limit: int) -> list[ClaimPoint]:
    """The points a chart draws, in drawing order: undated first, then by date; the latest
    `limit` of them."""
    ordered = sorted(points, key=lambda p: (p.day is not None, p.day or date.min, p.value))
    return ordered[-limit:] if len(ordered) > limit else ordered


def claims_chart(
    points: Sequence[ClaimPoint],
    best: Sequence[tuple[date, float]],
    *,
    title: str,
    undated_best: float | None = None,
    max_points: int = MAX_POINTS,
    total: int | None = None,
    chart_id: str = "valid-time",
) -> Chart:
    """Every claim at the date it is about (undated ones in a column of their own), bounds as
    whiskers or arrows, coloured by source (retracted and deprecated ones hollow and grey), and
    the best figure per date as a step (`undated_best`: the best of the undated claims). Past
    `max_points` it draws the latest and says so; `total` is how many claims there were when
    the caller already kept only those (`latest_points`)."""
    ordered = latest_points(points, max_points)
    total = max(total or 0, len(points))
    note = f"showing the latest {len(ordered)} of {total} claims" if total > len(ordered) else None
    if not ordered:
        return _empty(chart_id, title, "No claims to draw")
    dated = [p for p in ordered if p.day is not None]
    has_undated = len(dated) < len(ordered)
    first = dated[0].day if dated else None
    last = dated[-1].day if dated else None
    shown_best = [(d, v) for d, v in sorted(best) if first and last and first <= d <= last]
    top = max(
        max(max(p.value, p.upper or 0, p.lower or 0) for p in ordered),
        max((v for _, v in shown_best), default=0),
        undated_best or 0,
    )
    left = LEFT + UNDATED_WIDTH if has_undated else LEFT
    day_range = (first or date.today(), last or date.today())
    frame = _Frame(day_range[0].toordinal(), day_range[1].toordinal(), top * 1.1, left + 16)
    colours = _colours(ordered)
    span = f"between {first.isoformat()} and {last.isoformat()}" if first and last else "undated"
    desc = (
        f"{len(ordered)} claim(s) from {len(colours)} source(s) {span}"
        + (f" ({len(ordered) - len(dated)} undated)" if has_undated and dated else "")
        + f", valued {compact_number(min(p.value for p in ordered))} to "
        f"{compact_number(max(p.value for p in ordered))}"
        + (
            f"; best figure at the latest date {compact_number(shown_best[-1][1])}"
            if shown_best
            else ""
        )
        + ". The table lists every point."
    )
    links = any(p.href for p in ordered)
    parts = [*_open(chart_id, title, desc, links=links), *_y_axis(frame)]
    if dated and first and last:
        ticks = _date_ticks(first, last)
        parts.extend(
            _x_ticks(frame, [d.toordinal() for d in ticks], [d.isoformat() for d in ticks])
        )
    if has_undated:
        parts.append(
            f'<line class="axis" x1="{left}" x2="{left}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>'
            f'<text class="tick" x="{UNDATED_X}" y="{HEIGHT - BOTTOM + 18}" '
            'text-anchor="middle">undated</text>'
        )
        if undated_best is not None:
            y = frame.y(undated_best)
            parts.append(
                f'<path class="best" d="M{LEFT + 6},{y}H{left - 6}"><title>best undated figure'
                "</title></path>"
            )
    if shown_best:
        steps: list[tuple[float, float | None]] = [(d.toordinal(), v) for d, v in shown_best]
        path = _step_path(frame, steps, frame.x1)
        parts.append(f'<path class="best" d="{path}"><title>best figure</title></path>')
    parts.extend(_point_marks(frame, p, colours[p.source]) for p in ordered)
    parts.append("</svg>")
    return Chart("".join(parts), _claims_table(ordered, colours), note)


def _day_text(day: date | None) -> str:
    return "undated" if day is None else day.isoformat()


def _claims_table(points: Sequence[ClaimPoint], colours: dict[str, str]) -> str:
    rows = []
    for point in points:
        bounds = "–".join(
            compact_number(b) if b is not None else "…" for b in (point.lower, point.upper)
        )
        swatch = f'<span class="swatch" style="background:{colours[point.source]}"></span>'
        label = escape(point.label)
        if point.href:
            label = f'<a href="{escape(point.href)}">{label}</a>'
        rows.append(
            f"<tr><td>{_day_text(point.day)}</td><td>{label}</td>"
            f"<td>{'' if point.lower is None and point.upper is None else escape(bounds)}</td>"
            f"<td>{swatch}{escape(point.source)}</td><td>{escape(point.status)}</td></tr>"
        )
    return (
        '<table class="data"><caption>Claims drawn on the chart</caption><thead><tr>'
        '<th scope="col">valid on</th><th scope="col">figure</th><th scope="col">bounds</th>'
        '<th scope="col">source</th><th scope="col">status</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def legend(points: Sequence[ClaimPoint]) -> list[tuple[str, str]]:
    """(source, colour) pairs in the order the chart assigns them, for the page's legend."""
    colours = _colours(points)
    shown = [(s, c) for s, c in colours.items() if c != OTHER_COLOUR]
    if len(shown) < len(colours):
        shown.append((f"{len(colours) - len(shown)} other sources", OTHER_COLOUR))
    return shown


def belief_chart(
    steps: Sequence[tuple[int, float | None, str]],
    *,
    head: int,
    known_at: int | None,
    title: str,
    chart_id: str = "transaction-time",
) -> Chart:
    """What the store believed when: the best figure as a step over log positions, from each
    change (position, new value or None, a label), with a marker at `known_at`."""
    if not steps:
        return _empty(chart_id, title, "The figure has no recorded changes")
    start = max(steps[0][0] - 1, 0)
    end = max(head, steps[-1][0])
    top = max((v for _, v, _ in steps if v is not None), default=0)
    frame = _Frame(start, end, top * 1.1)
    desc = (
        f"{len(steps)} change(s) of the best figure between log positions {steps[0][0]} and "
        f"{steps[-1][0]}"
        + (f"; the marker is at position {known_at}" if known_at is not None else "")
        + ". The history table lists every change."
    )
    x_ticks = [t for t in nice_ticks(start, end) if float(t).is_integer()] or [float(start)]
    parts = [
        *_open(chart_id, title, desc),
        *_y_axis(frame),
        *_x_ticks(frame, x_ticks, [f"#{int(t)}" for t in x_ticks]),
    ]
    path = _step_path(frame, [(p, v) for p, v, _ in steps], end)
    if path:
        parts.append(f'<path class="best" d="{path}"/>')
    for position, value, label in steps:
        if value is not None:
            parts.append(
                f'<circle class="change" cx="{frame.x(position)}" cy="{frame.y(value)}" r="4">'
                f"<title>{escape(f'#{position}: {label}')}</title></circle>"
            )
    if known_at is not None:
        x = frame.x(min(max(known_at, start), end))
        parts.append(
            f'<line class="marker" x1="{x}" x2="{x}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>'
            f'<text class="marker-label" x="{x + 4}" y="{TOP + 12}">known at #{known_at}</text>'
        )
    parts.append("</svg>")
    return Chart("".join(parts), "", None)
