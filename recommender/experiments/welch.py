"""Fixed-horizon Welch interval for the difference of arm means and a delta-method relative uplift."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from scipy import stats

from recommender.experiments.sufficient import ArmSummary


@dataclass(frozen=True)
class UpliftEstimate:
    """An uplift estimate, its standard error and a two-sided fixed-horizon interval."""

    estimate: float
    standard_error: float
    low: float
    high: float


@dataclass(frozen=True)
class WelchTest:
    """Welch's unequal-variance t test of treatment minus holdout."""

    difference: UpliftEstimate
    degrees_of_freedom: float
    t_statistic: float
    p_value: float


@functools.cache
def normal_quantile(probability: float) -> float:
    """The standard normal quantile, kept per probability (scipy's ppf costs ~50 us a call)."""
    return float(stats.norm.ppf(probability))


def _require_two(treatment: ArmSummary, holdout: ArmSummary) -> None:
    """Refuse arms too small to have a sample variance."""
    if treatment.n < 2 or holdout.n < 2:
        raise ValueError("each arm needs at least 2 customers")


def welch_test(treatment: ArmSummary, holdout: ArmSummary, level: float = 0.95) -> WelchTest:
    """Welch: se^2 = s_t^2/n_t + s_h^2/n_h, Welch-Satterthwaite df, interval d +- t_{df} se."""
    _require_two(treatment, holdout)
    v_t, v_h = treatment.variance_of_mean, holdout.variance_of_mean
    variance = v_t + v_h
    estimate = treatment.mean - holdout.mean
    standard_error = math.sqrt(variance)
    if standard_error == 0.0:
        interval = UpliftEstimate(estimate, 0.0, estimate, estimate)
        return WelchTest(interval, float(treatment.n + holdout.n - 2), math.nan, math.nan)
    df = variance * variance / (v_t * v_t / (treatment.n - 1) + v_h * v_h / (holdout.n - 1))
    quantile = float(stats.t.ppf(0.5 + level / 2.0, df))
    t_statistic = estimate / standard_error
    return WelchTest(
        difference=UpliftEstimate(
            estimate=estimate,
            standard_error=standard_error,
            low=estimate - quantile * standard_error,
            high=estimate + quantile * standard_error,
        ),
        degrees_of_freedom=df,
        t_statistic=t_statistic,
        p_value=float(2.0 * stats.t.sf(abs(t_statistic), df)),
    )


def relative_uplift(treatment: ArmSummary, holdout: ArmSummary, level: float = 0.95) -> UpliftEstimate:
    """r = m_t/m_h - 1, se = sqrt(v_t + (m_t/m_h)^2 v_h) / |m_h| (delta method), r +- z se; NaN if m_h = 0."""
    _require_two(treatment, holdout)
    if holdout.mean == 0.0:
        return UpliftEstimate(math.nan, math.nan, math.nan, math.nan)
    ratio = treatment.mean / holdout.mean
    standard_error = math.sqrt(treatment.variance_of_mean + ratio * ratio * holdout.variance_of_mean) / abs(
        holdout.mean
    )
    quantile = normal_quantile(0.5 + level / 2.0)
    return UpliftEstimate(
        estimate=ratio - 1.0,
        standard_error=standard_error,
        low=ratio - 1.0 - quantile * standard_error,
        high=ratio - 1.0 + quantile * standard_error,
    )
