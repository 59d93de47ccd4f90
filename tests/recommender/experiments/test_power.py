"""Power: an effect of the MDE is detected ~80% of the time; customers_needed reaches 80% at the target."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from recommender.experiments import power
from recommender.experiments.power import customers_needed, minimum_detectable_effect
from recommender.experiments.sequential import always_valid_interval
from recommender.experiments.sufficient import ArmSummary
from recommender.experiments.welch import welch_test

REPLICATES = 2_000


def detection_rate(n_t: int, n_h: int, effect: float, always_valid: bool, seed: int) -> float:
    """Share of replicates (normal outcomes, sd 2, holdout mean 10) whose lower bound clears 0."""
    rng = np.random.default_rng(seed)
    means_t = rng.normal(10.0 + effect, 2.0 / math.sqrt(n_t), REPLICATES)
    means_h = rng.normal(10.0, 2.0 / math.sqrt(n_h), REPLICATES)
    variances_t = 4.0 * rng.chisquare(n_t - 1, REPLICATES) / (n_t - 1)
    variances_h = 4.0 * rng.chisquare(n_h - 1, REPLICATES) / (n_h - 1)
    detected = 0
    for m_t, m_h, v_t, v_h in zip(means_t, means_h, variances_t, variances_h, strict=True):
        difference = welch_test(ArmSummary(n_t, m_t, v_t), ArmSummary(n_h, m_h, v_h)).difference
        low = difference.low
        if always_valid:
            low = always_valid_interval(difference.estimate, difference.standard_error, n_t + n_h)[0]
        detected += low > 0.0
    return detected / REPLICATES


def test_fixed_mde_and_customers_needed_closed_forms() -> None:
    """MDE = 2.8016 se; N = ((z_.975 + z_.8) c / effect)^2 rounded up, c^2 = s_t^2/(1-h) + s_h^2/h."""
    t, h = ArmSummary(9_000, 10.0, 4.0), ArmSummary(1_000, 10.0, 4.0)
    se = math.sqrt(4.0 / 9_000 + 4.0 / 1_000)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert minimum_detectable_effect(t, h) == pytest.approx(z * se, rel=1e-12)
    expected = math.ceil((z * math.sqrt(4.0 / 0.9 + 4.0 / 0.1) / 0.2) ** 2)
    assert customers_needed(t, h, 0.1, 0.02) == expected
    assert customers_needed(t, h, 0.1, 0.02, always_valid=True) > expected
    assert customers_needed(t, ArmSummary(1_000, 0.0, 0.0), 0.1, 0.05) is None


@pytest.mark.slow
@pytest.mark.parametrize("always_valid", [False, True])
def test_effect_at_the_mde_is_detected_80_percent(always_valid: bool) -> None:
    """Simulating an effect equal to the MDE at 3,000 + 1,000 customers detects it in 77%..83%."""
    t, h = ArmSummary(3_000, 10.0, 4.0), ArmSummary(1_000, 10.0, 4.0)
    effect = minimum_detectable_effect(t, h, always_valid=always_valid)
    rate = detection_rate(3_000, 1_000, effect, always_valid, seed=51)
    print("power at MDE", "always-valid" if always_valid else "fixed", rate)
    assert 0.77 <= rate <= 0.83


@pytest.mark.slow
def test_customers_needed_for_the_target_reach_80_percent() -> None:
    """At the always-valid N for a 2% uplift with a 25% holdout, the always-valid bound clears 0 ~80%."""
    pilot = ArmSummary(500, 10.0, 4.0)
    needed = customers_needed(pilot, pilot, 0.25, 0.02, always_valid=True)
    assert needed is not None
    n_h = round(needed * 0.25)
    rate = detection_rate(needed - n_h, n_h, 0.02 * 10.0, True, seed=53)
    print("always-valid customers needed", needed, "power there", rate)
    assert 0.77 <= rate <= 0.83


def test_a_search_for_the_customers_needed_computes_its_quantiles_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bisection over sizes looks z_{1-a/2} and z_power up once, not at each size it tries."""
    asked: list[float] = []
    quantile = power.normal_quantile
    monkeypatch.setattr(power, "normal_quantile", lambda p: asked.append(p) or quantile(p))
    needed = customers_needed(ArmSummary(9_000, 10.0, 4.0), ArmSummary(1_000, 10.0, 4.0), 0.1, 0.001)
    assert needed is not None and needed > 1_000_000
    assert len(asked) == 2
