"""One metric's experiment result: arm sizes, means, CUPED-adjusted uplifts with both intervals, power."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from recommender.experiments.cuped import cuped_adjust
from recommender.experiments.power import customers_needed, minimum_detectable_effect
from recommender.experiments.sequential import DEFAULT_TUNING_N, always_valid_interval
from recommender.experiments.sufficient import ArmSummary, SufficientStatistics
from recommender.experiments.welch import UpliftEstimate, relative_uplift, welch_test

MustNot = Literal["increase", "decrease"]


@dataclass(frozen=True)
class AnalysisSettings:
    """Error rates, the always-valid tuning size and the relative effect the power figures aim at."""

    alpha: float = 0.05
    power: float = 0.8
    tuning_n: float = DEFAULT_TUNING_N
    target_relative_effect: float = 0.05


@dataclass(frozen=True)
class MetricData:
    """One metric's per-arm sufficient statistics, whether x is a real pre-period, and its guardrail sense."""

    name: str
    treatment: SufficientStatistics
    holdout: SufficientStatistics
    has_covariate: bool = False
    must_not: MustNot | None = None


@dataclass(frozen=True)
class UpliftInterval:
    """An uplift with its fixed-horizon (low, high) and always-valid interval."""

    estimate: float
    low: float
    high: float
    always_valid_low: float
    always_valid_high: float


@dataclass(frozen=True)
class PowerFigures:
    """Minimum detectable effects now and total customers the target effect needs (always-valid rule)."""

    minimum_detectable_absolute: float
    minimum_detectable_relative: float
    always_valid_minimum_detectable_absolute: float
    always_valid_minimum_detectable_relative: float
    customers_needed: int | None
    customers_still_needed: int | None


@dataclass(frozen=True)
class MetricResult:
    """Everything reported for one metric (uplifts CUPED-adjusted when a pre-period exists)."""

    name: str
    treatment_n: int
    holdout_n: int
    treatment_mean: float
    holdout_mean: float
    absolute: UpliftInterval
    relative: UpliftInterval
    cuped_theta: float | None
    ci_width_ratio: float | None
    power: PowerFigures | None
    must_not: MustNot | None


_NAN_INTERVAL = UpliftInterval(math.nan, math.nan, math.nan, math.nan, math.nan)


def _interval(uplift: UpliftEstimate, total_n: int, settings: AnalysisSettings) -> UpliftInterval:
    """Attach the always-valid bounds to a fixed-horizon uplift."""
    if math.isnan(uplift.estimate):
        return _NAN_INTERVAL
    always_low, always_high = always_valid_interval(
        uplift.estimate, uplift.standard_error, total_n, settings.alpha, settings.tuning_n
    )
    return UpliftInterval(uplift.estimate, uplift.low, uplift.high, always_low, always_high)


def _relative(absolute: float, holdout_mean: float) -> float:
    """An absolute effect as a share of the holdout mean (NaN when that mean is 0)."""
    return absolute / abs(holdout_mean) if holdout_mean != 0.0 else math.nan


def _power(
    treatment: ArmSummary, holdout: ArmSummary, holdout_share: float, settings: AnalysisSettings
) -> PowerFigures:
    """The power figures from the (adjusted) arm summaries."""
    fixed = minimum_detectable_effect(treatment, holdout, settings.alpha, settings.power)
    always = minimum_detectable_effect(
        treatment, holdout, settings.alpha, settings.power, always_valid=True, tuning_n=settings.tuning_n
    )
    needed = customers_needed(
        treatment,
        holdout,
        holdout_share,
        settings.target_relative_effect,
        settings.alpha,
        settings.power,
        always_valid=True,
        tuning_n=settings.tuning_n,
    )
    still = None if needed is None else max(0, needed - treatment.n - holdout.n)
    return PowerFigures(
        minimum_detectable_absolute=fixed,
        minimum_detectable_relative=_relative(fixed, holdout.mean),
        always_valid_minimum_detectable_absolute=always,
        always_valid_minimum_detectable_relative=_relative(always, holdout.mean),
        customers_needed=needed,
        customers_still_needed=still,
    )


def analyse_metric(
    metric: MetricData, holdout_share: float, settings: AnalysisSettings = AnalysisSettings()
) -> MetricResult:
    """Welch and always-valid uplifts, CUPED-adjusted when the metric has a pre-period covariate."""
    treatment, holdout = metric.treatment, metric.holdout
    if treatment.n < 2 or holdout.n < 2:
        return MetricResult(
            name=metric.name,
            treatment_n=treatment.n,
            holdout_n=holdout.n,
            treatment_mean=treatment.mean_y if treatment.n else math.nan,
            holdout_mean=holdout.mean_y if holdout.n else math.nan,
            absolute=_NAN_INTERVAL,
            relative=_NAN_INTERVAL,
            cuped_theta=None,
            ci_width_ratio=None,
            power=None,
            must_not=metric.must_not,
        )
    plain_t, plain_h = treatment.summary(), holdout.summary()
    used_t, used_h, theta, width_ratio = plain_t, plain_h, None, None
    if metric.has_covariate:
        adjustment = cuped_adjust(treatment, holdout)
        used_t, used_h, theta = adjustment.treatment, adjustment.holdout, adjustment.theta
        plain_se = math.sqrt(plain_t.variance_of_mean + plain_h.variance_of_mean)
        adjusted_se = math.sqrt(used_t.variance_of_mean + used_h.variance_of_mean)
        width_ratio = adjusted_se / plain_se if plain_se > 0.0 else None
    total = treatment.n + holdout.n
    return MetricResult(
        name=metric.name,
        treatment_n=treatment.n,
        holdout_n=holdout.n,
        treatment_mean=plain_t.mean,
        holdout_mean=plain_h.mean,
        absolute=_interval(welch_test(used_t, used_h, 1.0 - settings.alpha).difference, total, settings),
        relative=_interval(relative_uplift(used_t, used_h, 1.0 - settings.alpha), total, settings),
        cuped_theta=theta,
        ci_width_ratio=width_ratio,
        power=_power(used_t, used_h, holdout_share, settings),
        must_not=metric.must_not,
    )
