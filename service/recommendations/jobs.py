"""Training runs started outside HTTP (CLI, benchmarks): queue, execute inline, read the version."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from service.config import Settings
from service.db import session_scope
from service.errors import NotFound, TailorwiseError
from service.jobs import runner
from service.jobs.models import Run
from service.recommendations import service
from service.recommendations.schemas import ModelVersionPublic
from service.recommendations.training import train_tenant
from service.tenancy import repository as tenants


def train_now(
    engine: Engine, tenant_name: str, settings: Settings, progress: runner.ProgressBar
) -> ModelVersionPublic:
    """Run a training run for a tenant to the end and return the model version it published."""
    with session_scope(engine) as session:
        tenant = tenants.get_tenant_by_name(session, tenant_name)
        if tenant is None or tenant.id is None:
            raise NotFound(f"No tenant named {tenant_name!r}.")
        tenant_id = tenant.id
        run_id = service.queue_training(session, tenant_id, None, settings).id or 0
    with progress("training") as report:
        succeeded = runner.execute(engine, run_id, train_tenant, report)
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        if not succeeded or run is None or run.summary is None:
            raise TailorwiseError(f"Training failed: {run.error if run else 'unknown error'}")
        return service.get_version(session, tenant_id, int(run.summary["model_version"]))
