"""An experiment day by day: per-day increments of the sufficient statistics, accumulated and analysed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from recommender.experiments.analysis import (
    AnalysisSettings,
    MetricData,
    MetricResult,
    MustNot,
    analyse_metric,
)
from recommender.experiments.sufficient import SufficientStatistics

# The columns of an increment: n and the sums of y, y^2, x, x^2 and x*y.
SUMS = 6


def metric_data(
    name: str, treatment: SufficientStatistics, holdout: SufficientStatistics, must_not: MustNot | None
) -> MetricData:
    """A metric's arms, with CUPED when the pooled pre-period covariate varies."""
    pooled = treatment.merged(holdout)
    return MetricData(
        name=name,
        treatment=treatment,
        holdout=holdout,
        has_covariate=pooled.n > 1 and pooled.variance_x > 0.0,
        must_not=must_not,
    )


def daily_increments(rows: Iterable[tuple[int, Sequence[float]]], days: int) -> np.ndarray:
    """(days, 6) increments from (day, sums) rows; a day before 0 counts on day 0, after the last on it."""
    increments = np.zeros((days, SUMS), dtype=np.float64)
    found = list(rows)
    if found:
        index = np.clip(np.array([day for day, _ in found], dtype=np.int64), 0, days - 1)
        np.add.at(increments, index, np.array([sums for _, sums in found], dtype=np.float64))
    return increments


def statistics_as_of(increments: np.ndarray, days: Sequence[int]) -> list[SufficientStatistics]:
    """The statistics as of the end of each of these days: the running totals of the increments."""
    totals = np.cumsum(increments, axis=0)[list(days)]
    return [SufficientStatistics(round(float(row[0])), *(float(v) for v in row[1:])) for row in totals]


def thinned_days(days: int, points: int) -> list[int]:
    """At most `points` day indices spread evenly over 0..days-1, always ending with the last day."""
    if points <= 1 or days <= 1:
        return [days - 1]
    return sorted({int(day) for day in np.rint(np.linspace(0, days - 1, min(points, days)))})


def metric_history(
    name: str,
    treatment: np.ndarray,
    holdout: np.ndarray,
    days: Sequence[int],
    must_not: MustNot | None,
    holdout_share: float,
    settings: AnalysisSettings = AnalysisSettings(),
) -> list[MetricResult]:
    """The metric analysed as of the end of each of these days, as the results analyse it now."""
    treated, held = statistics_as_of(treatment, days), statistics_as_of(holdout, days)
    return [
        analyse_metric(metric_data(name, t, h, must_not), holdout_share, settings)
        for t, h in zip(treated, held, strict=True)
    ]
