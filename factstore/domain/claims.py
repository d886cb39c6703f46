"""The `Claim` value object: one numeric figure stated in one article. Pure data.

A claim says "this fragment of this text states that <measure> <subject> at <place> was <value>,
according to <attributed_to>, as of <as_of>". The quantity is an interval (`lower`, `upper`)
around `value`, qualified by `qualifier`; a bound is None when the text leaves it open or only
approximate. Offsets index into the original text the extractor was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, cast

ClaimKind = Literal["total", "incident", "current"]
CLAIM_KINDS: tuple[ClaimKind, ...] = ("total", "incident", "current")


@dataclass(frozen=True, slots=True)
class Claim:
    quote: str
    start: int
    end: int
    sentence: str
    value: float | int
    lower: float | None
    upper: float | None
    qualifier: str
    unit: str
    stated_unit: str | None
    measure: str
    subject: str
    place: str | None
    attributed_to: str | None
    kind: ClaimKind
    as_of: str | None
    as_of_inferred: bool
    valid_from: str | None
    topic: str
    rule: str
    extractor_version: str

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad claim span {self.start}..{self.end}")
        if self.kind not in CLAIM_KINDS:
            raise ValueError(f"unknown claim kind {self.kind!r}")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError(f"lower bound {self.lower} above upper bound {self.upper}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: only str, int, float, bool and None values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Claim:
        """Inverse of `to_dict`; unknown keys are ignored so older readers accept newer events."""
        names = {f.name for f in fields(cls)}
        values = {name: data[name] for name in names if name in data}
        missing = names - values.keys()
        if missing:
            raise ValueError(f"claim is missing {sorted(missing)}")
        values["kind"] = cast(ClaimKind, values["kind"])
        return cls(**values)
