"""Fill the serving registry of holdouts from the database: running hash experiments and verdicts."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.db import session_scope
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


def _read(session: Session, tenant_id: int | None) -> tuple[list[RunningExperiment], list[Measured]]:
    """The running hash experiments and the verdicts the session sees (all tenants', or one's)."""
    running, measured = [], []
    # Rows come oldest first, so a scope's newest verdict is the one kept.
    for experiment, tenant_key in repository.serving_rows(session, tenant_id):
        if experiment.status == "running" and experiment.assignment == "hash":
            running.append(running_of(experiment, tenant_key))
        if experiment.verdict in ("pays", "harms"):
            measured.append(measured_of(experiment))
    return running, measured


def reload(engine: Engine, holdouts: Holdouts) -> None:
    """Replace every tenant's entries with the database's, unless a later read already put a tenant's in."""
    ticket = holdouts.ticket()
    with session_scope(engine) as session:
        running, measured = _read(session, None)
    holdouts.replace(running, measured, ticket=ticket)


def refresh_on_commit(session: Session, holdouts: Holdouts, tenant_id: int) -> None:
    """Once the session commits, replace the tenant's entries with what it sees now (a rollback: never)."""
    running, measured = _read(session, tenant_id)
    event.listen(
        session, "after_commit", lambda _session: holdouts.replace(running, measured, tenant_id), once=True
    )
