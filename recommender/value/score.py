"""The score of one attribute: everything the scorer measured, and its JSON form for storage."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from recommender.stats import Interval

SCORE_SCHEMA = 2


@dataclass(frozen=True)
class SegmentProfile:
    """One segment of the mixture: its share of customers and its most chosen values."""

    share: float
    top_value: int
    top_shares: dict[int, float]


@dataclass(frozen=True)
class AttributeScore:
    """Everything measured about one attribute; recommender.decision derives decisions from it."""

    k: int
    n_values: int
    customers: int
    events: float
    events_per_customer: float
    evaluated_customers: int
    held_out_events: float
    sufficient_data: bool
    insufficient_reason: str | None
    phi: Interval | None
    lift: Interval | None
    delta_hit: Interval | None
    hit_rate: float | None
    population_hit_rate: float | None
    segment_lift: Interval | None = None
    segment_delta_hit: Interval | None = None
    segment_hit_rate: float | None = None
    individual_over_segment_lift: Interval | None = None
    individual_over_segment_delta_hit: Interval | None = None
    n_segments: int | None = None
    segments: tuple[SegmentProfile, ...] = ()
    segments_off_default: int | None = None
    shrinkage: float | None = None
    shrinkage_folds: tuple[float, float] | None = None
    stated_weight: float = 0.0
    stated_weight_folds: tuple[float, float] | None = None
    population_shares: dict[int, float] = field(default_factory=dict)
    slots: int | None = None
    k_reason: str | None = None
    discriminates: bool = True

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (NaN becomes None, integer keys become [value, share] pairs)."""
        return {name: _to_json(getattr(self, name)) for name in self.__dataclass_fields__} | {
            "schema": SCORE_SCHEMA
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttributeScore:
        """Rebuild a score stored with `to_dict` (a schema-1 score has no slots: they were its k)."""
        values = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        for name in _INTERVAL_FIELDS:
            values[name] = _interval_from_json(values.get(name))
        for name in ("shrinkage_folds", "stated_weight_folds"):
            values[name] = None if values.get(name) is None else tuple(values[name])
        values["population_shares"] = _shares_from_json(values.get("population_shares", []))
        values["segments"] = tuple(
            SegmentProfile(s["share"], s["top_value"], _shares_from_json(s["top_shares"]))
            for s in values.get("segments", [])
        )
        return cls(**values)


_INTERVAL_FIELDS = (
    "phi",
    "lift",
    "delta_hit",
    "segment_lift",
    "segment_delta_hit",
    "individual_over_segment_lift",
    "individual_over_segment_delta_hit",
)


def _to_json(item: Any) -> Any:
    """A JSON-ready form of a score field."""
    if isinstance(item, Interval):
        return {key: _finite_or_none(number) for key, number in item.as_dict().items()}
    if isinstance(item, SegmentProfile):
        return {"share": item.share, "top_value": item.top_value, "top_shares": _to_json(item.top_shares)}
    if isinstance(item, dict):
        return [[int(value), float(share)] for value, share in item.items()]
    if isinstance(item, tuple):
        return [_to_json(element) for element in item]
    if isinstance(item, float):
        return _finite_or_none(item)
    return item


def _finite_or_none(number: float) -> float | None:
    """The number, or None when it is NaN or infinite (JSON has neither)."""
    return float(number) if math.isfinite(number) else None


def _interval_from_json(data: Mapping[str, float | None] | None) -> Interval | None:
    """An Interval from its JSON form."""
    if data is None:
        return None
    return Interval(
        *(
            math.nan if data[key] is None else float(data[key])  # type: ignore[arg-type]
            for key in ("estimate", "low", "high")
        )
    )


def _shares_from_json(pairs: list[list[float]]) -> dict[int, float]:
    """Value -> share from [value, share] pairs."""
    return {int(value): float(share) for value, share in pairs}
