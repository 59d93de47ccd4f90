"""An experiment's results: per-arm sums from SQL, the pure analysis, the verdict, and acting on it."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlmodel import Session

from recommender.experiments import daily
from recommender.experiments.analysis import AnalysisSettings, MetricData, MetricResult, UpliftInterval
from recommender.experiments.sufficient import SufficientStatistics
from recommender.experiments.verdict import ExperimentResult, analyse_experiment
from service.audit import service as audit
from service.auth import Caller
from service.catalog import repository as catalog
from service.db import utcnow
from service.errors import NotFound
from service.experiments import registry, repository, statistics_repository
from service.experiments.models import RUNNING, STOPPED, Experiment
from service.experiments.service import require, scope_key
from service.holdouts import current
from service.tailoring.service import get_decision
from service.treatment import repository as treatment

SETTINGS = AnalysisSettings()


def finite(value: float | None) -> float | None:
    """A float for JSON: NaN and infinities become null."""
    return None if value is None or not math.isfinite(value) else value


def _statistics(
    found: dict[str, tuple[int, float, float, float, float, float]], arm: str
) -> SufficientStatistics:
    """An arm's sums, or an empty arm."""
    return SufficientStatistics(*found.get(arm, (0, 0.0, 0.0, 0.0, 0.0, 0.0)))


def metric_data(session: Session, experiment: Experiment, metric: dict[str, Any], name: str) -> MetricData:
    """A metric's per-arm sufficient statistics, aggregated in the database."""
    found = statistics_repository.arm_statistics(
        session,
        experiment.tenant_id,
        experiment.id or 0,
        metric["event_type"],
        metric["measure"],
        int(metric["window_days"]),
    )
    return daily.metric_data(
        name, _statistics(found, "treatment"), _statistics(found, "holdout"), metric.get("must_not")
    )


def interval_public(interval: UpliftInterval) -> dict[str, float | None]:
    """An uplift as the API shows it."""
    return {
        "estimate": finite(interval.estimate),
        "low": finite(interval.low),
        "high": finite(interval.high),
        "always_valid_low": finite(interval.always_valid_low),
        "always_valid_high": finite(interval.always_valid_high),
    }


def metric_public(result: MetricResult, metric: dict[str, Any]) -> dict[str, Any]:
    """One metric's figures: arm sizes and means, uplifts, CUPED narrowing and power."""
    power = result.power
    return {
        "name": result.name,
        **{key: metric[key] for key in ("event_type", "measure", "window_days")},
        "must_not": result.must_not,
        "treatment": {"n": result.treatment_n, "mean": finite(result.treatment_mean)},
        "holdout": {"n": result.holdout_n, "mean": finite(result.holdout_mean)},
        "absolute": interval_public(result.absolute),
        "relative": interval_public(result.relative),
        "cuped": {
            "applied": result.cuped_theta is not None,
            "theta": finite(result.cuped_theta),
            "ci_width_ratio": finite(result.ci_width_ratio),
            "ci_narrowed_by": None if result.ci_width_ratio is None else finite(1.0 - result.ci_width_ratio),
        },
        "power": None
        if power is None
        else {
            "minimum_detectable_absolute": finite(power.minimum_detectable_absolute),
            "minimum_detectable_relative": finite(power.minimum_detectable_relative),
            "always_valid_minimum_detectable_relative": finite(
                power.always_valid_minimum_detectable_relative
            ),
            "target_relative_effect": SETTINGS.target_relative_effect,
            "customers_needed": power.customers_needed,
            "customers_still_needed": power.customers_still_needed,
        },
    }


def percent(value: float | None) -> str:
    """A share as a signed percentage."""
    return "n/a" if value is None or not math.isfinite(value) else f"{100 * value:+.1f}%"


def note_of(result: ExperimentResult, experiment_id: int, when: datetime, switched_off: bool) -> str:
    """The sentence every affected decision carries: the measured uplift and what it did."""
    relative = result.goal.relative
    measured = (
        f"measured uplift {percent(relative.estimate)} "
        f"[{percent(relative.always_valid_low)}, {percent(relative.always_valid_high)}] "
        f"(experiment {experiment_id}, always-valid 95%)"
    )
    day = when.date().isoformat()
    if switched_off:
        return f"switched off on {day}: {measured}"
    if result.verdict == "pays":
        return f"pays, measured on {day}: {measured}"
    return f"harms, measured on {day}: {measured}"


