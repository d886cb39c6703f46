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
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True, slots=True)
class ClaimView:
    """A claim as the policy sees it: the figure, its dates, its source and its status."""

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
    def interval(self) -> tuple[float, float]:
        low = self.lower if self.lower is not None else -math.inf
        high = self.upper if self.upper is not None else math.inf
        if self.qualifier == EXACT or (self.lower is None and self.upper is None):
            return (self.value, self.value)
        return (low, high)

    @property
    def source(self) -> str:
        return (self.attributed_to or self.outlet or f"article:{self.article_id}").strip().lower()


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


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    source_tiers: tuple[SourceTier, ...] = DEFAULT_SOURCE_TIERS
    named_source_score: int = 1  # a named source no tier lists
    unattributed_score: int = 0  # the article's own voice
    conflict_tolerance: float = 0.10

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PolicyConfig:
        """Build from JSON-like data, e.g. a deployment's policy file."""
        tiers = tuple(
            SourceTier(
                str(t["name"]), int(t["score"]), tuple(str(p).lower() for p in t["patterns"])
            )
            for t in data.get("source_tiers", [])
        )
        return cls(
            source_tiers=tiers or DEFAULT_SOURCE_TIERS,
            named_source_score=int(data.get("named_source_score", 1)),
            unattributed_score=int(data.get("unattributed_score", 0)),
            conflict_tolerance=float(data.get("conflict_tolerance", 0.10)),
        )

    def authority(self, claim: ClaimView) -> tuple[int, str]:
        """(score, tier name) of the claim's source."""
        if not claim.attributed_to:
            return (self.unattributed_score, "unattributed")
        name = claim.attributed_to.lower()
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


def precision_rank(qualifier: str) -> int:
    if qualifier == EXACT:
        return 2
    if qualifier in BOUNDED_QUALIFIERS:
        return 1
    return 0


def window_key(claim: ClaimView) -> tuple[int, str]:
    return (1, claim.as_of) if claim.as_of else (0, "")


def rank_key(claim: ClaimView, config: PolicyConfig) -> tuple[Any, ...]:
    """Larger is better: the order of rules 2 and 3."""
    return (
        window_key(claim),
        claim.status == "preferred",
        config.authority(claim)[0],
        precision_rank(claim.qualifier),
        claim.position,
    )


def eligible_claims(claims: Iterable[ClaimView], valid_at: str | None = None) -> list[ClaimView]:
    return [
        c
        for c in claims
        if c.status not in INELIGIBLE_STATUSES
        and (valid_at is None or c.effective_date is None or c.effective_date <= valid_at)
    ]


def agree(a: ClaimView, b: ClaimView, tolerance: float) -> bool:
    """Whether two figures can both be true, allowing `tolerance` relative slack."""
    a_low, a_high = a.interval
    b_low, b_high = b.interval
    return _widen_low(a_low, tolerance) <= _widen_high(b_high, tolerance) and _widen_low(
        b_low, tolerance
    ) <= _widen_high(a_high, tolerance)


def _widen_low(x: float, tolerance: float) -> float:
    return x - abs(x) * tolerance if math.isfinite(x) else x


def _widen_high(x: float, tolerance: float) -> float:
    return x + abs(x) * tolerance if math.isfinite(x) else x


def decide(
    claims: Sequence[ClaimView],
    config: PolicyConfig = PolicyConfig(),
    valid_at: str | None = None,
) -> FigureDecision:
    """The best figure of one topic's claims (see the module docstring for the rules)."""
    eligible = eligible_claims(claims, valid_at)
    if not eligible:
        return FigureDecision(best=None)
    best = max(eligible, key=lambda c: rank_key(c, config))
    window = [c for c in eligible if window_key(c) == window_key(best)]
    lows = [c.lower if c.lower is not None else c.value for c in window]
    highs = [c.upper if c.upper is not None else c.value for c in window]
    competing = tuple(
        sorted(
            (c for c in window if c is not best and not agree(c, best, config.conflict_tolerance)),
            key=lambda c: c.position,
        )
    )
    conflicts: list[str] = []
    if competing:
        conflicts.append(
            f"{len(competing)} claim(s) for {best.as_of or 'the undated window'} disagree "
            f"with {_figure(best)} by more than {config.conflict_tolerance:.0%}"
        )
    if best.kind == "total" and best.as_of:
        conflicts.extend(_decreases(eligible, best, config))
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
        low=min(lows),
        high=max(highs),
        sources=len({c.source for c in eligible}),
        competing=competing,
        conflicts=tuple(conflicts),
        explanation=explanation,
    )


def _decreases(eligible: Sequence[ClaimView], best: ClaimView, config: PolicyConfig) -> list[str]:
    """A running total that falls: an earlier window's best is above the current best."""
    earlier: dict[str, ClaimView] = {}
    for claim in eligible:
        if claim.as_of and claim.as_of < (best.as_of or "") and claim.kind == "total":
            current = earlier.get(claim.as_of)
            if current is None or rank_key(claim, config) > rank_key(current, config):
                earlier[claim.as_of] = claim
    _, best_high = best.interval
    flags = []
    for as_of, previous in sorted(earlier.items()):
        previous_low, _ = previous.interval
        if _widen_low(previous_low, config.conflict_tolerance) > _widen_high(
            best_high, config.conflict_tolerance
        ):
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
    best = decision.best
    if best is None:
        return None
    return {
        "claim_id": best.claim_id,
        "value": best.value,
        "lower": best.lower,
        "upper": best.upper,
        "qualifier": best.qualifier,
        "unit": best.unit,
        "as_of": best.as_of,
        "low": decision.low,
        "high": decision.high,
        "source": best.attributed_to or best.outlet,
        "conflict": decision.conflict,
    }
