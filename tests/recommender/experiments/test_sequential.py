"""Always-valid intervals: tuned where rho says, and A/A peeked daily for 30 days stays under 5%."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from recommender.experiments.sequential import always_valid_half_width, always_valid_interval, mixture_rho
from recommender.experiments.sufficient import SufficientStatistics
from recommender.experiments.welch import relative_uplift, welch_test

DAYS = 30
PER_DAY = 100
REPLICATES = 1_000


def test_sequence_is_tightest_near_the_tuning_size() -> None:
    """half_width / se is smallest within 10% of tuning_n and always wider than the fixed 1.96."""
    sizes = np.arange(500, 50_000, 10)
    for tuning_n in (2_000, 5_000, 20_000):
        ratios = np.array([always_valid_half_width(1.0, int(n), 0.05, tuning_n) for n in sizes])
        assert abs(sizes[np.argmin(ratios)] / tuning_n - 1.0) < 0.1
        assert ratios.min() > 1.96
    assert mixture_rho(0.05, 5_000) ** 2 == pytest.approx(
        (-2 * np.log(0.05) + np.log(1 - 2 * np.log(0.05))) / 5e3
    )


def test_interval_is_symmetric_and_shrinks() -> None:
    """The interval is centred on the estimate and narrows as customers accrue at a fixed spread."""
    low, high = always_valid_interval(0.3, 0.1, 1_000)
    assert (low + high) / 2 == pytest.approx(0.3)
    widths = [always_valid_half_width(10.0 / np.sqrt(n), n) for n in (1_000, 10_000, 100_000)]
    assert widths[0] > widths[1] > widths[2]


def conversion(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """0/1 purchase at 10%."""
    return (rng.random(shape) < 0.1).astype(np.float64)


def revenue(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Skewed revenue: 30% buy, lognormal(3, 1.2) amounts."""
    return rng.lognormal(3.0, 1.2, shape) * (rng.random(shape) < 0.3)


def daily_statistics(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative sums of y and y^2 after each day, shape (replicates, days)."""
    return np.cumsum(y.sum(axis=2), axis=1), np.cumsum(np.einsum("rdc,rdc->rd", y, y), axis=1)


@pytest.mark.slow
@pytest.mark.parametrize("sampler", [conversion, revenue], ids=lambda f: f.__name__)
def test_aa_daily_looks_always_valid_versus_peeked_fixed_horizon(
    sampler: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray],
) -> None:
    """1,000 A/A replicates, a look a day for 30 days: always valid ever excludes 0 <= 5%; Welch far worse."""
    rng = np.random.default_rng(21)
    shape = (REPLICATES, DAYS, PER_DAY)
    sum_t, square_t = daily_statistics(sampler(rng, shape))
    sum_h, square_h = daily_statistics(sampler(rng, shape))
    always_abs = always_rel = fixed_abs = fixed_rel = 0
    for r in range(REPLICATES):
        flags = np.zeros(4, dtype=bool)
        for d in range(DAYS):
            n = PER_DAY * (d + 1)
            t = SufficientStatistics(n, float(sum_t[r, d]), float(square_t[r, d])).summary()
            h = SufficientStatistics(n, float(sum_h[r, d]), float(square_h[r, d])).summary()
            difference = welch_test(t, h).difference
            relative = relative_uplift(t, h)
            a_low, a_high = always_valid_interval(difference.estimate, difference.standard_error, 2 * n)
            r_low, r_high = always_valid_interval(relative.estimate, relative.standard_error, 2 * n)
            flags |= [
                a_low > 0 or a_high < 0,
                r_low > 0 or r_high < 0,
                difference.low > 0 or difference.high < 0,
                relative.low > 0 or relative.high < 0,
            ]
        always_abs, always_rel, fixed_abs, fixed_rel = np.add(
            [always_abs, always_rel, fixed_abs, fixed_rel], flags
        )
    rates = np.array([always_abs, always_rel, fixed_abs, fixed_rel]) / REPLICATES
    print(
        sampler.__name__,
        "ever excludes 0: always-valid abs/rel",
        rates[:2],
        "peeked Welch abs/rel",
        rates[2:],
    )
    assert rates[0] <= 0.05 and rates[1] <= 0.05
    assert rates[2] >= 0.15 and rates[3] >= 0.15
    assert rates[2] >= 3 * rates[0] and rates[3] >= 3 * rates[1]
