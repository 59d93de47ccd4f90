"""The experiment's verdict, pays / harms / inconclusive, from the goal, the guardrails and the SRM check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from recommender.experiments.analysis import AnalysisSettings, MetricData, MetricResult, analyse_metric
from recommender.experiments.srm import SRM_THRESHOLD, SampleRatioCheck, sample_ratio_check

Verdict = Literal["pays", "harms", "inconclusive"]


@dataclass(frozen=True)
class ExperimentResult:
    """The goal's result, each guardrail's, the sample-ratio check, the verdict and why."""

    goal: MetricResult
    guardrails: tuple[MetricResult, ...]
    srm: SampleRatioCheck
    verdict: Verdict
    reason: str


def guardrail_harmed(result: MetricResult) -> bool:
    """must_not increase: always-valid low > 0; must_not decrease: always-valid high < 0."""
    if result.must_not == "increase":
        return result.absolute.always_valid_low > 0.0
    if result.must_not == "decrease":
        return result.absolute.always_valid_high < 0.0
    return False


def decide(
    goal: MetricResult, guardrails: Sequence[MetricResult], srm: SampleRatioCheck
) -> tuple[Verdict, str]:
    """SRM blocks; harms if the goal's always-valid high < 0 or a guardrail harmed; pays if low > 0."""
    if srm.flagged:
        return "inconclusive", f"sample ratio mismatch (p = {srm.p_value:.2g}) blocks any verdict"
    harmed = [result.name for result in guardrails if guardrail_harmed(result)]
    if harmed:
        return "harms", "guardrail harmed: " + ", ".join(harmed)
    if goal.absolute.always_valid_high < 0.0:
        return "harms", f"{goal.name}: always-valid upper bound below 0"
    if goal.absolute.always_valid_low > 0.0:
        return "pays", f"{goal.name}: always-valid lower bound above 0"
    return "inconclusive", f"{goal.name}: always-valid interval includes 0"


def analyse_experiment(
    goal: MetricData,
    guardrails: Sequence[MetricData],
    holdout_share: float,
    settings: AnalysisSettings = AnalysisSettings(),
) -> ExperimentResult:
    """Analyse every metric, check the goal's arm sizes against the design shares and decide."""
    goal_result = analyse_metric(goal, holdout_share, settings)
    guardrail_results = tuple(analyse_metric(metric, holdout_share, settings) for metric in guardrails)
    srm = sample_ratio_check(
        [goal.treatment.n, goal.holdout.n], [1.0 - holdout_share, holdout_share], SRM_THRESHOLD
    )
    verdict, reason = decide(goal_result, guardrail_results, srm)
    return ExperimentResult(goal_result, guardrail_results, srm, verdict, reason)
