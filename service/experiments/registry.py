"""Fill the serving registry of holdouts from the database: running hash experiments and verdicts."""

from __future__ import annotations

from sqlmodel import Session

from service.experiments import repository
from service.experiments.models import Experiment
from service.holdouts import Holdouts, Measured, RunningExperiment


def running_of(experiment: Experiment, tenant_key: str) -> RunningExperiment:
    """A stored running experiment as serving sees it."""
    return RunningExperiment(
        id=experiment.id or 0,
        tenant_id=experiment.tenant_id,
        tenant_key=tenant_key,
        kind=experiment.scope_kind,
        target=experiment.scope_target,
        salt=experiment.salt,
        holdout_share=experiment.holdout_share,
    )


def measured_of(experiment: Experiment) -> Measured:
    """A stored verdict as serving explains it."""
    return Measured(
        tenant_id=experiment.tenant_id,
        kind=experiment.scope_kind,
        target=experiment.scope_target,
        experiment_id=experiment.id or 0,
        verdict=experiment.verdict or "",
        switched_off=experiment.switched_off_at is not None,
        note=experiment.verdict_note or "",
    )


def refresh(session: Session, holdouts: Holdouts, tenant_id: int | None = None) -> None:
    """Replace the registry's entries (all tenants', or one's) with what the session sees."""
    running, measured = [], []
    # Rows come oldest first, so a scope's newest verdict is the one kept.
    for experiment, tenant_key in repository.serving_rows(session, tenant_id):
        if experiment.status == "running" and experiment.assignment == "hash":
            running.append(running_of(experiment, tenant_key))
        if experiment.verdict in ("pays", "harms"):
            measured.append(measured_of(experiment))
    holdouts.replace(running, measured, tenant_id)
