"""Welch and relative uplift: equal to scipy within 1e-9, and 95% coverage of a known effect."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from recommender.experiments.sufficient import ArmSummary, SufficientStatistics
from recommender.experiments.welch import relative_uplift, welch_test

Sampler = Callable[[np.random.Generator, tuple[int, int], bool], np.ndarray]


@pytest.mark.parametrize(
    ("treatment", "holdout"),
    [
        (np.random.default_rng(3).normal(10.0, 3.0, 900), np.random.default_rng(4).normal(9.5, 5.0, 100)),
        (np.random.default_rng(5).binomial(1, 0.12, 4_000), np.random.default_rng(6).binomial(1, 0.1, 500)),
        (
            np.random.default_rng(7).lognormal(3.0, 1.5, 2_000),
            np.random.default_rng(8).lognormal(3.0, 1.5, 30),
        ),
    ],
)
def test_welch_equals_scipy(treatment: np.ndarray, holdout: np.ndarray) -> None:
    """Estimate, df, t, p and the 95% interval equal scipy.stats.ttest_ind(equal_var=False) within 1e-9."""
    ours = welch_test(
        SufficientStatistics.from_arrays(treatment).summary(),
        SufficientStatistics.from_arrays(holdout).summary(),
    )
    theirs = stats.ttest_ind(treatment, holdout, equal_var=False)
    interval = theirs.confidence_interval(0.95)
    assert ours.difference.estimate == pytest.approx(treatment.mean() - holdout.mean(), rel=1e-9, abs=1e-12)
    assert ours.t_statistic == pytest.approx(theirs.statistic, rel=1e-9)
    assert ours.degrees_of_freedom == pytest.approx(theirs.df, rel=1e-9)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9, abs=1e-15)
    assert ours.difference.low == pytest.approx(interval.low, rel=1e-9)
    assert ours.difference.high == pytest.approx(interval.high, rel=1e-9)


def test_small_arms_and_zero_holdout_mean() -> None:
    """Fewer than 2 customers is refused; a zero holdout mean has no relative uplift."""
    with pytest.raises(ValueError, match="at least 2"):
        welch_test(ArmSummary(1, 1.0, 0.0), ArmSummary(5, 1.0, 1.0))
    assert np.isnan(relative_uplift(ArmSummary(5, 1.0, 1.0), ArmSummary(5, 0.0, 0.0)).estimate)


def conversion(rng: np.random.Generator, shape: tuple[int, int], treated: bool) -> np.ndarray:
    """0/1 purchase: 10% in the holdout, 11% treated."""
    return rng.binomial(1, 0.11 if treated else 0.10, shape).astype(np.float64)


def count(rng: np.random.Generator, shape: tuple[int, int], treated: bool) -> np.ndarray:
    """Purchases per customer: Poisson 2.0 in the holdout, 2.2 treated."""
    return rng.poisson(2.2 if treated else 2.0, shape).astype(np.float64)


def revenue(rng: np.random.Generator, shape: tuple[int, int], treated: bool) -> np.ndarray:
    """Skewed revenue: 30% buy, lognormal(3, 1.2) amounts, treated amounts 10% higher."""
    amounts = rng.lognormal(3.0, 1.2, shape) * (1.1 if treated else 1.0)
    return amounts * (rng.random(shape) < 0.3)


TRUE_MEANS = {
    "conversion": (0.11, 0.10),
    "count": (2.2, 2.0),
    "revenue": (0.3 * 1.1 * np.exp(3.0 + 0.72), 0.3 * np.exp(3.0 + 0.72)),
}


def arm_statistics(y: np.ndarray) -> list[SufficientStatistics]:
    """Per-replicate sufficient statistics of a (replicates, customers) outcome matrix."""
    sums, squares = y.sum(axis=1), np.einsum("ij,ij->i", y, y)
    return [SufficientStatistics(y.shape[1], float(s), float(q)) for s, q in zip(sums, squares, strict=True)]


@pytest.mark.slow
@pytest.mark.parametrize("sampler", [conversion, count, revenue], ids=lambda f: f.__name__)
def test_fixed_horizon_coverage_of_a_known_effect(sampler: Sampler) -> None:
    """2,000 replicates of 2,000 treated and 1,000 held out: absolute and relative 95% CIs cover 93%..97%."""
    rng = np.random.default_rng(11)
    replicates = 2_000
    treated = arm_statistics(sampler(rng, (replicates, 2_000), True))
    held = arm_statistics(sampler(rng, (replicates, 1_000), False))
    true_t, true_h = TRUE_MEANS[sampler.__name__]
    absolute_hits = relative_hits = 0
    for t, h in zip(treated, held, strict=True):
        difference = welch_test(t.summary(), h.summary()).difference
        relative = relative_uplift(t.summary(), h.summary())
        absolute_hits += difference.low <= true_t - true_h <= difference.high
        relative_hits += relative.low <= true_t / true_h - 1.0 <= relative.high
    print(
        sampler.__name__,
        "coverage absolute",
        absolute_hits / replicates,
        "relative",
        relative_hits / replicates,
    )
    assert 0.93 <= absolute_hits / replicates <= 0.97
    assert 0.93 <= relative_hits / replicates <= 0.97
