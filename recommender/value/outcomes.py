"""Held-out outcomes per evaluated customer of the individual, population and segment predictions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.segments import Mixture, posteriors, segment_probability, segment_top_k
from recommender.value.prepared import Prepared
from recommender.value.shrinkage import Shrinkage
from recommender.value.sparse import canonical, lookup, row_of_entries, sorted_contains, top_k_keys


@dataclass(frozen=True)
class ModelOutcome:
    """Per evaluated customer: summed log2(p/pi) and summed weight of held-out hits in the top k."""

    lift: np.ndarray
    hits: np.ndarray


def evaluated_counts(data: Prepared, stated_weight: np.ndarray) -> sp.csr_matrix:
    """Evaluated customers' training counts plus their weighted stated preferences."""
    if data.stated_evaluated is None:
        return data.train_evaluated
    return canonical(data.train_evaluated + sp.diags(stated_weight) @ data.stated_evaluated)


def individual_outcome(data: Prepared, counts: sp.csr_matrix, shrinkage: Shrinkage, k: int) -> ModelOutcome:
    """Lift and hits of p_iv = (x_iv + lambda*s_iv + S*pi_v) / (n_i + lambda*|s_i| + S)."""
    strength = shrinkage.strength[data.held_rows]
    prior = data.train_shares[data.held_values]
    totals = np.asarray(counts.sum(axis=1)).ravel()[data.held_rows]
    probability = (lookup(counts, data.held_rows, data.held_values) + strength * prior) / (totals + strength)
    hit = _in_personal_top_k(counts, shrinkage.strength, data, k)
    return _outcome(data, np.log2(probability / prior), hit)


def _outcome(data: Prepared, log_ratio: np.ndarray, hit: np.ndarray) -> ModelOutcome:
    """Sum held-out log ratios and hits per evaluated customer."""
    rows, weight, n = data.held_rows, data.held_weight, data.evaluated.size
    return ModelOutcome(
        lift=np.bincount(rows, weights=weight * log_ratio, minlength=n),
        hits=np.bincount(rows, weights=weight * hit, minlength=n),
    )


def _in_personal_top_k(counts: sp.csr_matrix, strength: np.ndarray, data: Prepared, k: int) -> np.ndarray:
    """Whether each held-out choice is in its customer's personal top k."""
    # Candidates: the customer's own values and the population's top k. Any other value scores
    # S * pi_v, no more than the k most popular, so it cannot enter the top k.
    n_rows, n_values = counts.shape
    popular = _popular(data.train_shares, k)
    own_rows = row_of_entries(counts)
    extra_rows = np.repeat(np.arange(n_rows, dtype=np.int64), popular.size)
    extra_values = np.tile(popular, n_rows)
    fresh = ~sorted_contains(own_rows * n_values + counts.indices, extra_rows * n_values + extra_values)
    rows = np.r_[own_rows, extra_rows[fresh]]
    values = np.r_[counts.indices.astype(np.int64), extra_values[fresh]]
    score = np.r_[counts.data, np.zeros(int(fresh.sum()))] + strength[rows] * data.train_shares[values]
    top_keys = top_k_keys(rows, values, score, k, n_values)
    return sorted_contains(top_keys, data.held_rows * n_values + data.held_values)


def _popular(shares: np.ndarray, k: int) -> np.ndarray:
    """The k values with the largest shares, largest first."""
    return np.argsort(-shares, kind="stable")[:k].astype(np.int64)


def population_outcome(data: Prepared, k: int) -> ModelOutcome:
    """Hits of the population's top k (its lift over itself is zero)."""
    hit = np.isin(data.held_values, _popular(data.train_shares, k))
    return _outcome(data, np.zeros(hit.size), hit)


def segment_outcome(data: Prepared, counts: sp.csr_matrix, mixture: Mixture, k: int) -> ModelOutcome:
    """Lift and hits of the segment-level prediction m_i (the population when G = 1)."""
    if mixture.n_segments == 1:
        return population_outcome(data, k)
    posterior = posteriors(mixture, counts)
    probability = segment_probability(mixture, posterior, data.held_rows, data.held_values)
    top = segment_top_k(mixture, posterior, k)
    hit = (top[data.held_rows] == data.held_values[:, None]).any(axis=1)
    return _outcome(data, np.log2(probability / data.train_shares[data.held_values]), hit)
