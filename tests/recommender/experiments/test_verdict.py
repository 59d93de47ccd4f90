"""Verdicts on simulated experiments: pays, harms (goal or guardrail), inconclusive, SRM blocks."""

from __future__ import annotations

import numpy as np

from recommender.experiments.analysis import MetricData
from recommender.experiments.sufficient import SufficientStatistics
from recommender.experiments.verdict import analyse_experiment

HOLDOUT_SHARE = 0.2


def purchases(lift: float, seed: int, holdout_n: int = 4_000) -> MetricData:
    """Purchases per customer, Poisson 2 held out, 2 * lift treated; 16,000 treated."""
    rng = np.random.default_rng(seed)
    treated = SufficientStatistics.from_arrays(rng.poisson(2.0 * lift, 16_000).astype(float))
    held = SufficientStatistics.from_arrays(rng.poisson(2.0, holdout_n).astype(float))
    return MetricData("purchase", treated, held)


def support_calls(lift: float, seed: int) -> MetricData:
    """A guardrail that must not increase: support calls, Poisson 0.5 held out."""
    rng = np.random.default_rng(seed)
    treated = SufficientStatistics.from_arrays(rng.poisson(0.5 * lift, 16_000).astype(float))
    held = SufficientStatistics.from_arrays(rng.poisson(0.5, 4_000).astype(float))
    return MetricData("called_support", treated, held, must_not="increase")


def test_ten_percent_more_purchases_pays() -> None:
    """+10% purchases with a flat guardrail: pays."""
    result = analyse_experiment(purchases(1.1, 71), [support_calls(1.0, 72)], HOLDOUT_SHARE)
    assert result.verdict == "pays", result.reason
    assert result.goal.relative.always_valid_low > 0.0 and not result.srm.flagged


def test_ten_percent_fewer_purchases_harms() -> None:
    """-10% purchases: harms."""
    result = analyse_experiment(purchases(0.9, 73), [], HOLDOUT_SHARE)
    assert result.verdict == "harms" and result.goal.absolute.always_valid_high < 0.0


def test_guardrail_crossing_harms_even_when_the_goal_pays() -> None:
    """+10% purchases but 20% more support calls: harms, naming the guardrail."""
    result = analyse_experiment(purchases(1.1, 74), [support_calls(1.2, 75)], HOLDOUT_SHARE)
    assert result.verdict == "harms" and "called_support" in result.reason


def test_no_effect_is_inconclusive() -> None:
    """A/A: inconclusive."""
    assert (
        analyse_experiment(purchases(1.0, 76), [support_calls(1.0, 77)], HOLDOUT_SHARE).verdict
        == "inconclusive"
    )


def test_sample_ratio_mismatch_blocks_the_verdict() -> None:
    """A clear +10% with a holdout 25% short of its design share: flagged and inconclusive, saying why."""
    result = analyse_experiment(purchases(1.1, 78, holdout_n=3_000), [], HOLDOUT_SHARE)
    assert result.goal.absolute.always_valid_low > 0.0
    assert result.srm.flagged and result.verdict == "inconclusive" and "sample ratio" in result.reason
