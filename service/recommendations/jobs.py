"""Training runs started outside HTTP (CLI, benchmarks): run to the end, then read the version."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from service.config import Settings
from service.db import session_scope
from service.jobs import runner
from service.jobs.service import run_inline
from service.recommendations import service
from service.recommendations.schemas import ModelVersionPublic
from service.recommendations.training import train_tenant


def train_now(
    engine: Engine, tenant_name: str, settings: Settings, progress: runner.ProgressBar
) -> ModelVersionPublic:
    """Run a training run for a tenant to the end and return the model version it published."""
    tenant_id, run = run_inline(
        engine,
        tenant_name,
        lambda session, tenant: service.queue_training(session, tenant, None, settings),
        train_tenant,
        progress,
    )
    with session_scope(engine) as session:
        return service.get_version(session, tenant_id, int((run.summary or {})["model_version"]))
