"""Customer value from purchase events (time-decayed spend) and percentile ranks. Pure numpy.

RFM in one number. Each purchase event e of a customer counts its weight w_e (send the amount spent
as the event's weight; 1 counts purchases) decayed by its age at the run's time t:

    value = sum_e w_e * 2 ** (-(t - t_e) / h)        h = the tenant's recency half-life (90 days)

so value grows with frequency (more terms), monetary value (larger w_e) and recency (younger terms
weigh more). The ranking does not depend on t: moving t scales every value by the same factor.
Recency (days since the last purchase), frequency (count) and monetary value (sum of w_e) are
kept beside it to explain the score.

Percentile rank: 100 * (customers with a strictly lower value) / (customers ranked), so ties share
the lower rank and a block of equal values never jumps into a top tier together. A customer with
no value (the tenant scores a trait the customer lacks) ranks below everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Purchases:
    """Purchase events as parallel arrays: customer id, weight, time in epoch seconds."""

    customer: np.ndarray
    weight: np.ndarray
    at: np.ndarray


@dataclass(frozen=True)
class Rfm:
    """Per customer (aligned with the ids asked for): decayed value, recency, frequency, monetary."""

    value: np.ndarray
    recency_days: np.ndarray
    frequency: np.ndarray
    monetary: np.ndarray


def rfm(customers: np.ndarray, purchases: Purchases, now: float, half_life_days: float) -> Rfm:
    """The RFM figures of each customer id in `customers` (NaN recency when none purchased)."""
    n = customers.size
    if n == 0:
        return Rfm(
            value=np.zeros(0), recency_days=np.zeros(0), frequency=np.zeros(0, np.int64), monetary=np.zeros(0)
        )
    order = np.argsort(customers)
    sorted_ids = customers[order]
    position = np.minimum(np.searchsorted(sorted_ids, purchases.customer), n - 1)
    known = sorted_ids[position] == purchases.customer
    index = order[position[known]]
    age_days = np.maximum(now - purchases.at[known], 0.0) / SECONDS_PER_DAY
    weight = purchases.weight[known]
    value = np.bincount(index, weight * np.exp2(-age_days / half_life_days), minlength=n)
    frequency = np.bincount(index, minlength=n)
    monetary = np.bincount(index, weight, minlength=n)
    recency = np.full(n, np.inf)
    np.minimum.at(recency, index, age_days)
    recency[np.isinf(recency)] = np.nan
    return Rfm(value=value, recency_days=recency, frequency=frequency, monetary=monetary)


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """100 * the share of values strictly lower than each (NaN counts as the lowest)."""
    if values.size == 0:
        return np.zeros(0)
    ranked = np.where(np.isnan(values), -np.inf, values)
    lower = np.searchsorted(np.sort(ranked), ranked, side="left")
    return 100.0 * lower / values.size
