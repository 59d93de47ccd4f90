"""The gate over remembering and discovering: repeat, blend, one-to-one, segment, popular."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike

from recommender.evaluation import (
    Comparison,
    GateDecision,
    Strategy,
    TimeSplit,
    compare_rankings,
    decide,
    fitted_lists,
    held_out_hits,
    held_out_items,
    items_by_customer,
)
from recommender.model import Hyperparameters, IdMap
from recommender.ranking import ItemFilter, Recommender, ServingPath
from recommender.repeat import HALF_LIFE_GRID_DAYS, RepeatModel, RepeatSettings, blend_lists
from recommender.stats import BOOTSTRAP_ROUNDS, Interval, bootstrap_mean, bootstrap_ratio

REMEMBERING = ("repeat", "blend")


class Path(StrEnum):
    """What serves a tenant's customers, from remembering to the popular list."""

    REPEAT = "repeat"
    BLEND = "blend"
    ONE_TO_ONE = "one-to-one"
    SEGMENT = "segment"
    POPULAR = "popular"

    @property
    def exclude_seen(self) -> bool:
        """Whether requests hide bought items by default: not when the path remembers them."""
        return self.value not in REMEMBERING


@dataclass(frozen=True)
class CandidateFigures:
    """One candidate list on all held-out choices (repeats included): per-customer means with 95% CIs."""

    precision: Interval
    recall: Interval
    hit_rate: Interval

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly figures (NaN as None)."""
        return {name: _interval_dict(getattr(self, name)) for name in ("precision", "recall", "hit_rate")}


@dataclass(frozen=True)
class PathDecision:
    """The path chosen at training, exclude_seen's default, and every candidate's figures."""

    path: Path
    exclude_seen: bool
    reason: str
    k: int
    tau: float
    half_life_days: float
    customers_evaluated: int
    held_out_items: int
    candidates: Mapping[str, CandidateFigures] = field(default_factory=dict)
    comparisons: Mapping[str, Comparison] = field(default_factory=dict)
    discovery: GateDecision | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly decision (NaN and an infinite half-life as None)."""
        return {
            "path": self.path.value,
            "exclude_seen": self.exclude_seen,
            "reason": self.reason,
            "k": self.k,
            "tau": self.tau,
            "half_life_days": self.half_life_days if math.isfinite(self.half_life_days) else None,
            "customers_evaluated": self.customers_evaluated,
            "held_out_items": self.held_out_items,
            "candidates": {name: figures.to_dict() for name, figures in self.candidates.items()},
            "comparisons": {name: c.to_dict() for name, c in self.comparisons.items()},
            "discovery": None if self.discovery is None else self.discovery.to_dict(),
        }


def split_last_basket(customer_ids: ArrayLike, times: ArrayLike) -> TimeSplit:
    """Hold out each customer's latest basket (events at their latest time) when they have an earlier one."""
    customers = np.unique(np.asarray(customer_ids).astype(str), return_inverse=True)[1]
    moments = np.asarray(times, dtype=float)
    latest = np.full(customers.max(initial=-1) + 1, -np.inf)
    np.maximum.at(latest, customers, moments)
    earliest = np.full(latest.size, np.inf)
    np.minimum.at(earliest, customers, moments)
    test = (moments == latest[customers]) & (earliest[customers] < latest[customers])
    return TimeSplit(test=test)


