"""Personalization-value scorer: does tailoring one attribute to the customer pay? (DESIGN.md).

Conventions, where the design leaves a choice:
- Population shares pi are smoothed with `prior_pseudo_events` (default one event) spread evenly
  over the values, so a held-out value nobody chose in training gets a small, finite share.
  Scoring uses training shares; the shares stored for serving come from all events.
- The individual model predicts p_iv = (x_iv + lambda*s_iv + S*pi_v) / (n_i + lambda*|s_i| + S);
  S and lambda are chosen by 2-fold cross-fitting over evaluated customers: each half is
  evaluated with the values that maximize the held-out log-likelihood of the other half.
- The segment model is the segment-level experience: customer i gets m_i, the posterior-weighted
  class distribution of a latent-class mixture (recommender.segments) fitted on training counts.
  It does not add the customer's own counts, so "individual beats segment" asks whether one-to-one
  tailoring adds something beyond serving each customer their segment's list.
- Counts may be weighted; "events" are then weight totals, and pair counting uses them as counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.segments import (
    Mixture,
    MixtureSettings,
    fit_mixture,
    posteriors,
    segment_probability,
    segment_top_k,
)
from recommender.stats import Interval, bootstrap_column_totals, percentile_interval

SCORE_SCHEMA = 1


@dataclass(frozen=True)
class AttributeCounts:
    """Weighted choice counts of one attribute (customers x values), split in time per customer."""

    train: sp.csr_matrix
    test: sp.csr_matrix
    stated: sp.csr_matrix | None = None


def count_matrix(
    customer: np.ndarray, value: np.ndarray, weight: np.ndarray, n_customers: int, n_values: int
) -> sp.csr_matrix:
    """Sum event weights into a customers x values CSR matrix."""
    counts = sp.csr_matrix(
        (np.asarray(weight, dtype=np.float64), (customer, value)), shape=(n_customers, n_values)
    )
    counts.sum_duplicates()
    return counts


def split_latest(
    customer: np.ndarray,
    value: np.ndarray,
    weight: np.ndarray,
    time: np.ndarray,
    n_customers: int,
    n_values: int,
    holdout: int = 1,
) -> AttributeCounts:
    """Hold out each customer's latest `holdout` events (keeping one for training if fewer)."""
    customer = np.asarray(customer, dtype=np.int64)
    order = np.lexsort((np.arange(customer.size), np.asarray(time), customer))
    events_of = np.bincount(customer, minlength=n_customers)
    held_of = np.minimum(holdout, np.maximum(events_of - 1, 0))
    position_from_end = np.cumsum(events_of)[customer[order]] - 1 - np.arange(customer.size)
    is_test = np.zeros(customer.size, dtype=bool)
    is_test[order] = position_from_end < held_of[customer[order]]
    value, weight = np.asarray(value), np.asarray(weight, dtype=np.float64)
    shape = (n_customers, n_values)
    return AttributeCounts(
        train=count_matrix(customer[~is_test], value[~is_test], weight[~is_test], *shape),
        test=count_matrix(customer[is_test], value[is_test], weight[is_test], *shape),
    )


