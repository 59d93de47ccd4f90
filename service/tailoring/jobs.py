"""Scoring runs started outside HTTP (CLI, demo): run to the end, then read the decisions."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from service.db import session_scope
from service.jobs import runner
from service.jobs.service import run_inline
from service.tailoring import service
from service.tailoring.schemas import DecisionPublic
from service.tailoring.scoring import score_tenant


def score_now(
    engine: Engine, tenant_name: str, attribute: str | None, progress: runner.ProgressBar
) -> list[DecisionPublic]:
    """Run a scoring run for a tenant to the end and return the decisions in force."""
    tenant_id, _ = run_inline(
        engine,
        tenant_name,
        lambda session, tenant: service.queue_run(session, tenant, None, attribute),
        score_tenant,
        progress,
    )
    with session_scope(engine) as session:
        return service.list_decisions(session, tenant_id)
