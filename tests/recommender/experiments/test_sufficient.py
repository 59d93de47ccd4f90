"""Sufficient statistics: moments equal numpy's, merging equals concatenating."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.experiments.sufficient import SufficientStatistics


def test_moments_match_numpy() -> None:
    """Means, variances and covariance from sums equal the two-pass numpy figures."""
    rng = np.random.default_rng(1)
    x = rng.gamma(2.0, 10.0, size=5_000)
    y = 0.5 * x + rng.normal(3.0, 4.0, size=5_000)
    statistics = SufficientStatistics.from_arrays(y, x)
    assert statistics.n == 5_000
    assert statistics.mean_y == pytest.approx(y.mean(), rel=1e-12)
    assert statistics.mean_x == pytest.approx(x.mean(), rel=1e-12)
    assert statistics.variance_y == pytest.approx(y.var(ddof=1), rel=1e-10)
    assert statistics.variance_x == pytest.approx(x.var(ddof=1), rel=1e-10)
    assert statistics.covariance_xy == pytest.approx(np.cov(x, y)[0, 1], rel=1e-10)
    summary = statistics.summary()
    assert (summary.n, summary.mean) == (5_000, statistics.mean_y)
    assert summary.variance_of_mean == pytest.approx(y.var(ddof=1) / 5_000, rel=1e-10)


def test_merged_equals_concatenated() -> None:
    """Merging two arms' statistics equals the statistics of all their customers."""
    rng = np.random.default_rng(2)
    y1, x1, y2, x2 = (rng.normal(size=n) for n in (300, 300, 200, 200))
    merged = SufficientStatistics.from_arrays(y1, x1).merged(SufficientStatistics.from_arrays(y2, x2))
    together = SufficientStatistics.from_arrays(np.concatenate([y1, y2]), np.concatenate([x1, x2]))
    assert merged.n == together.n
    for name in ("sum_y", "sum_y2", "sum_x", "sum_x2", "sum_xy"):
        assert getattr(merged, name) == pytest.approx(getattr(together, name), rel=1e-12, abs=1e-12)


def test_without_covariate_x_is_zero() -> None:
    """No pre-period: x sums are 0."""
    statistics = SufficientStatistics.from_arrays(np.array([1.0, 2.0, 4.0]))
    assert (statistics.sum_x, statistics.sum_x2, statistics.sum_xy) == (0.0, 0.0, 0.0)
    assert statistics.variance_y == pytest.approx(np.var([1.0, 2.0, 4.0], ddof=1))
