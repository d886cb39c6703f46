"""The best-figure policy: which of a topic's claims is the figure to show, and how sure we are.

A pure function of the claims, written to be checked by hand:

1. **Eligible claims.** Retracted and deprecated claims never count. With `valid_at`, only claims
   whose date (its `as_of`, else its article's publication date) is on or before that day count.
2. **Window.** A claim's window is its `as_of` date. The latest window wins; a dated claim beats
   an undated one (undated claims form one window below every dated one).
3. **Within the window**, in this order:
   a. a claim an analyst marked `preferred` beats the rest;
   b. the more authoritative source (tiers in `PolicyConfig.source_tiers`: UN agencies and
      independent monitors above governments and armies, those above other named sources, named
      sources above the article's own voice, propaganda outlets last);
   c. the more precise figure: exact over bounded (more than, at least, up to, between…) over
      approximate (about, dozens…);
   d. the later report (higher log position).
4. **Range.** `low`/`high` are the lowest and highest figures stated for the best claim's window
   (a claim's lower bound, or its value when it has none; likewise upper).
5. **Competing claims** are the window's eligible claims that disagree with the best one: their
   intervals do not overlap once widened by `conflict_tolerance` (relative).
6. **Conflicts** are flagged when the window has competing claims, or when a `total` goes down:
   an earlier window's best lower bound is above this window's best upper bound (beyond the
   tolerance).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

EXACT = "exact"
# Qualifiers that bound the figure on one or both sides; anything else non-exact is approximate.
BOUNDED_QUALIFIERS = frozenset(
    {
        "more_than",
        "at_least",
        "up_to",
        "as_many_as",
        "nearly",
        "almost",
        "fewer_than",
        "less_than",
        "at_most",
        "between",
    }
)
INELIGIBLE_STATUSES = frozenset({"retracted", "deprecated", "withdrawn"})


class ClaimView(NamedTuple):
    """A claim as the policy sees it: the figure, its dates, its source and its status.

    A named tuple (immutable, compared and hashed by its fields, like a frozen dataclass): an
    as-of read builds one per claim of the topic, and a tuple is built ~5x faster than a frozen
    dataclass, which sets each field through object.__setattr__."""

    claim_id: str
    topic: str
    kind: str
    value: float
    lower: float | None
    upper: float | None
    qualifier: str
    unit: str
    as_of: str | None
    published_at: str | None
    attributed_to: str | None
    outlet: str | None
    article_id: str
    status: str  # active | preferred | deprecated | retracted | withdrawn
    position: int  # the log position of the event that asserted it

    @property
    def effective_date(self) -> str | None:
        return self.as_of or self.published_at

    @property
    def source(self) -> str:
        return (self.attributed_to or self.outlet or f"article:{self.article_id}").strip().lower()


def _shared(text: str | None) -> str | None:
    return None if text is None else sys.intern(text)


def with_shared_strings(view: ClaimView) -> ClaimView:
    """The same claim, its strings that many claims repeat (topic, kind, qualifier, unit, dates,
    source, status) interned: a process that keeps many claims (a warm topic) holds one copy of
    each instead of one per claim, ~1.4 KB -> ~0.9 KB a claim. The ids stay as they are: each
    is its own claim's."""
    intern = sys.intern
    return ClaimView(
        view.claim_id,
        intern(view.topic),
        intern(view.kind),
        view.value,
        view.lower,
        view.upper,
        intern(view.qualifier),
        intern(view.unit),
        _shared(view.as_of),
        _shared(view.published_at),
        _shared(view.attributed_to),
        _shared(view.outlet),
        view.article_id,
        intern(view.status),
        view.position,
    )


@dataclass(frozen=True, slots=True)
class SourceTier:
    name: str
    score: int
    # Lower-case words or phrases; a source matches when one appears in its name as whole words.
    patterns: tuple[str, ...]


