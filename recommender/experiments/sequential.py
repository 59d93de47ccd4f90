"""Always-valid intervals: the asymptotic confidence sequence of Waudby-Smith et al. (as GrowthBook uses)."""

from __future__ import annotations

import math

DEFAULT_TUNING_N = 5_000


def mixture_rho(alpha: float, tuning_n: float) -> float:
    """rho for the sequence tightest at tuning_n customers: rho^2 = (-2 ln a + ln(1 - 2 ln a)) / tuning_n."""
    log_alpha = math.log(alpha)
    return math.sqrt((-2.0 * log_alpha + math.log(1.0 - 2.0 * log_alpha)) / tuning_n)


def always_valid_half_width(
    standard_error: float, total_n: int, alpha: float = 0.05, tuning_n: float = DEFAULT_TUNING_N
) -> float:
    """s sqrt(2 (N rho^2 + 1) / (N^2 rho^2) ln(sqrt(N rho^2 + 1) / alpha)) with s = se sqrt(N)."""
    rho_squared = mixture_rho(alpha, tuning_n) ** 2
    n_rho = total_n * rho_squared
    spread = standard_error * math.sqrt(total_n)
    return spread * math.sqrt(
        2.0 * (n_rho + 1.0) / (total_n * total_n * rho_squared) * math.log(math.sqrt(n_rho + 1.0) / alpha)
    )


def always_valid_interval(
    estimate: float,
    standard_error: float,
    total_n: int,
    alpha: float = 0.05,
    tuning_n: float = DEFAULT_TUNING_N,
) -> tuple[float, float]:
    """The (low, high) interval that holds at every look simultaneously with probability 1 - alpha."""
    half_width = always_valid_half_width(standard_error, total_n, alpha, tuning_n)
    return estimate - half_width, estimate + half_width
