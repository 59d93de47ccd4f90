"""Per-metric results: uplifts from Welch and the confidence sequence, CUPED only with a pre-period."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender.experiments.analysis import MetricData, analyse_metric
from recommender.experiments.cuped import cuped_adjust
from recommender.experiments.sequential import always_valid_interval
from recommender.experiments.sufficient import SufficientStatistics
from recommender.experiments.welch import relative_uplift, welch_test


def metric(has_covariate: bool, seed: int = 61) -> MetricData:
    """Revenue-like outcome with a correlated pre-period, 4,500 treated (+5%) and 500 held out."""
    rng = np.random.default_rng(seed)
    arms = []
    for n, lift in ((4_500, 1.05), (500, 1.0)):
        x = rng.gamma(2.0, 10.0, n)
        arms.append(SufficientStatistics.from_arrays(lift * (0.8 * x + rng.gamma(2.0, 5.0, n)), x))
    return MetricData("revenue", arms[0], arms[1], has_covariate=has_covariate)


def test_plain_result_is_welch_plus_the_sequence() -> None:
    """Without a pre-period: plain means, Welch bounds and always-valid bounds on the same estimate."""
    data = metric(has_covariate=False)
    result = analyse_metric(data, holdout_share=0.1)
    t, h = data.treatment.summary(), data.holdout.summary()
    difference = welch_test(t, h).difference
    relative = relative_uplift(t, h)
    assert (result.treatment_n, result.holdout_n) == (4_500, 500)
    assert (result.absolute.estimate, result.absolute.low, result.absolute.high) == (
        difference.estimate,
        difference.low,
        difference.high,
    )
    assert result.relative.estimate == pytest.approx(t.mean / h.mean - 1.0)
    assert (result.relative.always_valid_low, result.relative.always_valid_high) == always_valid_interval(
        relative.estimate, relative.standard_error, 5_000
    )
    assert result.absolute.always_valid_low < result.absolute.low < result.absolute.high
    assert result.absolute.high < result.absolute.always_valid_high
    assert result.cuped_theta is None and result.ci_width_ratio is None
    assert result.power is not None and result.power.customers_still_needed is not None


def test_cuped_result_reports_the_narrowing() -> None:
    """With a pre-period: adjusted uplift, theta, and the width ratio of adjusted to plain Welch intervals."""
    plain = analyse_metric(metric(has_covariate=False), 0.1)
    data = metric(has_covariate=True)
    adjusted = analyse_metric(data, 0.1)
    adjustment = cuped_adjust(data.treatment, data.holdout)
    assert adjusted.cuped_theta == adjustment.theta
    assert adjusted.absolute.estimate == pytest.approx(adjustment.treatment.mean - adjustment.holdout.mean)
    assert adjusted.ci_width_ratio is not None and adjusted.ci_width_ratio < 0.8
    measured = (adjusted.absolute.high - adjusted.absolute.low) / (plain.absolute.high - plain.absolute.low)
    assert adjusted.ci_width_ratio == pytest.approx(measured, rel=1e-2)
    assert adjusted.treatment_mean == plain.treatment_mean


def test_too_few_customers_gives_no_intervals() -> None:
    """An arm with one customer: sizes and means, NaN intervals, no power figures."""
    one = SufficientStatistics.from_arrays(np.array([3.0]))
    two = SufficientStatistics.from_arrays(np.array([1.0, 2.0]))
    result = analyse_metric(MetricData("m", one, two), 0.5)
    assert (result.treatment_n, result.treatment_mean) == (1, 3.0)
    assert math.isnan(result.absolute.always_valid_low) and result.power is None