@dataclass(frozen=True)
class ScorerSettings:
    """How an attribute is scored."""

    k: int = 3
    rounds: int = 200
    seed: int = 0
    segments: bool = True
    max_segments: int = 6
    min_customers: int = 30
    min_events_per_customer: float = 3
    serving_top: int = 50
    prior_pseudo_events: float = 1.0
    shrinkage_grid: tuple[float, ...] = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 300, 1e3, 3e3, 1e4)
    stated_weight_grid: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0)
    mixture_columns: int = 201
    mixture_sample: int = 20_000
    mixture_restarts: int = 2

    def mixture_settings(self) -> MixtureSettings:
        """Settings of the segment mixture."""
        return MixtureSettings(
            max_segments=self.max_segments,
            max_columns=self.mixture_columns,
            sample_customers=self.mixture_sample,
            restarts=self.mixture_restarts,
            seed=self.seed,
        )


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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (NaN becomes None, integer keys become [value, share] pairs)."""
        return {name: _to_json(getattr(self, name)) for name in self.__dataclass_fields__} | {
            "schema": SCORE_SCHEMA
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttributeScore:
        """Rebuild a score stored with `to_dict`."""
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


@dataclass(frozen=True)
class _Prepared:
    """Canonical inputs, the evaluated customers and their held-out choices."""

    train: sp.csr_matrix
    full: sp.csr_matrix
    stated: sp.csr_matrix | None
    evaluated: np.ndarray
    train_evaluated: sp.csr_matrix
    stated_evaluated: sp.csr_matrix | None
    held_rows: np.ndarray
    held_values: np.ndarray
    held_weight: np.ndarray
    train_shares: np.ndarray

    @property
    def n_values(self) -> int:
        """Number of values of the attribute."""
        return int(self.full.shape[1])


@dataclass(frozen=True)
class _Shrinkage:
    """Cross-fitted shrinkage S and stated-preference weight lambda."""

    strength: np.ndarray
    stated_weight: np.ndarray
    fold_strength: tuple[float, float]
    fold_stated_weight: tuple[float, float]
    serving_strength: float
    serving_stated_weight: float


@dataclass(frozen=True)
class _ModelOutcome:
    """Per evaluated customer: summed log2(p/pi) and summed weight of held-out hits in the top k."""

    lift: np.ndarray
    hits: np.ndarray


def score_attribute(counts: AttributeCounts, settings: ScorerSettings | None = None) -> AttributeScore:
    """Measure polarization, held-out lift and delta hit@k of one attribute, with 95% CIs."""
    settings = settings or ScorerSettings()
    data = _prepare(counts, settings)
    usage = _usage(data, settings)
    shrinkage = _cross_fit(data, settings)
    counts_evaluated = _evaluated_counts(data, shrinkage.stated_weight)
    individual = _individual_outcome(data, counts_evaluated, shrinkage, settings.k)
    population = _population_outcome(data, settings.k)
    mixture = _fit_segments(data, settings)
    segment = _segment_outcome(data, counts_evaluated, mixture, settings.k) if mixture else None
    intervals = _intervals(data, individual, population, segment, settings)
    return AttributeScore(
        k=settings.k,
        n_values=data.n_values,
        **usage,
        **intervals,
        **_segment_summary(mixture, data.train_shares, settings.serving_top),
        shrinkage=shrinkage.serving_strength if data.evaluated.size else None,
        shrinkage_folds=shrinkage.fold_strength if data.evaluated.size else None,
        stated_weight=shrinkage.serving_stated_weight,
        stated_weight_folds=shrinkage.fold_stated_weight if data.evaluated.size else None,
        population_shares=_top_shares(
            _smoothed_shares(data.full, settings.prior_pseudo_events), settings.serving_top
        ),
    )


def _prepare(counts: AttributeCounts, settings: ScorerSettings) -> _Prepared:
    """Canonical sparse inputs and the held-out choices of evaluated customers."""
    train, test = _canonical(counts.train), _canonical(counts.test)
    stated = None if counts.stated is None else _canonical(counts.stated)
    if train.shape != test.shape or (stated is not None and stated.shape != train.shape):
        raise ValueError("train, test and stated counts must have the same shape")
    stated = stated if stated is not None and stated.nnz else None
    evaluated = np.flatnonzero(np.diff(test.indptr) > 0)
    held = test[evaluated]
    return _Prepared(
        train=train,
        full=_canonical(train + test),
        stated=stated,
        evaluated=evaluated,
        train_evaluated=train[evaluated],
        stated_evaluated=None if stated is None else stated[evaluated],
        held_rows=_row_of_entries(held),
        held_values=held.indices.astype(np.int64),
        held_weight=held.data,
        train_shares=_smoothed_shares(train, settings.prior_pseudo_events),
    )


def _canonical(matrix: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """A float64 CSR copy with sorted, summed indices and no explicit zeros; negatives refused."""
    result = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    result.sum_duplicates()
    result.eliminate_zeros()
    if result.nnz and result.data.min() < 0:
        raise ValueError("counts must be non-negative")
    return result


def _row_of_entries(matrix: sp.csr_matrix) -> np.ndarray:
    """Row index of every stored entry of a CSR matrix."""
    return np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))


def _smoothed_shares(counts: sp.csr_matrix, pseudo_events: float) -> np.ndarray:
    """Value shares with `pseudo_events` spread evenly, so every share is positive."""
    totals = np.asarray(counts.sum(axis=0)).ravel()
    return (totals + pseudo_events / totals.size) / (totals.sum() + pseudo_events)


def _top_shares(shares: np.ndarray, top: int) -> dict[int, float]:
    """The `top` largest shares as value -> share, largest first."""
    order = np.argsort(-shares, kind="stable")[:top]
    return {int(value): float(shares[value]) for value in order}


def _usage(data: _Prepared, settings: ScorerSettings) -> dict[str, Any]:
    """Customers, events and whether they suffice for a verdict."""
    per_customer = np.asarray(data.full.sum(axis=1)).ravel()
    active = per_customer[per_customer > 0]
    median = float(np.median(active)) if active.size else 0.0
    evaluated = int(data.evaluated.size)
    reason = insufficiency(
        active.size, median, evaluated, settings.min_customers, settings.min_events_per_customer
    )
    return {
        "customers": int(active.size),
        "events": float(active.sum()),
        "events_per_customer": median,
        "evaluated_customers": evaluated,
        "held_out_events": float(data.held_weight.sum()),
        "sufficient_data": reason is None,
        "insufficient_reason": reason,
    }


def insufficiency(
    customers: int,
    events_per_customer: float,
    evaluated_customers: int,
    min_customers: int,
    min_events_per_customer: float,
) -> str | None:
    """Why the data are too thin for a verdict, or None when they suffice."""
    if customers < min_customers:
        return f"only {customers} customers chose a value (need {min_customers})"
    if events_per_customer < min_events_per_customer:
        return (
            f"most customers have fewer than {min_events_per_customer:g} events "
            f"(median {events_per_customer:g})"
        )
    if evaluated_customers < min_customers:
        return f"only {evaluated_customers} customers have a held-out event (need {min_customers})"
    return None


def _evaluated_counts(data: _Prepared, stated_weight: np.ndarray) -> sp.csr_matrix:
    """Evaluated customers' training counts plus their weighted stated preferences."""
    if data.stated_evaluated is None:
        return data.train_evaluated
    return _canonical(data.train_evaluated + sp.diags(stated_weight) @ data.stated_evaluated)


