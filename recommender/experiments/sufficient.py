"""Per-arm sufficient statistics of an outcome y and its pre-exposure covariate x."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ArmSummary:
    """An arm's size, mean outcome and per-customer outcome variance (ddof 1)."""

    n: int
    mean: float
    variance: float

    @property
    def variance_of_mean(self) -> float:
        """The squared standard error of the arm's mean."""
        return self.variance / self.n


@dataclass(frozen=True)
class SufficientStatistics:
    """Count and sums of y, y^2, x, x^2 and x*y over one arm's customers (x = 0 without a pre-period)."""

    n: int
    sum_y: float
    sum_y2: float
    sum_x: float = 0.0
    sum_x2: float = 0.0
    sum_xy: float = 0.0

    @classmethod
    def from_arrays(cls, y: np.ndarray, x: np.ndarray | None = None) -> SufficientStatistics:
        """The statistics of per-customer outcomes y and, when given, covariates x."""
        y = np.asarray(y, dtype=np.float64)
        x = np.zeros_like(y) if x is None else np.asarray(x, dtype=np.float64)
        if x.shape != y.shape or y.ndim != 1:
            raise ValueError("y and x must be one-dimensional arrays of the same length")
        return cls(
            n=int(y.size),
            sum_y=float(y.sum()),
            sum_y2=float(y @ y),
            sum_x=float(x.sum()),
            sum_x2=float(x @ x),
            sum_xy=float(x @ y),
        )

    def merged(self, other: SufficientStatistics) -> SufficientStatistics:
        """The statistics of both groups of customers together."""
        return SufficientStatistics(
            n=self.n + other.n,
            sum_y=self.sum_y + other.sum_y,
            sum_y2=self.sum_y2 + other.sum_y2,
            sum_x=self.sum_x + other.sum_x,
            sum_x2=self.sum_x2 + other.sum_x2,
            sum_xy=self.sum_xy + other.sum_xy,
        )

    @property
    def mean_y(self) -> float:
        """Mean outcome."""
        return self.sum_y / self.n

    @property
    def mean_x(self) -> float:
        """Mean covariate."""
        return self.sum_x / self.n

    @property
    def variance_y(self) -> float:
        """Sample variance of the outcome (ddof 1)."""
        return max(self.sum_y2 - self.sum_y * self.sum_y / self.n, 0.0) / (self.n - 1)

    @property
    def variance_x(self) -> float:
        """Sample variance of the covariate (ddof 1)."""
        return max(self.sum_x2 - self.sum_x * self.sum_x / self.n, 0.0) / (self.n - 1)

    @property
    def covariance_xy(self) -> float:
        """Sample covariance of covariate and outcome (ddof 1)."""
        return (self.sum_xy - self.sum_x * self.sum_y / self.n) / (self.n - 1)

    def summary(self) -> ArmSummary:
        """The unadjusted outcome summary."""
        return ArmSummary(n=self.n, mean=self.mean_y, variance=self.variance_y)
