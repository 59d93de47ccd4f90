"""Runs started outside HTTP (CLI, demo, benchmarks): run to the end, then read what they published."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from service.config import Settings, get_settings
from service.db import session_scope
from service.jobs import runner
from service.jobs.service import run_inline
from service.recommendations import service as recommendations
from service.recommendations.schemas import ModelVersionPublic
from service.recommendations.training import TRAINING
from service.tailoring import service
from service.tailoring.schemas import DecisionPublic
from service.workloads.kinds import JOBS


def score_now(
    engine: Engine, tenant_name: str, attribute: str | None, progress: runner.ProgressBar
) -> list[DecisionPublic]:
    """Run a scoring run for a tenant to the end and return the decisions in force."""
    tenant_id, _ = run_inline(
        engine,
        tenant_name,
        lambda session, tenant: service.queue_run(session, tenant, None, attribute),
        JOBS[service.SCORING],
        progress,
        get_settings(),
    )
    with session_scope(engine) as session:
        return service.list_decisions(session, tenant_id)


def train_now(
    engine: Engine, tenant_name: str, settings: Settings, progress: runner.ProgressBar
) -> ModelVersionPublic:
    """Run a training run for a tenant to the end and return the model version it published."""
    tenant_id, run = run_inline(
        engine,
        tenant_name,
        lambda session, tenant: recommendations.queue_training(session, tenant, None, settings),
        JOBS[TRAINING],
        progress,
        settings,
    )
    with session_scope(engine) as session:
        return recommendations.get_version(session, tenant_id, int((run.summary or {})["model_version"]))
