"""Time splits, offline ranking metrics and the gate choosing one-to-one, segment or popular."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike

from recommender.model import Hyperparameters, fit
from recommender.ranking import ItemFilter, Recommender, ServingPath, build_popularity
from recommender.stats import BOOTSTRAP_ROUNDS, Interval, bootstrap_mean, bootstrap_ratio

TEST_FRACTION = 0.2


@dataclass(frozen=True)
class TimeSplit:
    """Which events are held out (True) and which train (False)."""

    test: np.ndarray

    @property
    def train(self) -> np.ndarray:
        """Mask of training events."""
        return ~self.test


def split_per_customer(
    customer_ids: ArrayLike, times: ArrayLike, test_fraction: float = TEST_FRACTION
) -> TimeSplit:
    """Hold out each customer's latest events: floor(fraction * n), at least one when n >= 2."""
    customers = np.asarray(customer_ids).astype(str)
    moments = np.asarray(times, dtype=float)
    order = np.lexsort((np.arange(customers.size), moments, customers))
    _, starts, counts = np.unique(customers[order], return_index=True, return_counts=True)
    held = np.where(counts >= 2, np.maximum(1, np.floor(test_fraction * counts + 1e-9)), 0)
    rank_in_customer = np.arange(customers.size) - np.repeat(starts, counts)
    test = np.empty(customers.size, dtype=bool)
    test[order] = rank_in_customer >= np.repeat(counts - held, counts)
    return TimeSplit(test=test)


def split_global(times: ArrayLike, test_fraction: float = TEST_FRACTION) -> TimeSplit:
    """Hold out the latest fraction of all events (ties kept in input order)."""
    moments = np.asarray(times, dtype=float)
    order = np.argsort(moments, kind="stable")
    test = np.zeros(moments.size, dtype=bool)
    test[order[moments.size - round(test_fraction * moments.size) :]] = True
    return TimeSplit(test=test)


def items_by_customer(
    customer_ids: ArrayLike, item_ids: ArrayLike, mask: np.ndarray
) -> dict[str, frozenset[str]]:
    """The distinct items of each customer among the masked events."""
    grouped: dict[str, set[str]] = {}
    customers = np.asarray(customer_ids).astype(str)[mask]
    items = np.asarray(item_ids).astype(str)[mask]
    for customer, item in zip(customers.tolist(), items.tolist(), strict=True):
        grouped.setdefault(customer, set()).add(item)
    return {customer: frozenset(chosen) for customer, chosen in grouped.items()}


def held_out_items(
    customer_ids: ArrayLike, item_ids: ArrayLike, split: TimeSplit, exclude_seen: bool = True
) -> dict[str, frozenset[str]]:
    """Each customer's held-out items, minus training items when seen items are never shown."""
    held = items_by_customer(customer_ids, item_ids, split.test)
    if exclude_seen:
        seen = items_by_customer(customer_ids, item_ids, split.train)
        held = {c: items - seen.get(c, frozenset()) for c, items in held.items()}
    return {customer: items for customer, items in held.items() if items}


@dataclass(frozen=True)
class RankingMetrics:
    """Mean precision@k, recall@k and NDCG@k over customers with held-out items."""

    precision: float
    recall: float
    ndcg: float
    customers: int


def ranking_metrics(
    recommended: Mapping[str, Sequence[str]], relevant: Mapping[str, Collection[str]], k: int
) -> RankingMetrics:
    """Binary-relevance precision@k, recall@k and NDCG@k, averaged over customers."""
    precision, recall, ndcg = [], [], []
    for customer, wanted in relevant.items():
        if not wanted:
            continue
        gains = [item in wanted for item in list(recommended.get(customer, ()))[:k]]
        hits = sum(gains)
        ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(wanted), k)))
        precision.append(hits / k)
        recall.append(hits / len(wanted))
        ndcg.append(sum(1.0 / math.log2(r + 2) for r, g in enumerate(gains) if g) / ideal)
    if not precision:
        return RankingMetrics(float("nan"), float("nan"), float("nan"), 0)
    return RankingMetrics(
        float(np.mean(precision)), float(np.mean(recall)), float(np.mean(ndcg)), len(precision)
    )


class Strategy(StrEnum):
    """What the gate lets customers get."""

    ONE_TO_ONE = "one-to-one"
    SEGMENT = "segment"
    POPULAR = "popular"

    @property
    def start(self) -> ServingPath:
        """The first path of the fallback chain this strategy allows."""
        return {
            Strategy.ONE_TO_ONE: ServingPath.PERSONAL,
            Strategy.SEGMENT: ServingPath.SEGMENT,
            Strategy.POPULAR: ServingPath.POPULAR,
        }[self]