def _find(sorted_keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each wanted key would sit in a sorted key array, and whether it is there."""
    if sorted_keys.size == 0:
        return np.zeros(wanted.size, dtype=np.int64), np.zeros(wanted.size, dtype=bool)
    position = np.minimum(np.searchsorted(sorted_keys, wanted), sorted_keys.size - 1)
    return position, sorted_keys[position] == wanted


def _sorted_contains(sorted_keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether each wanted key is in the sorted key array."""
    return _find(sorted_keys, wanted)[1]


def _lookup(matrix: sp.csr_matrix, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Entries of a canonical CSR matrix at (row, value) pairs; zero where nothing is stored."""
    keys = _row_of_entries(matrix) * matrix.shape[1] + matrix.indices
    position, found = _find(keys, rows * matrix.shape[1] + values)
    return np.where(found, matrix.data[position] if matrix.nnz else 0.0, 0.0)


def _customer_folds(n_customers: int, seed: int) -> np.ndarray:
    """A random half of the customers in fold 1, the rest in fold 0."""
    fold = np.zeros(n_customers, dtype=np.int64)
    fold[np.random.default_rng(seed).permutation(n_customers)[: n_customers // 2]] = 1
    return fold


def _cross_fit(data: _Prepared, settings: ScorerSettings) -> _Shrinkage:
    """Choose (lambda, S) on each half by held-out log-likelihood and apply it to the other half."""
    strengths = np.asarray(settings.shrinkage_grid, dtype=np.float64)
    stated_weights = np.asarray(
        settings.stated_weight_grid if data.stated is not None else (0.0,), dtype=np.float64
    )
    fold = _customer_folds(data.evaluated.size, settings.seed)
    loglik = _grid_loglik(data, strengths, stated_weights, fold).reshape(-1, 2)
    chosen = [int(np.argmax(loglik[:, half])) for half in (0, 1)]
    serving = int(np.argmax(loglik.sum(axis=1)))
    stated_of, strength_of = np.divmod(np.array([*chosen, serving]), strengths.size)
    applied = np.array(chosen)[1 - fold]
    return _Shrinkage(
        strength=strengths[applied % strengths.size],
        stated_weight=stated_weights[applied // strengths.size],
        fold_strength=(float(strengths[strength_of[0]]), float(strengths[strength_of[1]])),
        fold_stated_weight=(
            float(stated_weights[stated_of[0]]),
            float(stated_weights[stated_of[1]]),
        ),
        serving_strength=float(strengths[strength_of[2]]),
        serving_stated_weight=float(stated_weights[stated_of[2]]),
    )


def _grid_loglik(
    data: _Prepared, strengths: np.ndarray, stated_weights: np.ndarray, fold: np.ndarray
) -> np.ndarray:
    """Held-out log-likelihood per (lambda, S, fold), shape (lambdas, strengths, 2)."""
    own = _lookup(data.train_evaluated, data.held_rows, data.held_values)
    totals = np.asarray(data.train_evaluated.sum(axis=1)).ravel()[data.held_rows]
    stated_here, stated_totals = np.zeros(own.size), np.zeros(own.size)
    stated = data.stated_evaluated
    if stated is not None:
        stated_here = _lookup(stated, data.held_rows, data.held_values)
        stated_totals = np.asarray(stated.sum(axis=1)).ravel()[data.held_rows]
    prior = data.train_shares[data.held_values]
    fold_weight = np.zeros((own.size, 2))
    fold_weight[np.arange(own.size), fold[data.held_rows]] = data.held_weight
    result = np.empty((stated_weights.size, strengths.size, 2))
    for index, stated_weight in enumerate(stated_weights):
        numerator = own + stated_weight * stated_here + strengths[:, None] * prior
        denominator = totals + stated_weight * stated_totals + strengths[:, None]
        result[index] = np.log(numerator / denominator) @ fold_weight
    return result


def _individual_outcome(
    data: _Prepared, counts: sp.csr_matrix, shrinkage: _Shrinkage, k: int
) -> _ModelOutcome:
    """Lift and hits of p_iv = (x_iv + lambda*s_iv + S*pi_v) / (n_i + lambda*|s_i| + S)."""
    strength = shrinkage.strength[data.held_rows]
    prior = data.train_shares[data.held_values]
    totals = np.asarray(counts.sum(axis=1)).ravel()[data.held_rows]
    probability = (_lookup(counts, data.held_rows, data.held_values) + strength * prior) / (totals + strength)
    hit = _in_personal_top_k(counts, shrinkage.strength, data, k)
    return _outcome(data, np.log2(probability / prior), hit)


def _outcome(data: _Prepared, log_ratio: np.ndarray, hit: np.ndarray) -> _ModelOutcome:
    """Sum held-out log ratios and hits per evaluated customer."""
    rows, weight, n = data.held_rows, data.held_weight, data.evaluated.size
    return _ModelOutcome(
        lift=np.bincount(rows, weights=weight * log_ratio, minlength=n),
        hits=np.bincount(rows, weights=weight * hit, minlength=n),
    )


def _in_personal_top_k(counts: sp.csr_matrix, strength: np.ndarray, data: _Prepared, k: int) -> np.ndarray:
    """Whether each held-out choice is in its customer's personal top k."""
    # Candidates: the customer's own values and the population's top k. Any other value scores
    # S * pi_v, no more than the k most popular, so it cannot enter the top k.
    n_rows, n_values = counts.shape
    popular = _popular(data.train_shares, k)
    own_rows = _row_of_entries(counts)
    extra_rows = np.repeat(np.arange(n_rows, dtype=np.int64), popular.size)
    extra_values = np.tile(popular, n_rows)
    fresh = ~_sorted_contains(own_rows * n_values + counts.indices, extra_rows * n_values + extra_values)
    rows = np.r_[own_rows, extra_rows[fresh]]
    values = np.r_[counts.indices.astype(np.int64), extra_values[fresh]]
    score = np.r_[counts.data, np.zeros(int(fresh.sum()))] + strength[rows] * data.train_shares[values]
    top_keys = _top_k_keys(rows, values, score, k, n_values)
    return _sorted_contains(top_keys, data.held_rows * n_values + data.held_values)


def _popular(shares: np.ndarray, k: int) -> np.ndarray:
    """The k values with the largest shares, largest first."""
    return np.argsort(-shares, kind="stable")[:k].astype(np.int64)


def _top_k_keys(rows: np.ndarray, values: np.ndarray, score: np.ndarray, k: int, n_values: int) -> np.ndarray:
    """Sorted keys row * n_values + value of each row's k highest-scoring candidates."""
    order = np.lexsort((-score, rows))
    ranked_rows = rows[order]
    first_of_row = np.r_[0, np.cumsum(np.bincount(ranked_rows))][ranked_rows]
    keep = order[np.arange(order.size) - first_of_row < k]
    return np.sort(rows[keep] * n_values + values[keep])


def _population_outcome(data: _Prepared, k: int) -> _ModelOutcome:
    """Hits of the population's top k (its lift over itself is zero)."""
    hit = np.isin(data.held_values, _popular(data.train_shares, k))
    return _outcome(data, np.zeros(hit.size), hit)


def _segment_outcome(data: _Prepared, counts: sp.csr_matrix, mixture: Mixture, k: int) -> _ModelOutcome:
    """Lift and hits of the segment-level prediction m_i (the population when G = 1)."""
    if mixture.n_segments == 1:
        return _population_outcome(data, k)
    posterior = posteriors(mixture, counts)
    probability = segment_probability(mixture, posterior, data.held_rows, data.held_values)
    top = segment_top_k(mixture, posterior, k)
    hit = (top[data.held_rows] == data.held_values[:, None]).any(axis=1)
    return _outcome(data, np.log2(probability / data.train_shares[data.held_values]), hit)


def _fit_segments(data: _Prepared, settings: ScorerSettings) -> Mixture | None:
    """The segment mixture on training counts, or None when disabled or nothing is evaluated."""
    if not settings.segments or data.evaluated.size == 0:
        return None
    return fit_mixture(data.train, data.train_shares, settings.mixture_settings())


def _phi_columns(full: sp.csr_matrix) -> np.ndarray:
    """Per customer: same-value pairs, pairs, sum of squared counts, events, events squared."""
    rows, counts = _row_of_entries(full), full.data
    events = np.bincount(rows, weights=counts, minlength=full.shape[0])
    return np.column_stack(
        [
            np.bincount(rows, weights=counts * (counts - 1), minlength=full.shape[0]),
            events * (events - 1),
            np.bincount(rows, weights=counts**2, minlength=full.shape[0]),
            events,
            events**2,
        ]
    )


def _phi(stats: np.ndarray, value_totals: np.ndarray) -> np.ndarray:
    """phi = (S_w - S_b) / (1 - S_b) from summed pair statistics (last axis) and value totals."""
    same_value_pairs, pairs, squares, events, events_squared = np.moveaxis(stats, -1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        within = same_value_pairs / pairs
        between = ((value_totals**2).sum(axis=-1) - squares) / (events**2 - events_squared)
        return np.where(between < 1, (within - between) / (1 - between), 0.0)


_MODEL_COLUMNS = ("held", "lift", "hits", "popular_hits", "segment_lift", "segment_hits")


def _intervals(
    data: _Prepared,
    individual: _ModelOutcome,
    population: _ModelOutcome,
    segment: _ModelOutcome | None,
    settings: ScorerSettings,
) -> dict[str, Any]:
    """Point estimates and joint customer-bootstrap intervals of all the score's metrics."""
    phi_stats = _phi_columns(data.full)
    per_customer = np.zeros((data.full.shape[0], len(_MODEL_COLUMNS)))
    held = np.bincount(data.held_rows, weights=data.held_weight, minlength=data.evaluated.size)
    outcome = segment or population
    per_customer[data.evaluated] = np.column_stack(
        [held, individual.lift, individual.hits, population.hits, outcome.lift, outcome.hits]
    )
    stats = np.hstack([phi_stats, per_customer])
    stat_draws, value_draws = bootstrap_column_totals(
        [stats, data.full], rounds=settings.rounds, seed=settings.seed
    )
    totals = stats.sum(axis=0)
    phi = percentile_interval(
        float(_phi(totals[:5], np.asarray(data.full.sum(axis=0)).ravel())),
        _phi(stat_draws[:, :5], value_draws),
    )
    return {
        "phi": phi if math.isfinite(phi.estimate) else None,
        **_model_intervals(totals[5:], stat_draws[:, 5:], with_segments=segment is not None),
    }


def _model_intervals(totals: np.ndarray, draws: np.ndarray, with_segments: bool) -> dict[str, Any]:
    """Lift and delta hit@k intervals per held-out event, from summed per-customer outcomes."""
    total = dict(zip(_MODEL_COLUMNS, totals, strict=True))
    drawn = dict(zip(_MODEL_COLUMNS, draws.T, strict=True))
    if total["held"] <= 0:
        return {"lift": None, "delta_hit": None, "hit_rate": None, "population_hit_rate": None}

    def per_event(*terms: tuple[float, str]) -> Interval:
        """Interval of a signed sum of columns per held-out event."""
        estimate = sum(sign * total[name] for sign, name in terms) / total["held"]
        with np.errstate(divide="ignore", invalid="ignore"):
            values = sum(sign * drawn[name] for sign, name in terms) / drawn["held"]
        return percentile_interval(float(estimate), np.asarray(values))

    result: dict[str, Any] = {
        "lift": per_event((1, "lift")),
        "delta_hit": per_event((1, "hits"), (-1, "popular_hits")),
        "hit_rate": float(total["hits"] / total["held"]),
        "population_hit_rate": float(total["popular_hits"] / total["held"]),
    }
    if with_segments:
        result |= {
            "segment_lift": per_event((1, "segment_lift")),
            "segment_delta_hit": per_event((1, "segment_hits"), (-1, "popular_hits")),
            "segment_hit_rate": float(total["segment_hits"] / total["held"]),
            "individual_over_segment_lift": per_event((1, "lift"), (-1, "segment_lift")),
            "individual_over_segment_delta_hit": per_event((1, "hits"), (-1, "segment_hits")),
        }
    return result


def _segment_summary(mixture: Mixture | None, shares: np.ndarray, top: int) -> dict[str, Any]:
    """G, each segment's share and favourite values, and how many favour a non-default value."""
    if mixture is None:
        return {"n_segments": None, "segments": (), "segments_off_default": None}
    own = mixture.columns.own_values
    profiles = tuple(
        SegmentProfile(
            share=float(weight),
            top_value=int(own[np.argmax(row)]),
            top_shares={int(own[j]): float(row[j]) for j in np.argsort(-row, kind="stable")[:top]},
        )
        for weight, row in zip(mixture.weights, mixture.own_value_shares(), strict=True)
    )
    default = int(np.argmax(shares))
    off_default = sum(p.top_value != default for p in profiles) if len(profiles) > 1 else 0
    return {"n_segments": len(profiles), "segments": profiles, "segments_off_default": off_default}


def personal_distribution(
    counts: Mapping[int, float],
    stated: Mapping[int, float] | None,
    score: AttributeScore,
    top: int = 3,
) -> list[tuple[int, float]]:
    """The `top` most likely values with p_iv = (x + lambda*s + S*m) / (n + lambda*|s| + S)."""
    # m: the stored population shares; each value outside them gets an equal part of the residual
    # share. Candidates are the customer's own and stated values and the stored top values, which
    # covers the top list whenever `top` is at most the number of stored shares. Without a fitted
    # shrinkage (nothing was evaluated) the population shares are returned.
    stated = stated or {}
    shares = score.population_shares
    residual = _residual_share(score)
    candidates = sorted(set(shares) | set(counts) | set(stated))
    prior = np.array([shares.get(value, residual) for value in candidates])
    if score.shrinkage is None:
        probability = prior
    else:
        own = np.array([counts.get(value, 0.0) for value in candidates])
        said = np.array([stated.get(value, 0.0) for value in candidates])
        weight, strength = score.stated_weight, score.shrinkage
        probability = (own + weight * said + strength * prior) / (
            sum(counts.values()) + weight * sum(stated.values()) + strength
        )
    order = np.lexsort((-prior, -probability))[:top]
    return [(candidates[index], float(probability[index])) for index in order]


def _residual_share(score: AttributeScore) -> float:
    """Share of each value not among the stored population shares."""
    unstored = score.n_values - len(score.population_shares)
    if unstored <= 0:
        return 0.0
    return max(0.0, 1.0 - sum(score.population_shares.values())) / unstored
