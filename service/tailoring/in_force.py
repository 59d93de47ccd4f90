"""Decisions in force: each attribute's newest result judged with today's thresholds, cached per process."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any, Generic, TypeVar

from sqlmodel import Session

from recommender.decision import Decision, Thresholds, decide
from recommender.stats import Interval
from recommender.value.score import AttributeScore
from service.tailoring import repository
from service.tailoring.models import AttributeResult
from service.tailoring.schemas import Bounds, DecisionPublic, SegmentPublic, ThresholdsPublic
from service.tailoring.thresholds import or_defaults, thresholds_for

V = TypeVar("V")
ResultKey = tuple[int, str]


@dataclass(frozen=True)
class ParsedResult:
    """A stored result turned back into the scorer's types, with its value labels indexed."""

    attribute: str
    run_id: int
    computed_at: datetime
    score: AttributeScore
    labels: list[str]
    index: dict[str, int]


Judged = tuple[DecisionPublic, Decision, ParsedResult]


class _Lru(Generic[V]):
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The cached value, or a new one made and kept."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def get(self, key: Hashable) -> V | None:
        """The cached value, or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value


_results: _Lru[ParsedResult] = _Lru(512)
_judged: _Lru[Judged] = _Lru(4096)


def _key(result_id: int, computed_at: datetime) -> ResultKey:
    """A result's identity; the timestamp keeps a reset database from aliasing ids."""
    return (result_id, computed_at.isoformat())


def parse(row: AttributeResult) -> ParsedResult:
    """A stored result row as the scorer's types."""
    return ParsedResult(
        attribute=row.attribute,
        run_id=row.run_id,
        computed_at=row.computed_at,
        score=AttributeScore.from_dict(row.score),
        labels=row.value_labels,
        index={label: i for i, label in enumerate(row.value_labels)},
    )


def current_decisions(session: Session, tenant_id: int, attribute: str | None = None) -> list[Judged]:
    """Every defined attribute's newest result judged now; result blobs are read only when not cached."""
    stored, heads = repository.result_heads(session, tenant_id, attribute)
    settings = or_defaults(stored, tenant_id)
    parsed_by_key = {_key(result_id, at): _results.get(_key(result_id, at)) for _, result_id, at in heads}
    missing = [result_id for _, result_id, at in heads if parsed_by_key[_key(result_id, at)] is None]
    for row in repository.results_by_id(session, missing):
        key = _key(row.id or 0, row.computed_at)
        parsed_by_key[key] = _results.get_or_make(key, lambda row=row: parse(row))  # type: ignore[misc]
    judged = []
    for attribute_row, result_id, computed_at in heads:
        key = _key(result_id, computed_at)
        parsed = parsed_by_key[key]
        assert parsed is not None
        thresholds = thresholds_for(settings, attribute_row)
        judged.append(_judged.get_or_make((key, thresholds), lambda p=parsed, t=thresholds: judge(p, t)))  # type: ignore[misc]
    return judged


def _bounds(interval: Interval | None) -> Bounds | None:
    """An Interval as a response model."""
    return (
        None if interval is None else Bounds(estimate=interval.estimate, low=interval.low, high=interval.high)
    )


def _labelled(shares: dict[int, float], labels: list[str], top: int = 10) -> dict[str, float]:
    """The largest shares keyed by value label."""
    best = sorted(shares.items(), key=lambda item: -item[1])[:top]
    return {labels[i]: round(share, 6) for i, share in best}


def judge(parsed: ParsedResult, thresholds: Thresholds) -> Judged:
    """A parsed result judged against thresholds, as the API shows it."""
    score = parsed.score
    decision = decide(score, thresholds, attribute=parsed.attribute)
    segments = [
        SegmentPublic(
            share=s.share,
            top_value=parsed.labels[s.top_value],
            top_values=_labelled(s.top_shares, parsed.labels, 5),
        )
        for s in score.segments
    ]
    public = DecisionPublic(
        attribute=parsed.attribute,
        decision=decision.decision,
        level=decision.level,
        explanation=decision.explanation,
        override=decision.override,
        phi=_bounds(score.phi),
        lift=_bounds(score.lift),
        delta_hit=_bounds(score.delta_hit),
        value=_bounds(decision.value),
        segment_lift=_bounds(score.segment_lift),
        segment_delta_hit=_bounds(score.segment_delta_hit),
        individual_over_segment_lift=_bounds(score.individual_over_segment_lift),
        n_segments=score.n_segments,
        segments=segments,
        k=score.k,
        slots=score.slots,
        k_reason=score.k_reason,
        customers=score.customers,
        events=score.events,
        evaluated_customers=score.evaluated_customers,
        thresholds=ThresholdsPublic(**_fields(thresholds)),
        population_top=_labelled(score.population_shares, parsed.labels),
        computed_at=parsed.computed_at,
        run_id=parsed.run_id,
    )
    return public, decision, parsed


def _fields(thresholds: Thresholds) -> dict[str, Any]:
    """A thresholds dataclass as keyword arguments."""
    return dict(thresholds.__dict__)