@functools.cache
def _tier_pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(patterns, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


DEFAULT_SOURCE_TIERS: tuple[SourceTier, ...] = (
    SourceTier(
        "un_and_monitors",
        4,
        (
            "united nations",
            "un",
            "u.n.",
            "unhcr",
            "iom",
            "ocha",
            "unicef",
            "who",
            "world health organization",
            "unami",
            "international organization for migration",
            "red cross",
            "icrc",
            "red crescent",
            "msf",
            "médecins sans frontières",
            "doctors without borders",
            "amnesty",
            "human rights watch",
            "airwars",
            "acled",
            "observatory",
            "monitor",
            "ucdp",
            "ngo",
        ),
    ),
    SourceTier(
        "officials",
        2,
        (
            "ministry",
            "minister",
            "government",
            "official",
            "governor",
            "police",
            "army",
            "military",
            "command",
            "general",
            "colonel",
            "commander",
            "spokesman",
            "spokeswoman",
            "spokesperson",
            "president",
            "mayor",
            "statement",
            "hospital",
            "health",
        ),
    ),
    SourceTier("propaganda", -1, ("amaq", "propaganda")),
)


_AUTHORITY_CACHE = 10_000


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    source_tiers: tuple[SourceTier, ...] = DEFAULT_SOURCE_TIERS
    named_source_score: int = 1  # a named source no tier lists
    unattributed_score: int = 0  # the article's own voice
    conflict_tolerance: float = 0.10
    # attributed_to -> authority(): the tier patterns are regexes, and a topic's claims come
    # from a few sources, so each name is matched once (bounded: cleared when full).
    _authority_of: dict[str | None, tuple[int, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PolicyConfig:
        """Build from JSON-like data, e.g. a deployment's policy file."""
        tiers = tuple(
            SourceTier(
                str(t["name"]), int(t["score"]), tuple(str(p).lower() for p in t["patterns"])
            )
            for t in data.get("source_tiers", [])
        )
        tolerance = float(data.get("conflict_tolerance", 0.10))
        # A relative widening: below 0 or NaN, two claims would not even agree with themselves.
        if not 0 <= tolerance < math.inf:
            raise ValueError(f"conflict_tolerance must be a finite number >= 0, not {tolerance}")
        return cls(
            source_tiers=tiers or DEFAULT_SOURCE_TIERS,
            named_source_score=int(data.get("named_source_score", 1)),
            unattributed_score=int(data.get("unattributed_score", 0)),
            conflict_tolerance=tolerance,
        )

    def authority(self, claim: ClaimView) -> tuple[int, str]:
        """(score, tier name) of the claim's source."""
        known = self._authority_of.get(claim.attributed_to)
        if known is None:
            if len(self._authority_of) >= _AUTHORITY_CACHE:
                self._authority_of.clear()
            known = self._authority_of[claim.attributed_to] = self._match(claim.attributed_to)
        return known

    def _match(self, attributed_to: str | None) -> tuple[int, str]:
        if not attributed_to:
            return (self.unattributed_score, "unattributed")
        name = attributed_to.lower()
        for tier in self.source_tiers:
            if _tier_pattern(tier.patterns).search(name):
                return (tier.score, tier.name)
        return (self.named_source_score, "named_source")


@dataclass(frozen=True, slots=True)
class FigureDecision:
    best: ClaimView | None
    low: float | None = None
    high: float | None = None
    sources: int = 0
    competing: tuple[ClaimView, ...] = ()
    conflicts: tuple[str, ...] = ()
    # Why the best claim won, in the policy's own terms.
    explanation: tuple[str, ...] = field(default_factory=tuple)

    @property
    def conflict(self) -> bool:
        return bool(self.conflicts)


# Rule 3c: exact (2) over bounded (1) over approximate (any other qualifier: 0).
PRECISION_RANK = {EXACT: 2, **dict.fromkeys(BOUNDED_QUALIFIERS, 1)}


def window_key(claim: ClaimView) -> tuple[int, str]:
    return (1, claim.as_of) if claim.as_of else (0, "")


def rank_key(
    claim: ClaimView, config: PolicyConfig, authority: int | None = None
) -> tuple[Any, ...]:
    """Larger is better: the order of rules 2 and 3. `authority` is the claim's source score
    when the caller already knows it (`config.authority(claim)[0]`)."""
    return (window_key(claim), *window_rank(claim, config, authority))


def window_rank(
    claim: ClaimView, config: PolicyConfig, authority: int | None = None
) -> tuple[bool, int, int, int]:
    """`rank_key` but the window: the order of rule 3 among one window's claims."""
    return (
        claim.status == "preferred",
        config.authority(claim)[0] if authority is None else authority,
        PRECISION_RANK.get(claim.qualifier, 0),
        claim.position,
    )


def eligible_claims(claims: Iterable[ClaimView], valid_at: str | None = None) -> list[ClaimView]:
    return [
        c
        for c in claims
        if c.status not in INELIGIBLE_STATUSES
        and (valid_at is None or c.effective_date is None or c.effective_date <= valid_at)
    ]


def by_window(claims: Iterable[ClaimView]) -> dict[tuple[int, str], list[ClaimView]]:
    """Rule 2: claims grouped by window, each group in the order given."""
    windows: dict[tuple[int, str], list[ClaimView]] = {}
    for claim in claims:
        key = window_key(claim)
        group = windows.get(key)
        if group is None:
            windows[key] = [claim]
        else:
            group.append(claim)
    return windows


def range_bounds(claim: ClaimView) -> tuple[float, float]:
    """Rule 4: what a claim contributes to its window's range (its bounds, else its value)."""
    return (
        claim.lower if claim.lower is not None else claim.value,
        claim.upper if claim.upper is not None else claim.value,
    )


def widened(claim: ClaimView, tolerance: float) -> tuple[float, float]:
    """The claim's interval (its value when exact or unbounded, else its bounds, open where
    absent) widened by `tolerance` (relative): two claims agree iff theirs overlap."""
    lower, upper = claim.lower, claim.upper
    if claim.qualifier == EXACT or (lower is None and upper is None):
        low = high = claim.value
    else:
        low = -math.inf if lower is None else lower
        high = math.inf if upper is None else upper
    isfinite = math.isfinite
    return (
        low - abs(low) * tolerance if isfinite(low) else low,
        high + abs(high) * tolerance if isfinite(high) else high,
    )


def best_of(claims: Iterable[ClaimView], config: PolicyConfig) -> ClaimView:
    """Rule 3: the best of a window's claims (their `rank_key`s differ only in `window_rank`)."""
    return max(claims, key=lambda c: window_rank(c, config))


def decide(
    claims: Sequence[ClaimView],
    config: PolicyConfig = PolicyConfig(),
    valid_at: str | None = None,
) -> FigureDecision:
    """The best figure of one topic's claims (see the module docstring for the rules)."""
    eligible = eligible_claims(claims, valid_at)
    if not eligible:
        return FigureDecision(best=None)
    # The first part of every claim's rank is its window: the best claim is in the latest one,
    # the latest dated window if any claim is dated ("" stands for the undated window).
    latest = max((c.as_of for c in eligible if c.as_of), default="")
    window = [c for c in eligible if (c.as_of or "") == latest]
    best = best_of(window, config)
    tolerance = config.conflict_tolerance
    best_low, best_high = widened(best, tolerance)
    competing = []
    for c in window:
        if c is not best:
            low, high = widened(c, tolerance)
            if not (low <= best_high and best_low <= high):  # rule 5: they cannot agree
                competing.append(c)
    competing.sort(key=lambda c: c.position)
    earlier: dict[str, ClaimView] = {}
    if best.kind == "total" and latest:
        # Rule 6: the best total of each earlier dated window.
        totals = by_window(
            c for c in eligible if c.kind == "total" and c.as_of and c.as_of < latest
        )
        earlier = {key[1]: best_of(group, config) for key, group in totals.items()}
    return _decision(
        best,
        min([c.value if c.lower is None else c.lower for c in window]),  # rule 4: range_bounds
        max([c.value if c.upper is None else c.upper for c in window]),
        len({c.source for c in eligible}),
        tuple(competing),
        earlier,
        config,
    )


def _decision(
    best: ClaimView,
    low: float,
    high: float,
    sources: int,
    competing: tuple[ClaimView, ...],
    earlier: Mapping[str, ClaimView],
    config: PolicyConfig,
) -> FigureDecision:
    """The decision with its conflicts (rule 6) and explanation, from what rules 1–5 found;
    `earlier`: the best total of each earlier dated window, by date (empty unless the best
    claim is a dated total)."""
    conflicts: list[str] = []
    if competing:
        conflicts.append(
            f"{len(competing)} claim(s) for {best.as_of or 'the undated window'} disagree "
            f"with {_figure(best)} by more than {config.conflict_tolerance:.0%}"
        )
    conflicts.extend(_decreases(earlier, best, config))
    tier_score, tier = config.authority(best)
    explanation = (
        f"window: {best.as_of or 'undated (no dated claim)'}",
        *(("marked preferred by an analyst",) if best.status == "preferred" else ()),
        f"source: {best.attributed_to or 'the article itself'} ({tier}, score {tier_score})",
        f"precision: {best.qualifier}",
        f"reported at log position {best.position}",
    )
    return FigureDecision(
        best=best,
        low=low,
        high=high,
        sources=sources,
        competing=competing,
        conflicts=tuple(conflicts),
        explanation=explanation,
    )


def best_by_valid_date(
    claims: Sequence[ClaimView], config: PolicyConfig = PolicyConfig()
) -> list[tuple[str, ClaimView]]:
    """The best claim for each date a claim is about: `decide(claims, config, d).best` for every
    distinct effective date d, oldest first. One sweep keeps each window's best so far (rule 3
    is a maximum), so the cost is one rank per claim, not one decision per date."""
    eligible = eligible_claims(claims)
    dated = sorted(
        (c for c in eligible if c.effective_date is not None),
        key=lambda c: c.effective_date or "",
    )
    best: dict[tuple[int, str], tuple[tuple[Any, ...], ClaimView]] = {}

    def add(claim: ClaimView) -> None:
        window, rank = window_key(claim), rank_key(claim, config)
        if window not in best or rank > best[window][0]:
            best[window] = (rank, claim)

    for claim in eligible:
        if claim.effective_date is None:
            add(claim)
    result: list[tuple[str, ClaimView]] = []
    index = 0
    while index < len(dated):
        day = dated[index].effective_date or ""
        while index < len(dated) and dated[index].effective_date == day:
            add(dated[index])
            index += 1
        result.append((day, best[max(best)][1]))
    return result


def _decreases(
    earlier: Mapping[str, ClaimView], best: ClaimView, config: PolicyConfig
) -> list[str]:
    """A running total that falls: an earlier window's best total is above the current best."""
    _, best_high = widened(best, config.conflict_tolerance)
    flags = []
    for as_of, previous in sorted(earlier.items()):
        previous_low, _ = widened(previous, config.conflict_tolerance)
        if previous_low > best_high:
            flags.append(
                f"total went down: {_figure(previous)} as of {as_of}, "
                f"then {_figure(best)} as of {best.as_of}"
            )
    return flags


def _figure(claim: ClaimView) -> str:
    value = int(claim.value) if float(claim.value).is_integer() else claim.value
    return (
        f"{claim.qualifier.replace('_', ' ')} {value:,}"
        if claim.qualifier != EXACT
        else f"{value:,}"
    )


def figure_summary(decision: FigureDecision) -> dict[str, Any] | None:
    """What the figure history records: the best figure and its range (None: no figure)."""
    if decision.best is None:
        return None
    return summary_of(decision.best, decision.low, decision.high, decision.conflict)


def summary_of(
    best: ClaimView, low: float | None, high: float | None, conflict: bool
) -> dict[str, Any]:
    return {
        "claim_id": best.claim_id,
        "value": best.value,
        "lower": best.lower,
        "upper": best.upper,
        "qualifier": best.qualifier,
        "unit": best.unit,
        "as_of": best.as_of,
        "low": low,
        "high": high,
        "source": best.attributed_to or best.outlet,
        "conflict": conflict,
    }


# --- the same decision, kept up to date one claim at a time ----------------------------------

# (best claim, low, high, conflict): what `summary_of` builds a summary from.
SummaryParts = tuple[ClaimView, float | None, float | None, bool]


class _Entry:
    """A claim with what the rules compare, computed once."""

    __slots__ = ("high", "low", "rank", "source", "total", "view", "wh", "wl")

    def __init__(self, view: ClaimView, config: PolicyConfig, authority: int) -> None:
        self.view = view
        self.rank = rank_key(view, config, authority)
        self.low, self.high = range_bounds(view)
        self.wl, self.wh = widened(view, config.conflict_tolerance)
        self.source = view.source
        self.total = view.kind == "total"


class _Window:
    """One window's eligible claims and their aggregates (best, best total, range, spread).

    Removing the claim that set an aggregate needs the next one: a small window is rescanned;
    a big one (thousands of claims in one undated or busy window) keeps a heap per aggregate,
    built at its first such removal, with removed claims dropped lazily from the heap tops."""

    __slots__ = ("best", "best_total", "entries", "heaps", "high", "low", "max_wl", "min_wh")

    def __init__(self, entry: _Entry) -> None:
        self.entries = {entry.view.claim_id: entry}
        self.best = entry
        self.best_total = entry if entry.total else None
        self.low, self.high = entry.low, entry.high
        self.max_wl, self.min_wh = entry.wl, entry.wh
        self.heaps: _WindowHeaps | None = None

    def add(self, entry: _Entry) -> None:
        self.entries[entry.view.claim_id] = entry
        if entry.rank > self.best.rank:
            self.best = entry
        if entry.total and (self.best_total is None or entry.rank > self.best_total.rank):
            self.best_total = entry
        # min()/max() keep the first of equals; so do these comparisons (and they are cheaper).
        if entry.low < self.low:
            self.low = entry.low
        if entry.high > self.high:
            self.high = entry.high
        if entry.wl > self.max_wl:
            self.max_wl = entry.wl
        if entry.wh < self.min_wh:
            self.min_wh = entry.wh
        if self.heaps is not None:
            self.heaps.push(entry)

    def remove(self, entry: _Entry) -> None:
        """Drop a claim (the window keeps at least one): aggregates it set are recomputed."""
        del self.entries[entry.view.claim_id]
        sets_bound = (
            entry.low == self.low
            or entry.high == self.high
            or entry.wl == self.max_wl
            or entry.wh == self.min_wh
        )
        if self.heaps is None:
            if not (sets_bound or self.best is entry or self.best_total is entry):
                return
            if len(self.entries) < _HEAP_FROM:
                self._rescan(entry, sets_bound)
                return
            self.heaps = _WindowHeaps(self.entries.values())
        heaps = self.heaps
        if heaps.stale(len(self.entries)):
            heaps = self.heaps = _WindowHeaps(self.entries.values())
        entries = self.entries
        if self.best is entry:
            self.best = heaps.top(heaps.best, entries)
        if self.best_total is entry:
            self.best_total = heaps.top_or_none(heaps.best_total, entries)
        if sets_bound:
            self.low = heaps.top(heaps.low, entries).low
            self.high = heaps.top(heaps.high, entries).high
            self.max_wl = heaps.top(heaps.max_wl, entries).wl
            self.min_wh = heaps.top(heaps.min_wh, entries).wh

    def _rescan(self, entry: _Entry, sets_bound: bool) -> None:
        entries = self.entries.values()
        if self.best is entry:
            self.best = max(entries, key=lambda e: e.rank)
        if self.best_total is entry:
            totals = [e for e in entries if e.total]
            self.best_total = max(totals, key=lambda e: e.rank) if totals else None
        if sets_bound:
            self.low = min(e.low for e in entries)
            self.high = max(e.high for e in entries)
            self.max_wl = max(e.wl for e in entries)
            self.min_wh = min(e.wh for e in entries)


# Windows with fewer claims are rescanned when their best or a bound is removed.
_HEAP_FROM = 64
_sequence = itertools.count()  # heap tie-breaker: entries themselves never get compared

_HeapItem = tuple[Any, int, _Entry]


class _WindowHeaps:
    """Heaps over a window's claims, smallest first: by descending rank (all, and totals),
    ascending low, descending high, descending widened low, ascending widened high. Entries
    no longer in the window stay until they reach a top (`top` drops them)."""

    __slots__ = ("best", "best_total", "high", "low", "max_wl", "min_wh")

    def __init__(self, entries: Iterable[_Entry]) -> None:
        self.best: list[_HeapItem] = []
        self.best_total: list[_HeapItem] = []
        self.low: list[_HeapItem] = []
        self.high: list[_HeapItem] = []
        self.max_wl: list[_HeapItem] = []
        self.min_wh: list[_HeapItem] = []
        for entry in entries:
            self._append(entry)
        for heap in (self.best, self.best_total, self.low, self.high, self.max_wl, self.min_wh):
            heapq.heapify(heap)

    def _items(self, entry: _Entry) -> tuple[_HeapItem, ...]:
        seq = next(_sequence)
        _, preferred, authority, precision, position = entry.rank
        return (
            ((-preferred, -authority, -precision, -position), seq, entry),
            (entry.low, seq, entry),
            (-entry.high, seq, entry),
            (-entry.wl, seq, entry),
            (entry.wh, seq, entry),
        )

    def _append(self, entry: _Entry) -> None:
        rank, low, high, wl, wh = self._items(entry)
        self.best.append(rank)
        if entry.total:
            self.best_total.append(rank)
        self.low.append(low)
        self.high.append(high)
        self.max_wl.append(wl)
        self.min_wh.append(wh)

    def push(self, entry: _Entry) -> None:
        rank, low, high, wl, wh = self._items(entry)
        push = heapq.heappush
        push(self.best, rank)
        if entry.total:
            push(self.best_total, rank)
        push(self.low, low)
        push(self.high, high)
        push(self.max_wl, wl)
        push(self.min_wh, wh)

    def stale(self, live: int) -> bool:
        """Mostly removed entries: cheaper to rebuild than to keep popping."""
        return len(self.best) > 2 * live + _HEAP_FROM

    @staticmethod
    def top_or_none(heap: list[_HeapItem], entries: Mapping[str, _Entry]) -> _Entry | None:
        while heap:
            entry = heap[0][2]
            if entries.get(entry.view.claim_id) is entry:
                return entry
            heapq.heappop(heap)
        return None

    def top(self, heap: list[_HeapItem], entries: Mapping[str, _Entry]) -> _Entry:
        entry = self.top_or_none(heap, entries)
        assert entry is not None  # a window keeps at least one claim
        return entry


def _irregular(view: ClaimView) -> bool:
    """NaN or -0.0 figures: min/max would depend on order, so `TopicFigure` defers to `decide`."""
    for x in (view.value, view.lower, view.upper):  # once per claim: a loop, not any()
        if x is not None and (x != x or (x == 0 and math.copysign(1.0, x) < 0)):
            return True
    return False


class TopicFigure:
    """`decide` for one topic, kept up to date as claims are added and change status.

    `summary()` equals `(figure_summary(decide(claims)), decide(claims).sources)` for the
    claims added so far (with their current status), at O(1) amortised cost per change instead
    of O(claims). How, rule by rule, with the same helpers `decide` uses:

    - rules 1–3: eligible claims sit in per-window groups, each with its best claim
      (`rank_key`); the best overall is the best of the latest window.
    - rule 4: each window keeps the min/max of `range_bounds`.
    - rule 5: a claim `c` competes with `best` iff their `widened` intervals miss, i.e. iff
      `widened(c).low > widened(best).high or widened(best).low > widened(c).high`; so some
      claim competes iff the window's max widened low / min widened high pass those bounds.
      `best` itself takes part in those aggregates only harmlessly when it agrees with itself;
      when it does not (a lower bound above the upper one) the window is scanned instead.
    - rule 6: the flag is raised iff the max over earlier dated windows of their best total's
      widened low is above the best's widened high (cached; recomputed when it may have fallen).
    - sources: a count per source of eligible claims.

    Removing a claim recomputes only the aggregates it determined. Claims must have distinct
    positions, as claims in the log do (one per ClaimAsserted event); a duplicate position, a
    NaN or a -0.0 makes the topic fall back to `decide` over all claims, so the result stays
    exact. `tests/unit/domain/test_topic_figure.py` checks the equality on random histories.
    """

    def __init__(self, config: PolicyConfig, authority: dict[str | None, int] | None = None):
        self.config = config
        # attributed_to -> authority score; may be shared by every topic of one policy.
        self._authority = {} if authority is None else authority
        self.claims: dict[str, ClaimView] = {}
        self._entries: dict[str, _Entry] = {}
        self._windows: dict[tuple[int, str], _Window] = {}
        self._sources: dict[str, int] = {}
        self._positions: set[int] = set()
        self._latest: tuple[int, str] | None = None
        self._earlier: float | None = None  # max earlier best-total widened low; None: unknown
        self._exact = False  # fall back to `decide`

    def __len__(self) -> int:
        return len(self.claims)

    def add(self, view: ClaimView) -> bool:
        """Add a claim (any status); False if its id is known already (nothing changes)."""
        if view.claim_id in self.claims:
            return False
        self.claims[view.claim_id] = view
        if view.position in self._positions or _irregular(view):
            self._exact = True
        self._positions.add(view.position)
        if view.status not in INELIGIBLE_STATUSES:
            self._insert(view)
        return True

    def set_status(self, claim_id: str, status: str) -> ClaimView:
        """Change a known claim's status; the claim as it is now."""
        view = self.claims[claim_id]
        if view.status == status:
            return view
        changed = view._replace(status=status)
        self.claims[claim_id] = changed
        if view.status not in INELIGIBLE_STATUSES:
            self._remove(claim_id)
        if status not in INELIGIBLE_STATUSES:
            self._insert(changed)
        return changed

    def summary(self) -> tuple[dict[str, Any] | None, int]:
        """(figure_summary of the decision, number of sources): exactly as `decide` says."""
        parts, sources = self.summary_parts()
        return (None if parts is None else summary_of(*parts)), sources

    def summary_parts(self) -> tuple[SummaryParts | None, int]:
        """What `summary()` is built from: (best claim, low, high, conflict) of the decision
        (None: no figure), and the number of sources. Equal parts give equal summaries, so a
        caller can skip building one when the parts did not change."""
        if self._exact:
            decision = decide(list(self.claims.values()), self.config)
            if decision.best is None:
                return None, decision.sources
            return (decision.best, decision.low, decision.high, decision.conflict), (
                decision.sources
            )
        if self._latest is None:
            return None, 0
        window = self._windows[self._latest]
        best = window.best
        if best.wl <= best.wh:
            conflict = window.max_wl > best.wh or best.wl > window.min_wh
        else:
            conflict = any(
                e.wl > best.wh or best.wl > e.wh for e in window.entries.values() if e is not best
            )
        if not conflict and best.total and self._latest[0] == 1:
            conflict = self._earlier_max() > best.wh
        return (best.view, window.low, window.high, conflict), len(self._sources)

    def decision(self) -> FigureDecision:
        """`decide(claims)`, exactly, built from the windows: the latest window's claims (for
        the competing ones) and each earlier window's best total; not from every claim."""
        if self._exact:
            return decide(list(self.claims.values()), self.config)
        if self._latest is None:
            return FigureDecision(best=None)
        window = self._windows[self._latest]
        best = window.best
        competing = tuple(
            sorted(
                (
                    e.view
                    for e in window.entries.values()
                    if e is not best and (e.wl > best.wh or best.wl > e.wh)
                ),
                key=lambda view: view.position,
            )
        )
        earlier: dict[str, ClaimView] = {}
        if best.total and self._latest[0] == 1:
            earlier = {
                key[1]: w.best_total.view
                for key, w in self._windows.items()
                if key[0] == 1 and key < self._latest and w.best_total is not None
            }
        return _decision(
            best.view,
            window.low,
            window.high,
            len(self._sources),
            competing,
            earlier,
            self.config,
        )

    # --- internals -------------------------------------------------------------------------

    def _entry(self, view: ClaimView) -> _Entry:
        name = view.attributed_to
        score = self._authority.get(name)
        if score is None:
            score = self._authority[name] = self.config.authority(view)[0]
        return _Entry(view, self.config, score)

    def _insert(self, view: ClaimView) -> None:
        entry = self._entry(view)
        self._entries[view.claim_id] = entry
        self._sources[entry.source] = self._sources.get(entry.source, 0) + 1
        key = entry.rank[0]
        window = self._windows.get(key)
        if window is None:
            self._windows[key] = _Window(entry)
            if self._latest is None or key > self._latest:
                self._latest = key
                self._earlier = None  # the previous latest window is an earlier one now
                return
            self._total_changed(key, None, entry.wl if entry.total else None)
            return
        previous = window.best_total
        window.add(entry)
        if window.best_total is not previous:
            self._total_changed(key, previous.wl if previous else None, entry.wl)

    def _remove(self, claim_id: str) -> None:
        entry = self._entries.pop(claim_id)
        count = self._sources[entry.source] - 1
        if count:
            self._sources[entry.source] = count
        else:
            del self._sources[entry.source]
        key = entry.rank[0]
        window = self._windows[key]
        previous = window.best_total
        if len(window.entries) == 1:
            del self._windows[key]
            if key == self._latest:
                self._latest = max(self._windows) if self._windows else None
                self._earlier = None
            else:
                self._total_changed(key, previous.wl if previous else None, None)
            return
        window.remove(entry)
        if window.best_total is not previous:
            current = window.best_total
            self._total_changed(
                key, previous.wl if previous else None, current.wl if current else None
            )

    def _total_changed(self, key: tuple[int, str], old: float | None, new: float | None) -> None:
        """A window's best total changed: keep the earlier windows' max up to date."""
        if self._earlier is None or key[0] == 0 or key == self._latest:
            return
        new_value = -math.inf if new is None else new
        if new_value >= self._earlier:
            self._earlier = new_value
        elif old is not None and old >= self._earlier:
            self._earlier = None  # the max may have fallen: recompute when needed

    def _earlier_max(self) -> float:
        if self._earlier is None:
            self._earlier = max(
                (
                    w.best_total.wl
                    for key, w in self._windows.items()
                    if key[0] == 1 and key != self._latest and w.best_total is not None
                ),
                default=-math.inf,
            )
        return self._earlier
