"""CUPED variance reduction with theta pooled over arms (Deng et al. 2013), from sufficient statistics."""

from __future__ import annotations

from dataclasses import dataclass

from recommender.experiments.sufficient import ArmSummary, SufficientStatistics


@dataclass(frozen=True)
class CupedAdjustment:
    """The pooled coefficient and each arm's covariate-adjusted outcome summary."""

    theta: float
    treatment: ArmSummary
    holdout: ArmSummary


def pooled_theta(treatment: SufficientStatistics, holdout: SufficientStatistics) -> float:
    """theta = cov(x, y) / var(x) over both arms' customers together (0 when x does not vary)."""
    pooled = treatment.merged(holdout)
    variance_x = pooled.variance_x
    return pooled.covariance_xy / variance_x if variance_x > 0.0 else 0.0


def _adjusted(arm: SufficientStatistics, theta: float, pooled_mean_x: float) -> ArmSummary:
    """mean(y) - theta (mean(x) - pooled mean(x)), variance var(y) - 2 theta cov(x, y) + theta^2 var(x)."""
    variance = arm.variance_y - 2.0 * theta * arm.covariance_xy + theta * theta * arm.variance_x
    return ArmSummary(
        n=arm.n,
        mean=arm.mean_y - theta * (arm.mean_x - pooled_mean_x),
        variance=max(variance, 0.0),
    )


def cuped_adjust(treatment: SufficientStatistics, holdout: SufficientStatistics) -> CupedAdjustment:
    """Adjust both arms' outcomes by their pre-period covariate with one pooled theta."""
    theta = pooled_theta(treatment, holdout)
    pooled_mean_x = treatment.merged(holdout).mean_x
    return CupedAdjustment(
        theta=theta,
        treatment=_adjusted(treatment, theta, pooled_mean_x),
        holdout=_adjusted(holdout, theta, pooled_mean_x),
    )
