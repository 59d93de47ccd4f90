"""Sample-ratio-mismatch check: chi-square of arm sizes against the design shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SampleRatioCheck:
    """The chi-square p-value of the observed arm sizes and whether it is below the threshold."""

    p_value: float
    flagged: bool


def sample_ratio_check(
    counts: Sequence[int], shares: Sequence[float], threshold: float = SRM_THRESHOLD
) -> SampleRatioCheck:
    """chi^2 = sum (n_i - N s_i)^2 / (N s_i) with len(counts) - 1 df; flagged when p < threshold."""
    observed = np.asarray(counts, dtype=np.float64)
    design = np.asarray(shares, dtype=np.float64)
    if observed.shape != design.shape or observed.size < 2:
        raise ValueError("counts and shares must have the same length, at least 2")
    if np.any(design <= 0.0) or not np.isclose(design.sum(), 1.0):
        raise ValueError("shares must be positive and sum to 1")
    total = observed.sum()
    if total == 0:
        return SampleRatioCheck(p_value=1.0, flagged=False)
    p_value = float(stats.chisquare(observed, total * design).pvalue)
    return SampleRatioCheck(p_value=p_value, flagged=p_value < threshold)