def _scope_in_auto(session: Session, experiment: Experiment) -> bool:
    """Whether the scope lets evidence decide (attribute and touchpoint: mode auto; others always)."""
    target = experiment.scope_target or ""
    if experiment.scope_kind == "attribute":
        attribute = catalog.get_attribute(session, experiment.tenant_id, target)
        return attribute is not None and attribute.mode == "auto"
    if experiment.scope_kind == "touchpoint":
        touchpoint = treatment.get_touchpoint(session, experiment.tenant_id, target)
        return touchpoint is not None and touchpoint.mode == "auto"
    return True


def act_on(session: Session, caller: Caller | None, experiment: Experiment, result: ExperimentResult) -> None:
    """Store the verdict; with auto_stop, `harms` on a scope in mode auto stops it and switches it off."""
    now = utcnow()
    before = {"verdict": experiment.verdict, "status": experiment.status}
    switch_off = (
        result.verdict == "harms"
        and experiment.auto_stop
        and experiment.status == RUNNING
        and _scope_in_auto(session, experiment)
    )
    experiment.verdict, experiment.verdict_reason, experiment.verdict_at = result.verdict, result.reason, now
    experiment.verdict_note = None
    if result.verdict in ("pays", "harms"):
        experiment.verdict_note = note_of(result, experiment.id or 0, now, switch_off)
    if switch_off:
        experiment.status, experiment.stopped_at, experiment.switched_off_at = STOPPED, now, now
        audit.record(
            session,
            experiment.tenant_id,
            caller,
            "experiment.switched_off",
            scope_key(experiment.scope_kind, experiment.scope_target),
            before,
            {
                "experiment_id": experiment.id,
                "verdict": "harms",
                "status": STOPPED,
                "note": experiment.verdict_note,
            },
        )
    repository.add(session, experiment)
    registry.refresh_on_commit(session, current(), experiment.tenant_id)


def predicted(session: Session, experiment: Experiment) -> dict[str, Any] | None:
    """For an attribute experiment: the scorer's V_A and delta hit@k beside the measured uplift."""
    if experiment.scope_kind != "attribute":
        return None
    try:
        decision = get_decision(session, experiment.tenant_id, experiment.scope_target or "")
    except NotFound:
        return {"scored": False}
    bounds = {
        name: None if value is None else value.model_dump()
        for name, value in (("value", decision.value), ("delta_hit", decision.delta_hit))
    }
    return {"scored": True, "decision": decision.decision, "k": decision.k, **bounds}


def results(session: Session, caller: Caller | None, tenant_id: int, experiment_id: int) -> dict[str, Any]:
    """Analyse the experiment now, store and act on its verdict, and return every figure."""
    experiment = require(session, tenant_id, experiment_id)
    goal = metric_data(session, experiment, experiment.goal, "goal")
    guardrails = [
        metric_data(session, experiment, metric, f"guardrail:{metric['event_type']}")
        for metric in experiment.guardrails
    ]
    result = analyse_experiment(goal, guardrails, experiment.holdout_share, SETTINGS)
    act_on(session, caller, experiment, result)
    return {
        "experiment_id": experiment_id,
        "name": experiment.name,
        "status": experiment.status,
        "computed_at": experiment.verdict_at,
        "arms": {"treatment": result.goal.treatment_n, "holdout": result.goal.holdout_n},
        "holdout_share": experiment.holdout_share,
        "goal": metric_public(result.goal, experiment.goal),
        "guardrails": [
            metric_public(found, metric)
            for found, metric in zip(result.guardrails, experiment.guardrails, strict=True)
        ],
        "srm": {"p_value": finite(result.srm.p_value), "flagged": result.srm.flagged},
        "verdict": result.verdict,
        "reason": result.reason,
        "note": experiment.verdict_note,
        "switched_off_at": experiment.switched_off_at,
        "predicted": predicted(session, experiment),
    }
