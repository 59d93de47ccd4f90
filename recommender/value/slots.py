"""Slots: how many values a touchpoint shows at once, and the k at which hit@k can discriminate."""

# Default slots. An attribute with at most 5 values (a format, an octane, a coupon's brand, a
# payment method) is served as one value, the default a touchpoint preselects: its top 3 would be
# most of its values and, with the usual skew, nearly all of its choices. A larger attribute (a
# genre, an author) fills a shelf of `shelf` values (the tenant's k), never more than half of them.
#
# Degenerate comparisons. hit@k(personal) - hit@k(population top k) can only come out positive if
# the population's top k misses choices. When the population's hit@k on held-out events is at least
# MAX_POPULATION_HIT (95%), the comparison says nothing, so hit@k is judged at the largest smaller
# k whose population hit rate stays below it; when even the bestseller alone reaches it, no k can
# discriminate and the score says so (recommender.decision then answers `undetermined`).

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_POPULATION_HIT = 0.95
SMALL_ATTRIBUTE_VALUES = 5


def default_slots(n_values: int, shelf: int = 3) -> int:
    """Slots of an attribute that states none: 1 up to 5 values, else `shelf`, at most half the values."""
    if n_values <= SMALL_ATTRIBUTE_VALUES:
        return 1
    return max(1, min(shelf, n_values // 2))


@dataclass(frozen=True)
class JudgedK:
    """The k hit@k is judged at, why it differs from the slots, and whether it can discriminate."""

    k: int
    reason: str | None
    discriminates: bool


def population_hit_by_k(
    held_values: np.ndarray, held_weight: np.ndarray, shares: np.ndarray, slots: int
) -> np.ndarray:
    """The population top k's hit rate on held-out choices for k = 1..slots (empty if none held out)."""
    total = float(held_weight.sum())
    if total <= 0:
        return np.zeros(0)
    rank = np.empty(shares.size, dtype=np.int64)
    rank[np.argsort(-shares, kind="stable")] = np.arange(shares.size)
    hits = np.bincount(np.minimum(rank[held_values], slots), weights=held_weight, minlength=slots + 1)
    return np.cumsum(hits[:slots]) / total


def judged_k(population_hit: np.ndarray, slots: int, ceiling: float = MAX_POPULATION_HIT) -> JudgedK:
    """The largest k <= slots whose population hit@k is below the ceiling, or 1 with no verdict."""
    if population_hit.size == 0:
        return JudgedK(slots, None, True)
    open_k = np.flatnonzero(population_hit < ceiling)
    if open_k.size == 0:
        return JudgedK(
            1,
            f"the bestseller alone is the next choice in {population_hit[0]:.0%} of held-out events "
            f"({ceiling:.0%} or more), which leaves no room to show that a prediction does better",
            False,
        )
    k = int(open_k[-1]) + 1
    if k == slots:
        return JudgedK(slots, None, True)
    return JudgedK(
        k,
        f"judged at hit@{k} rather than at its {slots} slots, since the bestseller list's top "
        f"{slots} already holds {population_hit[slots - 1]:.0%} of held-out choices",
        True,
    )
