"""Cross-fitted shrinkage S and stated-preference weight lambda of the individual model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.value.prepared import Prepared
from recommender.value.sparse import lookup


@dataclass(frozen=True)
class Shrinkage:
    """Cross-fitted shrinkage S and stated-preference weight lambda."""

    strength: np.ndarray
    stated_weight: np.ndarray
    fold_strength: tuple[float, float]
    fold_stated_weight: tuple[float, float]
    serving_strength: float
    serving_stated_weight: float


def _customer_folds(n_customers: int, seed: int) -> np.ndarray:
    """A random half of the customers in fold 1, the rest in fold 0."""
    fold = np.zeros(n_customers, dtype=np.int64)
    fold[np.random.default_rng(seed).permutation(n_customers)[: n_customers // 2]] = 1
    return fold


def cross_fit(
    data: Prepared, shrinkage_grid: tuple[float, ...], stated_weight_grid: tuple[float, ...], seed: int
) -> Shrinkage:
    """Choose (lambda, S) on each half by held-out log-likelihood and apply it to the other half."""
    strengths = np.asarray(shrinkage_grid, dtype=np.float64)
    stated_weights = np.asarray(stated_weight_grid if data.stated is not None else (0.0,), dtype=np.float64)
    fold = _customer_folds(data.evaluated.size, seed)
    loglik = _grid_loglik(data, strengths, stated_weights, fold).reshape(-1, 2)
    chosen = [int(np.argmax(loglik[:, half])) for half in (0, 1)]
    serving = int(np.argmax(loglik.sum(axis=1)))
    stated_of, strength_of = np.divmod(np.array([*chosen, serving]), strengths.size)
    applied = np.array(chosen)[1 - fold]
    return Shrinkage(
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
    data: Prepared, strengths: np.ndarray, stated_weights: np.ndarray, fold: np.ndarray
) -> np.ndarray:
    """Held-out log-likelihood per (lambda, S, fold), shape (lambdas, strengths, 2)."""
    own = lookup(data.train_evaluated, data.held_rows, data.held_values)
    totals = np.asarray(data.train_evaluated.sum(axis=1)).ravel()[data.held_rows]
    stated_here, stated_totals = np.zeros(own.size), np.zeros(own.size)
    stated = data.stated_evaluated
    if stated is not None:
        stated_here = lookup(stated, data.held_rows, data.held_values)
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
