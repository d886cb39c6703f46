"""Plain-text views of the query documents, for the command line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def format_figure(figure: Mapping[str, Any] | None) -> str:
    if figure is None:
        return "-"
    value = figure.get("value")
    shown = f"{value:,}" if isinstance(value, int | float) else str(value)
    qualifier = figure.get("qualifier") or "exact"
    unit = figure.get("unit") or ""
    prefix = "" if qualifier == "exact" else qualifier.replace("_", " ") + " "
    suffix = "" if unit == "count" else f" {unit}"
    return f"{prefix}{shown}{suffix}"


def render_topic_table(items: Sequence[Mapping[str, Any]], total: int) -> str:
    if not items:
        return "no topics"
    header = ("TOPIC", "FIGURE", "AS OF", "SOURCES", "CLAIMS", "CONFLICT")
    rows = [
        (
            item["topic"],
            format_figure(item["figure"]),
            (item["figure"] or {}).get("as_of") or "undated",
            str(item["sources"]),
            str(item["claims"]),
            "yes" if item["conflict"] else "",
        )
        for item in items
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    lines.append(f"({len(items)} of {total} topics)")
    return "\n".join(lines)


def render_figure(document: Mapping[str, Any]) -> str:
    figure = document["figure"]
    lines = [
        f"{document['topic']}  ({document['measure']} {document['subject']}"
        f"{' in ' + document['place'] if document['place'] else ''}, {document['kind']})"
    ]
    if document.get("known_at_position") is not None or document.get("valid_at"):
        lines.append(
            f"  as known at position {document.get('known_at_position') or 'now'}, "
            f"valid at {document.get('valid_at') or 'any date'}"
        )
    if figure is None:
        lines.append("  no eligible claim")
        return "\n".join(lines)
    provenance = figure["provenance"]
    article = provenance["article"]
    lines += [
        f"  best figure: {format_figure(figure)}  as of {figure['as_of'] or 'undated'}",
        f"  range: {figure['low']:,} to {figure['high']:,}  from {figure['sources']} source(s)",
        f"  said by: {provenance['attributed_to'] or '(the article itself)'}",
        f'  quote: "{provenance["quote"]}"',
        f"  article: {article['stream_id']}  {article.get('outlet') or ''} "
        f"{article.get('published_at') or 'no date'}  {article.get('title') or ''}".rstrip(),
        f"  claim: {provenance['claim_id']} at position {provenance['position']} "
        f"(rule {provenance['rule']}, extractor {provenance['extractor_version']})",
        "  why: " + "; ".join(figure["explanation"]),
    ]
    for conflict in figure["conflicts"]:
        lines.append(f"  CONFLICT: {conflict}")
    for claim in document["competing"]:
        lines.append(
            f"  competing: {format_figure(claim)} as of {claim['as_of'] or 'undated'} "
            f"by {claim['attributed_to'] or '(article)'} in {claim['article']['stream_id']}"
        )
    hidden = document.get("competing_total", 0) - len(document["competing"])
    if hidden > 0:
        lines.append(f"  … and {hidden} more competing claim(s): see the topic's claims")
    lines.append(f"  claims: {document['claims']}")
    return "\n".join(lines)


def render_history(topic: str, rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return f"{topic}: no history"
    lines = [f"{topic}: {len(rows)} change(s)"]
    for row in rows:
        cause = row["cause"]
        detail = f" ({cause['detail']})" if cause["detail"] else ""
        lines.append(
            f"  #{row['position']} {row['recorded_at']}  {format_figure(row['from'])} -> "
            f"{format_figure(row['to'])}  as of {row['valid_as_of'] or 'undated'}  "
            f"because {cause['event_type']}{detail}" + ("  [conflict]" if row["conflict"] else "")
        )
    return "\n".join(lines)