@dataclass(frozen=True)
class HeldOutHits:
    """Per evaluated customer: held-out items and how many each path's top-k retrieved."""

    held_out: np.ndarray
    personal: np.ndarray
    segment: np.ndarray
    popular: np.ndarray
    has_segments: bool
    k: int


@dataclass(frozen=True)
class Comparison:
    """One ranking against a baseline on held-out items, and whether it clears the bar."""

    lift_bits: Interval
    delta_hit: Interval
    beats: bool

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly figures (NaN as None)."""
        return {
            "lift_bits": _interval_dict(self.lift_bits),
            "delta_hit": _interval_dict(self.delta_hit),
            "beats": self.beats,
        }


@dataclass(frozen=True)
class GateDecision:
    """The strategy chosen at training time, with the figures and the reason."""

    strategy: Strategy
    reason: str
    customers_evaluated: int
    held_out_items: int
    k: int
    tau: float
    hit_rates: Mapping[str, Interval] = field(default_factory=dict)
    comparisons: Mapping[str, Comparison] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly decision (NaN as None)."""
        return {
            "strategy": self.strategy.value,
            "reason": self.reason,
            "customers_evaluated": self.customers_evaluated,
            "held_out_items": self.held_out_items,
            "k": self.k,
            "tau": self.tau,
            "hit_rates": {name: _interval_dict(i) for name, i in self.hit_rates.items()},
            "comparisons": {name: c.to_dict() for name, c in self.comparisons.items()},
        }


def fitted_lists(
    customers: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    item_features: Mapping[str, Sequence[str]] | None,
    user_features: Mapping[str, Mapping[str, float]] | None,
    segments: Mapping[str, str],
    hyperparameters: Hyperparameters,
) -> Recommender:
    """LightFM and the segment and popular lists fitted on these events, over one item catalog."""
    model = fit(
        customers,
        items,
        values,
        item_features=item_features,
        user_features=user_features,
        hyperparameters=hyperparameters,
    )
    return Recommender(build_popularity(model.items, customers, items, values, segments), model)


def choose_strategy(
    customer_ids: ArrayLike,
    item_ids: ArrayLike,
    times: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    item_features: Mapping[str, Sequence[str]] | None = None,
    user_features: Mapping[str, Mapping[str, float]] | None = None,
    customer_segments: Mapping[str, str] | None = None,
    hyperparameters: Hyperparameters = Hyperparameters(),
    split: TimeSplit | None = None,
    k: int = 10,
    tau: float = 0.01,
    exclude_seen: bool = True,
    min_customers: int = 30,
    min_events_per_customer: int = 3,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
) -> GateDecision:
    """Train on the time split and let personal, segment or popular serve by held-out hits."""
    customers = np.asarray(customer_ids).astype(str)
    items = np.asarray(item_ids).astype(str)
    values = np.ones(customers.size) if weights is None else np.asarray(weights, dtype=float)
    split = split or split_per_customer(customers, times)
    train = split.train
    seen = items_by_customer(customers, items, train)
    relevant = {
        c: wanted for c, wanted in held_out_items(customers, items, split, exclude_seen).items() if c in seen
    }
    _, events_per_customer = np.unique(customers, return_counts=True)
    enough_events = float(np.mean(events_per_customer >= min_events_per_customer))
    if len(relevant) < min_customers or enough_events < 0.5:
        return _too_little_data(relevant, enough_events, min_customers, min_events_per_customer, k, tau)
    segments = customer_segments or {}
    recommender = fitted_lists(
        customers[train], items[train], values[train], item_features, user_features, segments, hyperparameters
    )
    hits = held_out_hits(recommender, relevant, seen if exclude_seen else {}, segments, k)
    return decide(hits, tau=tau, rounds=rounds, seed=seed)


def _too_little_data(
    relevant: Mapping[str, frozenset[str]],
    enough_events: float,
    min_customers: int,
    min_events_per_customer: int,
    k: int,
    tau: float,
) -> GateDecision:
    """Popular, said as such, when the held-out evidence is too thin to judge."""
    return GateDecision(
        strategy=Strategy.POPULAR,
        reason=(
            f"Too little data: {len(relevant)} customers with held-out items (need {min_customers}) "
            f"and {enough_events:.0%} of customers with at least {min_events_per_customer} events "
            "(need 50%)."
        ),
        customers_evaluated=len(relevant),
        held_out_items=sum(len(items) for items in relevant.values()),
        k=k,
        tau=tau,
    )


