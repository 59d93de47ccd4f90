"""An experiment's uplift day by day: one query per metric, then the results' analysis as of each day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from recommender.experiments.analysis import MetricResult
from recommender.experiments.daily import daily_increments, metric_history, thinned_days
from service.db import utcnow
from service.experiments import history_repository
from service.experiments.models import Experiment
from service.experiments.results import SETTINGS, finite, interval_public
from service.experiments.service import require

DEFAULT_POINTS = 30
MOST_POINTS = 60


def last_moment(experiment: Experiment, now: datetime) -> datetime:
    """Where the history ends: now while the experiment runs, else its stop."""
    return min(now, experiment.stopped_at) if experiment.stopped_at is not None else now


def _point(result: MetricResult, day: int, first: datetime) -> dict[str, Any]:
    """One metric as of the end of one day of the experiment."""
    return {
        "day": day,
        "date": (first + timedelta(days=day)).date(),
        "treatment": {"n": result.treatment_n, "mean": finite(result.treatment_mean)},
        "holdout": {"n": result.holdout_n, "mean": finite(result.holdout_mean)},
        "absolute": interval_public(result.absolute),
        "relative": interval_public(result.relative),
    }


def metric_points(
    session: Session, experiment: Experiment, metric: dict[str, Any], name: str, days: int, shown: list[int]
) -> dict[str, Any]:
    """A goal or guardrail with its points: the uplift and both intervals as of the end of each shown day."""
    first = experiment.started_at
    found = history_repository.daily_increments(
        session,
        experiment.tenant_id,
        experiment.id or 0,
        metric["event_type"],
        metric["measure"],
        int(metric["window_days"]),
        first.date(),
    )
    treated = daily_increments(found.get("treatment", []), days)
    held = daily_increments(found.get("holdout", []), days)
    analysed = metric_history(
        name, treated, held, shown, metric.get("must_not"), experiment.holdout_share, SETTINGS
    )
    return {
        "name": name,
        **{key: metric[key] for key in ("event_type", "measure", "window_days")},
        "must_not": metric.get("must_not"),
        "points": [_point(result, day, first) for result, day in zip(analysed, shown, strict=True)],
    }


def history(session: Session, tenant_id: int, experiment_id: int, points: int) -> dict[str, Any]:
    """Every metric's uplift and intervals as of the end of each day since the start, thinned to `points`.

    The last point counts everything the results count now (outcomes sent after the stop included).
    """
    experiment = require(session, tenant_id, experiment_id)
    now = utcnow()
    days = max((last_moment(experiment, now).date() - experiment.started_at.date()).days + 1, 1)
    shown = thinned_days(days, points)
    guardrails = [
        metric_points(session, experiment, metric, f"guardrail:{metric['event_type']}", days, shown)
        for metric in experiment.guardrails
    ]
    return {
        "experiment_id": experiment_id,
        "name": experiment.name,
        "status": experiment.status,
        "started_at": experiment.started_at,
        "computed_at": now,
        "days": days,
        "goal": metric_points(session, experiment, experiment.goal, "goal", days, shown),
        "guardrails": guardrails,
    }
