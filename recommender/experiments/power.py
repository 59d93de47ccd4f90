"""Minimum detectable effect at the current size and the customers a target relative effect needs."""

from __future__ import annotations

import math

from scipy import stats

from recommender.experiments.sequential import DEFAULT_TUNING_N, always_valid_half_width
from recommender.experiments.sufficient import ArmSummary

_MAX_CUSTOMERS = 10**12


def _z(probability: float) -> float:
    """The standard normal quantile."""
    return float(stats.norm.ppf(probability))


def minimum_detectable_effect(
    treatment: ArmSummary,
    holdout: ArmSummary,
    alpha: float = 0.05,
    power: float = 0.8,
    always_valid: bool = False,
    tuning_n: float = DEFAULT_TUNING_N,
) -> float:
    """Fixed: (z_{1-a/2} + z_power) se; always valid: half_width(se, N) + z_power se (absolute units)."""
    total = treatment.n + holdout.n
    spread = math.sqrt((treatment.variance_of_mean + holdout.variance_of_mean) * total)
    return _detectable_at(total, spread, alpha, power, always_valid, tuning_n)


def _detectable_at(
    total: int, spread: float, alpha: float, power: float, always_valid: bool, tuning_n: float
) -> float:
    """The absolute effect detectable with the given power by `total` customers of per-sqrt(N) spread."""
    standard_error = spread / math.sqrt(total)
    if always_valid:
        return always_valid_half_width(standard_error, total, alpha, tuning_n) + _z(power) * standard_error
    return (_z(1.0 - alpha / 2.0) + _z(power)) * standard_error


def customers_needed(
    treatment: ArmSummary,
    holdout: ArmSummary,
    holdout_share: float,
    relative_effect: float,
    alpha: float = 0.05,
    power: float = 0.8,
    always_valid: bool = False,
    tuning_n: float = DEFAULT_TUNING_N,
) -> int | None:
    """Smallest total N detecting |relative_effect * m_h| with se(N) = sqrt(s_t^2/((1-h)N) + s_h^2/(hN))."""
    effect = abs(relative_effect * holdout.mean)
    if effect == 0.0:
        return None
    spread = math.sqrt(treatment.variance / (1.0 - holdout_share) + holdout.variance / holdout_share)
    if spread == 0.0:
        return 2
    low, high = 2, 2
    while _detectable_at(high, spread, alpha, power, always_valid, tuning_n) > effect:
        if high >= _MAX_CUSTOMERS:
            return None
        low, high = high, high * 2
    while low < high:
        middle = (low + high) // 2
        if _detectable_at(middle, spread, alpha, power, always_valid, tuning_n) > effect:
            low = middle + 1
        else:
            high = middle
    return high
