"""Minimum detectable effect at the current size and the customers a target relative effect needs."""

from __future__ import annotations

import math

from recommender.experiments.sequential import DEFAULT_TUNING_N, always_valid_half_width
from recommender.experiments.sufficient import ArmSummary
from recommender.experiments.welch import normal_quantile

_MAX_CUSTOMERS = 10**12


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
    return _detectable_at(total, spread, alpha, _quantiles(alpha, power), always_valid, tuning_n)


def _quantiles(alpha: float, power: float) -> tuple[float, float]:
    """z_{1-a/2} and z_power, looked up once for a search over sizes."""
    return normal_quantile(1.0 - alpha / 2.0), normal_quantile(power)


def _detectable_at(
    total: int,
    spread: float,
    alpha: float,
    quantiles: tuple[float, float],
    always_valid: bool,
    tuning_n: float,
) -> float:
    """The absolute effect detectable with the given power by `total` customers of per-sqrt(N) spread."""
    z_level, z_power = quantiles
    standard_error = spread / math.sqrt(total)
    if always_valid:
        return always_valid_half_width(standard_error, total, alpha, tuning_n) + z_power * standard_error
    return (z_level + z_power) * standard_error


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
    quantiles = _quantiles(alpha, power)
    low, high = 2, 2
    while _detectable_at(high, spread, alpha, quantiles, always_valid, tuning_n) > effect:
        if high >= _MAX_CUSTOMERS:
            return None
        low, high = high, high * 2
    while low < high:
        middle = (low + high) // 2
        if _detectable_at(middle, spread, alpha, quantiles, always_valid, tuning_n) > effect:
            low = middle + 1
        else:
            high = middle
    return high
