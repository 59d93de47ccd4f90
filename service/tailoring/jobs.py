"""Scoring runs started outside HTTP (CLI, demo): queue, execute inline, read the decisions."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from service.db import session_scope
from service.errors import NotFound, TailorwiseError
from service.jobs import runner
from service.jobs.models import Run
from service.tailoring import service
from service.tailoring.schemas import DecisionPublic
from service.tailoring.scoring import score_tenant
from service.tenancy import repository as tenants


def score_now(
    engine: Engine, tenant_name: str, attribute: str | None, progress: runner.ProgressBar
) -> list[DecisionPublic]:
    """Run a scoring run for a tenant to the end and return the decisions in force."""
    with session_scope(engine) as session:
        tenant = tenants.get_tenant_by_name(session, tenant_name)
        if tenant is None or tenant.id is None:
            raise NotFound(f"No tenant named {tenant_name!r}.")
        tenant_id = tenant.id
        run_id = service.queue_run(session, tenant_id, None, attribute).id or 0
    with progress("scoring") as report:
        succeeded = runner.execute(engine, run_id, score_tenant, report)
    with session_scope(engine) as session:
        if not succeeded:
            run = session.get(Run, run_id)
            raise TailorwiseError(f"Scoring failed: {run.error if run else 'unknown error'}")
        return service.list_decisions(session, tenant_id)