def tune_half_life(
    user_idx: np.ndarray,
    item_idx: np.ndarray,
    times: np.ndarray,
    weights: np.ndarray,
    n_items: int,
    k: int,
    grid: Sequence[float] = HALF_LIFE_GRID_DAYS,
    max_customers: int = 5_000,
) -> float:
    """The half-life whose repeat lists best retrieve sampled customers' latest training baskets."""
    inner = split_last_basket(user_idx, times)
    if not inner.test.any():
        return RepeatSettings().half_life_days
    train = inner.train
    held: list[set[int]] = [set() for _ in range(int(user_idx.max()) + 1)]
    for user, item in zip(user_idx[inner.test].tolist(), item_idx[inner.test].tolist(), strict=True):
        held[user].add(item)
    users = [user for user, items in enumerate(held) if items]
    users = users[:: max(1, len(users) // max_customers)]
    found = []
    for half_life in grid:
        model = RepeatModel.fit(
            user_idx[train],
            item_idx[train],
            times[train],
            weights[train],
            n_users=len(held),
            n_items=n_items,
            settings=RepeatSettings(half_life_days=half_life),
        )
        found.append(sum(len(held[u].intersection(model.top_k(u, k).tolist())) for u in users))
    return float(grid[int(np.argmax(found))])


def choose_path(
    customer_ids: ArrayLike,
    item_ids: ArrayLike,
    times: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    split: TimeSplit | None = None,
    item_features: Mapping[str, Sequence[str]] | None = None,
    user_features: Mapping[str, Mapping[str, float]] | None = None,
    customer_segments: Mapping[str, str] | None = None,
    hyperparameters: Hyperparameters = Hyperparameters(),
    repeat_settings: RepeatSettings | None = None,
    discovery_slots: int = 2,
    k: int = 10,
    tau: float = 0.01,
    min_customers: int = 30,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
    split_lists: Recommender | None = None,
) -> PathDecision:
    """Remembering serves if it beats every other list on all held-out choices; else today's gate decides.

    `split_lists`, when the caller has them, are the lists fitted on `split.train` with these features
    and hyperparameters (what fitting them here would give), so they are not fitted twice.
    """
    customers = np.asarray(customer_ids).astype(str)
    items = np.asarray(item_ids).astype(str)
    moments = np.asarray(times, dtype=float)
    values = np.ones(customers.size) if weights is None else np.asarray(weights, dtype=float)
    split = split or split_last_basket(customers, moments)
    train = split.train
    seen = items_by_customer(customers, items, train)
    relevant = {
        c: chosen for c, chosen in held_out_items(customers, items, split, False).items() if c in seen
    }
    if len(relevant) < min_customers:
        return _too_little_data(relevant, min_customers, k, tau)
    segments = customer_segments or {}
    if split_lists is None:
        split_lists = fitted_lists(
            customers[train],
            items[train],
            values[train],
            item_features,
            user_features,
            segments,
            hyperparameters,
        )
    recommender, model = split_lists, split_lists.model
    if model is None:
        raise ValueError("the split's lists need their trained model")
    repeat, half_life = _fit_repeat(
        model.users,
        model.items,
        customers[train],
        items[train],
        moments[train],
        values[train],
        k,
        repeat_settings,
    )
    lists = _candidate_lists(recommender, repeat, model.users, relevant, seen, segments, k, discovery_slots)
    order = sorted(relevant)
    held = np.array([len(relevant[c]) for c in order], dtype=float)
    hits = {
        name: np.array([len(relevant[c].intersection(ranked[c])) for c in order], float)
        for name, ranked in lists.items()
    }
    candidates = {name: _figures(found, held, k, rounds, seed) for name, found in hits.items()}
    best_memory = max(REMEMBERING, key=lambda name: candidates[name].hit_rate.estimate)
    rivals = [name for name in hits if name not in REMEMBERING]
    best_rival = max(rivals, key=lambda name: candidates[name].hit_rate.estimate)
    comparisons = {
        f"{name}_vs_{rival}": compare_rankings(hits[name], hits[rival], held, tau, rounds, seed)
        for name in REMEMBERING
        for rival in rivals
    }
    versus = comparisons[f"{best_memory}_vs_{best_rival}"]
    discovery = _discovery_gate(
        recommender, customers, items, split, seen, segments, k, tau, min_customers, rounds, seed
    )
    if versus.beats:
        path = Path(best_memory)
        reason = (
            f"Remembering pays: the {best_memory} list retrieves "
            f"{candidates[best_memory].hit_rate.estimate:.3f} of held-out choices vs "
            f"{candidates[best_rival].hit_rate.estimate:.3f} for the best other list ({best_rival}); "
            f"delta hit@{k} CI low {versus.delta_hit.low:.3f} >= {tau:g}, lift CI above 0 bits."
        )
    else:
        path = Path(discovery.strategy.value)
        reason = (
            f"Remembering does not beat the {best_rival} list by the bar (delta hit@{k} CI low "
            f"{versus.delta_hit.low:.3f}, tau {tau:g}); on new items: {discovery.reason}"
        )
    return PathDecision(
        path=path,
        exclude_seen=path.exclude_seen,
        reason=reason,
        k=k,
        tau=tau,
        half_life_days=half_life,
        customers_evaluated=len(order),
        held_out_items=int(held.sum()),
        candidates=candidates,
        comparisons=comparisons,
        discovery=discovery,
    )


def _fit_repeat(
    users: IdMap,
    items: IdMap,
    customers: np.ndarray,
    chosen: np.ndarray,
    moments: np.ndarray,
    values: np.ndarray,
    k: int,
    settings: RepeatSettings | None,
) -> tuple[RepeatModel, float]:
    """The repeat model on the training events; its half-life, unless given, tuned on their latest baskets."""
    user_idx, item_idx = users.positions(customers), items.positions(chosen)
    if settings is None:
        settings = RepeatSettings(
            half_life_days=tune_half_life(user_idx, item_idx, moments, values, len(items), k)
        )
    model = RepeatModel.fit(
        user_idx, item_idx, moments, values, n_users=len(users), n_items=len(items), settings=settings
    )
    return model, settings.half_life_days


def _candidate_lists(
    recommender: Recommender,
    repeat: RepeatModel,
    users: IdMap,
    relevant: Mapping[str, frozenset[str]],
    seen: Mapping[str, frozenset[str]],
    segments: Mapping[str, str],
    k: int,
    discovery_slots: int,
) -> dict[str, dict[str, tuple[str, ...]]]:
    """Each candidate's top-k for each evaluated customer, as the path would serve it by default."""
    items = recommender.items
    lists: dict[str, dict[str, tuple[str, ...]]] = {name: {} for name in Path}
    for customer in relevant:
        user = users.position(customer)
        hidden = ItemFilter(seen=seen[customer])
        discovery = recommender.recommend(k, customer_id=customer, item_filter=hidden).item_ids
        remembered = items.ids_at(repeat.top_k(user, k).tolist())
        staples = repeat.top_k(user, k, min_times=2).tolist()
        lists[Path.REPEAT][customer] = remembered
        lists[Path.ONE_TO_ONE][customer] = discovery
        lists[Path.BLEND][customer] = items.ids_at(
            blend_lists(staples, items.positions(discovery).tolist(), k, discovery_slots)
        )
        lists[Path.SEGMENT][customer] = recommender.recommend(
            k, segment=segments.get(customer), start=ServingPath.SEGMENT
        ).item_ids
        lists[Path.POPULAR][customer] = recommender.recommend(k, start=ServingPath.POPULAR).item_ids
    return {str(name): found for name, found in lists.items()}


def _discovery_gate(
    recommender: Recommender,
    customers: np.ndarray,
    items: np.ndarray,
    split: TimeSplit,
    seen: Mapping[str, frozenset[str]],
    segments: Mapping[str, str],
    k: int,
    tau: float,
    min_customers: int,
    rounds: int,
    seed: int,
) -> GateDecision:
    """Today's gate: one-to-one vs segment vs popular on held-out new items, bought items hidden."""
    relevant = {c: chosen for c, chosen in held_out_items(customers, items, split).items() if c in seen}
    if len(relevant) < min_customers:
        return GateDecision(
            strategy=Strategy.POPULAR,
            reason=f"Too few customers with new held-out items ({len(relevant)}, need {min_customers}).",
            customers_evaluated=len(relevant),
            held_out_items=sum(len(chosen) for chosen in relevant.values()),
            k=k,
            tau=tau,
        )
    hits = held_out_hits(recommender, relevant, seen, segments, k)
    return decide(hits, tau=tau, rounds=rounds, seed=seed)


def _figures(hits: np.ndarray, held: np.ndarray, k: int, rounds: int, seed: int) -> CandidateFigures:
    """Precision@k and recall@k per customer, and hits per held-out item, with bootstrap intervals."""
    return CandidateFigures(
        precision=bootstrap_mean(hits / k, rounds=rounds, seed=seed),
        recall=bootstrap_mean(hits / held, rounds=rounds, seed=seed),
        hit_rate=bootstrap_ratio(hits, held, rounds=rounds, seed=seed),
    )


def _too_little_data(
    relevant: Mapping[str, frozenset[str]], min_customers: int, k: int, tau: float
) -> PathDecision:
    """Popular, said as such, when too few customers have a held-out basket."""
    return PathDecision(
        path=Path.POPULAR,
        exclude_seen=Path.POPULAR.exclude_seen,
        reason=f"Too little data: {len(relevant)} customers with a held-out basket (need {min_customers}).",
        k=k,
        tau=tau,
        half_life_days=math.nan,
        customers_evaluated=len(relevant),
        held_out_items=sum(len(chosen) for chosen in relevant.values()),
    )


def _interval_dict(interval: Interval) -> dict[str, float | None]:
    return {name: (v if math.isfinite(v) else None) for name, v in interval.as_dict().items()}
