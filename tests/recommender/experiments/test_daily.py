"""Day by day: increments accumulate to each day's statistics, days thin evenly, the band narrows."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from recommender.experiments.analysis import analyse_metric
from recommender.experiments.daily import (
    daily_increments,
    metric_data,
    metric_history,
    statistics_as_of,
    thinned_days,
)
from recommender.experiments.sufficient import SufficientStatistics

DAYS = 30
PER_DAY = 40


def simulated_arm(rng: np.random.Generator, effect: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers exposed PER_DAY a day: exposure day, pre-period spend x, spend y by day since the start."""
    exposed = np.repeat(np.arange(DAYS), PER_DAY)
    habit = rng.gamma(4.0, 25.0, exposed.size)
    spend = np.zeros((exposed.size, DAYS))
    for day in range(DAYS):  # a purchase each day with probability 0.2, at the habit times the effect
        bought = (rng.random(exposed.size) < 0.2) & (exposed <= day)
        spend[bought, day] = habit[bought] * (1.0 + effect) * rng.normal(1.0, 0.1, bought.sum())
    return exposed, habit * rng.normal(1.0, 0.1, exposed.size), spend


def increments_of(exposed: np.ndarray, x: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """What the history query returns for an arm: each day's additions to n, sums of y, y^2, x, x^2, xy."""
    zeros = np.zeros(exposed.size)
    exposures = np.column_stack([np.ones(exposed.size), zeros, zeros, x, x * x, zeros])
    running = np.cumsum(spend, axis=1)
    before = np.hstack([np.zeros((spend.shape[0], 1)), running[:, :-1]])
    customer, day = np.nonzero(spend)
    y, y0, cx = running[customer, day], before[customer, day], x[customer]
    none = np.zeros(customer.size)
    purchases = np.column_stack([none, y - y0, y * y - y0 * y0, none, none, cx * (y - y0)])
    days = np.concatenate([exposed, day]).tolist()
    return daily_increments(zip(days, np.vstack([exposures, purchases]).tolist(), strict=True), DAYS)


def test_each_day_is_the_statistics_of_the_customers_exposed_by_then() -> None:
    rng = np.random.default_rng(5)
    exposed, x, spend = simulated_arm(rng, 0.0)
    increments = increments_of(exposed, x, spend)
    days = [0, 7, 29]
    for day, found in zip(days, statistics_as_of(increments, days), strict=True):
        seen = exposed <= day
        truth = SufficientStatistics.from_arrays(spend[seen, : day + 1].sum(axis=1), x[seen])
        assert found.n == truth.n
        for name in ("sum_y", "sum_y2", "sum_x", "sum_x2", "sum_xy"):
            assert getattr(found, name) == pytest.approx(getattr(truth, name), rel=1e-12)


def test_days_outside_the_range_count_on_the_first_and_last() -> None:
    increments = daily_increments(
        [(-2, [1, 2, 4, 0, 0, 0]), (0, [1, 1, 1, 0, 0, 0]), (9, [0, 3, 9, 0, 0, 0])], 3
    )
    assert increments[:, 0].tolist() == [2.0, 0.0, 0.0] and increments[:, 1].tolist() == [3.0, 0.0, 3.0]
    assert daily_increments([], 2).shape == (2, 6)


def test_days_thin_evenly_and_always_end_on_the_last() -> None:
    assert thinned_days(10, 60) == list(range(10))
    assert thinned_days(100, 5) == [0, 25, 50, 74, 99]
    assert thinned_days(100, 1) == [99] and thinned_days(1, 30) == [0]
    for days in range(1, 80):
        for points in (1, 2, 7, 30, 60):
            shown = thinned_days(days, points)
            assert shown[-1] == days - 1 and len(shown) == min(days, points)
            assert shown == sorted(set(shown))


def test_the_history_is_the_analysis_of_each_day_and_narrows_around_the_truth() -> None:
    """With a 25% uplift: each point is analyse_metric of that day; the band narrows and holds the truth."""
    rng = np.random.default_rng(11)
    treated, held = simulated_arm(rng, 0.25), simulated_arm(rng, 0.0)
    days = thinned_days(DAYS, 10)
    history = metric_history("goal", increments_of(*treated), increments_of(*held), days, None, 0.5)
    last_t = SufficientStatistics.from_arrays(treated[2].sum(axis=1), treated[1])
    last_h = SufficientStatistics.from_arrays(held[2].sum(axis=1), held[1])
    expected = analyse_metric(metric_data("goal", last_t, last_h, None), 0.5)
    assert history[-1].relative.always_valid_low == pytest.approx(
        expected.relative.always_valid_low, rel=1e-9
    )
    assert history[-1].absolute.estimate == pytest.approx(expected.absolute.estimate, rel=1e-9)
    assert expected.cuped_theta is not None
    widths = [h.relative.always_valid_high - h.relative.always_valid_low for h in history[1:]]
    assert all(later < earlier for earlier, later in itertools.pairwise(widths))
    assert all(h.relative.always_valid_low < 0.25 < h.relative.always_valid_high for h in history[1:])
    assert history[-1].relative.always_valid_low > 0.0


@pytest.mark.slow
def test_a_peeked_history_of_aa_tests_rarely_excludes_zero() -> None:
    """A/A, 200 replicates, looked at every day: the always-valid band excludes 0 at any look in <= 5%."""
    rng = np.random.default_rng(17)
    crossed = 0
    for _ in range(200):
        treated, held = simulated_arm(rng, 0.0), simulated_arm(rng, 0.0)
        history = metric_history(
            "goal", increments_of(*treated), increments_of(*held), range(DAYS), None, 0.5
        )
        crossed += any(h.absolute.always_valid_low > 0 or h.absolute.always_valid_high < 0 for h in history)
    assert crossed / 200 <= 0.05
