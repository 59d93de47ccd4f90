"""The RFM value formula and percentile ranks, on small arrays."""

from __future__ import annotations

import math

import numpy as np

from service.treatment.rfm import SECONDS_PER_DAY, Purchases, percentile_ranks, rfm

DAY = SECONDS_PER_DAY


def purchases(*rows: tuple[int, float, float]) -> Purchases:
    """Purchases from (customer, weight, days ago) rows, seen at day 1000."""
    return Purchases(
        customer=np.array([r[0] for r in rows], dtype=np.int64),
        weight=np.array([r[1] for r in rows], dtype=np.float64),
        at=np.array([(1000 - r[2]) * DAY for r in rows], dtype=np.float64),
    )


def test_value_is_spend_halved_every_half_life() -> None:
    figures = rfm(np.array([7, 3, 9]), purchases((3, 10, 0), (3, 10, 30), (7, 40, 60)), 1000 * DAY, 30)
    assert figures.value.tolist() == [40 * 0.25, 10 + 10 * 0.5, 0]
    assert figures.frequency.tolist() == [1, 2, 0]
    assert figures.monetary.tolist() == [40, 20, 0]
    assert figures.recency_days[:2].tolist() == [60, 0] and math.isnan(figures.recency_days[2])


def test_ranking_does_not_depend_on_when_the_run_happens() -> None:
    ids = np.array([1, 2, 3])
    bought = purchases((1, 5, 1), (2, 50, 200), (3, 9, 20), (1, 5, 3))
    early = percentile_ranks(rfm(ids, bought, 1000 * DAY, 90).value)
    late = percentile_ranks(rfm(ids, bought, 1400 * DAY, 90).value)
    assert early.tolist() == late.tolist()


def test_purchases_of_unknown_customers_are_ignored() -> None:
    figures = rfm(np.array([1]), purchases((1, 2, 0), (5, 100, 0)), 1000 * DAY, 90)
    assert figures.value.tolist() == [2] and figures.frequency.tolist() == [1]
    assert rfm(np.zeros(0, np.int64), purchases((5, 1, 0)), 1000 * DAY, 90).value.size == 0


def test_percentile_ranks_share_ties_at_the_lower_rank_and_missing_values_rank_last() -> None:
    ranks = percentile_ranks(np.array([5.0, 1.0, 5.0, math.nan, 9.0]))
    assert ranks.tolist() == [40.0, 20.0, 40.0, 0.0, 80.0]
    assert percentile_ranks(np.zeros(0)).size == 0
