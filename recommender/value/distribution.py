"""Serving from a stored score: a customer's most likely values of one attribute."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from recommender.value.score import AttributeScore


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
