"""Sample-ratio check: 52/48 of 20,000 on a 50/50 design is flagged, 50/50 is not, false alarms ~0.1%."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.experiments.srm import sample_ratio_check


def test_52_48_is_flagged_and_50_50_is_not() -> None:
    """10,400 / 9,600 on 50/50 gives chi^2 = 32 (p ~ 1.5e-8); 10,000 / 10,000 gives p = 1."""
    skewed = sample_ratio_check([10_400, 9_600], [0.5, 0.5])
    assert skewed.flagged and skewed.p_value < 1e-7
    even = sample_ratio_check([10_000, 10_000], [0.5, 0.5])
    assert not even.flagged and even.p_value == pytest.approx(1.0)


def test_unequal_design_shares() -> None:
    """A 90/10 design checks against 90/10, not 50/50."""
    assert not sample_ratio_check([18_050, 1_950], [0.9, 0.1]).flagged
    assert sample_ratio_check([17_500, 2_500], [0.9, 0.1]).flagged


@pytest.mark.slow
def test_false_alarm_rate_under_the_design() -> None:
    """2,000 correct 90/10 splits of 20,000: flagged about 0.1% of the time (at most 0.5%)."""
    rng = np.random.default_rng(41)
    holdout = rng.binomial(20_000, 0.1, 2_000)
    flagged = sum(sample_ratio_check([20_000 - int(k), int(k)], [0.9, 0.1]).flagged for k in holdout)
    print("SRM false alarms", flagged / 2_000)
    assert flagged / 2_000 <= 0.005


def test_bad_input_and_empty_experiment() -> None:
    """Shares must match the counts and sum to 1; no customers is not a mismatch."""
    with pytest.raises(ValueError):
        sample_ratio_check([1, 2], [0.5, 0.6])
    assert not sample_ratio_check([0, 0], [0.5, 0.5]).flagged
