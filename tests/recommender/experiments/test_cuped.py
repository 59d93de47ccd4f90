"""CUPED: equals the per-customer adjustment, narrows the CI by sqrt(1 - rho^2), stays unbiased."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender.experiments.cuped import cuped_adjust, pooled_theta
from recommender.experiments.sufficient import SufficientStatistics
from recommender.experiments.welch import welch_test


def correlated(
    rng: np.random.Generator, n: int, correlation: float, shift: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pre-period x and outcome y (plus shift), unit-variance normals with the given correlation."""
    x = rng.normal(5.0, 1.0, n)
    y = 5.0 + correlation * (x - 5.0) + math.sqrt(1.0 - correlation**2) * rng.normal(size=n) + shift
    return y, x


def test_adjustment_equals_per_customer_cuped() -> None:
    """From sums alone: the same means and variances as y - theta (x - pooled mean x) per customer."""
    rng = np.random.default_rng(31)
    y_t, x_t = correlated(rng, 800, 0.6, 0.2)
    y_h, x_h = correlated(rng, 300, 0.6, 0.0)
    x_all, y_all = np.concatenate([x_t, x_h]), np.concatenate([y_t, y_h])
    theta = np.cov(x_all, y_all)[0, 1] / x_all.var(ddof=1)
    adjustment = cuped_adjust(
        SufficientStatistics.from_arrays(y_t, x_t), SufficientStatistics.from_arrays(y_h, x_h)
    )
    assert adjustment.theta == pytest.approx(theta, rel=1e-10)
    for arm, y, x in ((adjustment.treatment, y_t, x_t), (adjustment.holdout, y_h, x_h)):
        adjusted = y - theta * (x - x_all.mean())
        assert arm.mean == pytest.approx(adjusted.mean(), rel=1e-10)
        assert arm.variance == pytest.approx(adjusted.var(ddof=1), rel=1e-9)


def test_constant_covariate_means_no_adjustment() -> None:
    """A covariate that never varies gives theta 0 and the plain summaries."""
    y = np.array([1.0, 3.0, 2.0, 5.0])
    arm = SufficientStatistics.from_arrays(y, np.ones(4))
    assert pooled_theta(arm, arm) == 0.0
    assert cuped_adjust(arm, arm).treatment == arm.summary()


@pytest.mark.slow
def test_correlation_07_narrows_the_interval_to_sqrt_051_and_covers() -> None:
    """500 replicates, rho 0.7: CI width ratio about sqrt(1 - 0.49) = 0.714; adjusted CI covers 93..97%."""
    rng = np.random.default_rng(32)
    ratios, hits = [], 0
    for _ in range(500):
        t = SufficientStatistics.from_arrays(*correlated(rng, 2_000, 0.7, 0.1))
        h = SufficientStatistics.from_arrays(*correlated(rng, 2_000, 0.7, 0.0))
        plain = welch_test(t.summary(), h.summary()).difference
        adjustment = cuped_adjust(t, h)
        adjusted = welch_test(adjustment.treatment, adjustment.holdout).difference
        ratios.append((adjusted.high - adjusted.low) / (plain.high - plain.low))
        hits += adjusted.low <= 0.1 <= adjusted.high
    print(
        "CUPED width ratio mean",
        np.mean(ratios),
        "min",
        np.min(ratios),
        "max",
        np.max(ratios),
        "cover",
        hits / 500,
    )
    assert np.mean(ratios) == pytest.approx(math.sqrt(1 - 0.7**2), abs=0.01)
    assert 0.93 <= hits / 500 <= 0.97