def held_out_hits(
    recommender: Recommender,
    relevant: Mapping[str, frozenset[str]],
    seen: Mapping[str, frozenset[str]],
    customer_segments: Mapping[str, str],
    k: int,
) -> HeldOutHits:
    """Count held-out items in each path's top-k, exactly as the recommender would serve them."""
    customers = sorted(relevant)
    counts = {path: np.zeros(len(customers)) for path in ServingPath}
    for row, customer in enumerate(customers):
        item_filter = ItemFilter(seen=seen.get(customer, frozenset()))
        for path in ServingPath:
            served = recommender.recommend(
                k,
                customer_id=customer,
                segment=customer_segments.get(customer),
                start=path,
                item_filter=item_filter,
            )
            counts[path][row] = len(relevant[customer].intersection(served.item_ids))
    has_segments = any(customer_segments.get(c) in recommender.popularity.segments for c in customers)
    return HeldOutHits(
        held_out=np.array([len(relevant[c]) for c in customers], dtype=float),
        personal=counts[ServingPath.PERSONAL],
        segment=counts[ServingPath.SEGMENT],
        popular=counts[ServingPath.POPULAR],
        has_segments=has_segments,
        k=k,
    )


def decide(
    hits: HeldOutHits, *, tau: float = 0.01, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0
) -> GateDecision:
    """Apply the bar: one-to-one if personal beats popular and segment, else segment, else popular."""

    def compare(ranking: np.ndarray, baseline: np.ndarray) -> Comparison:
        return compare_rankings(ranking, baseline, hits.held_out, tau, rounds, seed)

    comparisons = {"personal_vs_popular": compare(hits.personal, hits.popular)}
    if hits.has_segments:
        comparisons["personal_vs_segment"] = compare(hits.personal, hits.segment)
        comparisons["segment_vs_popular"] = compare(hits.segment, hits.popular)
    hit_rates = {
        path: bootstrap_ratio(path_hits, hits.held_out, rounds=rounds, seed=seed)
        for path, path_hits in (
            ("personal", hits.personal),
            ("segment", hits.segment),
            ("popular", hits.popular),
        )
    }
    strategy, reason = _strategy(comparisons, tau, hits.k)
    return GateDecision(
        strategy=strategy,
        reason=reason,
        customers_evaluated=int(hits.held_out.size),
        held_out_items=int(hits.held_out.sum()),
        k=hits.k,
        tau=tau,
        hit_rates=hit_rates,
        comparisons=comparisons,
    )


def compare_rankings(
    ranking: np.ndarray,
    baseline: np.ndarray,
    held_out: np.ndarray,
    tau: float,
    rounds: int,
    seed: int,
) -> Comparison:
    """Lift and delta hit@k with paired customer-bootstrap intervals (same seed, same draws)."""
    # Lift is log2 of the ratio of held-out items retrieved (ranking over baseline), in bits:
    # +1 bit means twice the hits. Half a hit, spread over customers, keeps it finite at zero.
    smoothing = 0.5 / held_out.size
    ratio = bootstrap_ratio(ranking + smoothing, baseline + smoothing, rounds=rounds, seed=seed)
    lift = Interval(*(float(np.log2(v)) for v in (ratio.estimate, ratio.low, ratio.high)))
    # Delta hit@k is the difference in hits per held-out item (an opportunity to be relevant).
    delta = bootstrap_mean(ranking - baseline, held_out, rounds=rounds, seed=seed)
    return Comparison(lift_bits=lift, delta_hit=delta, beats=lift.low > 0 and delta.low >= tau)


def _strategy(comparisons: Mapping[str, Comparison], tau: float, k: int) -> tuple[Strategy, str]:
    bar = f"lift CI above 0 bits and delta hit@{k} CI low >= {tau:g}"
    personal = comparisons["personal_vs_popular"]
    versus_segment = comparisons.get("personal_vs_segment")
    segment = comparisons.get("segment_vs_popular")
    if personal.beats and (versus_segment is None or versus_segment.beats):
        rivals = "the popular list" if versus_segment is None else "the popular and segment lists"
        return Strategy.ONE_TO_ONE, (
            f"Each customer's own ranking beats {rivals} on held-out items "
            f"(delta hit@{k} vs popular {personal.delta_hit.estimate:.3f}, {bar})."
        )
    if segment is not None and segment.beats:
        return Strategy.SEGMENT, (
            f"The segment lists beat the popular list (delta hit@{k} "
            f"{segment.delta_hit.estimate:.3f}, {bar}) and the customer's own ranking does not "
            "beat them."
        )
    return Strategy.POPULAR, (
        f"No more personal ranking beats the popular list by the bar ({bar}; personal delta "
        f"hit@{k} {personal.delta_hit.estimate:.3f})."
    )


def _interval_dict(interval: Interval) -> dict[str, float | None]:
    return {name: (v if math.isfinite(v) else None) for name, v in interval.as_dict().items()}
