"""Rules of recommendations: queue training, read model versions, serve from the cache."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.audit import service as audit
from service.auth import Caller
from service.config import Settings
from service.errors import DATABASE_UNAVAILABLE, Conflict, NotFound
from service.jobs import repository as runs
from service.jobs.models import Run
from service.pagination import cursor_id, id_page
from service.recommendations import reads_repository, repository, serving
from service.recommendations.cache import ModelCache, Snapshot
from service.recommendations.models import ModelVersion
from service.recommendations.schemas import ModelVersionPublic
from service.recommendations.training import TRAINING, run_params
from service.schemas import Page

NO_MODEL = "No model has been trained for this tenant yet: start a training run at POST /v1/models/runs."


def queue_training(session: Session, tenant_id: int, caller: Caller | None, settings: Settings) -> Run:
    """Queue a training run with the configured hyperparameters; it executes outside the request."""
    run = Run(
        tenant_id=tenant_id, kind=TRAINING, params=run_params(settings), requested_by=audit.actor_of(caller)
    )
    return runs.add(session, run)


def to_public(version: ModelVersion, serving_id: int | None) -> ModelVersionPublic:
    """A stored version as the marketer sees it."""
    return ModelVersionPublic(
        id=version.id or 0,
        run_id=version.run_id,
        serving=version.id == serving_id,
        strategy=version.strategy,
        reason=str(version.gate.get("reason", "")),
        gate=version.gate,
        metrics=version.metrics,
        features=version.features,
        params=version.params,
        created_at=version.created_at,
    )


def get_version(session: Session, tenant_id: int, version_id: int) -> ModelVersionPublic:
    """One of the tenant's model versions, or a 404."""
    version = repository.get_version(session, tenant_id, version_id)
    if version is None:
        raise NotFound(f"No model version {version_id}.")
    return to_public(version, repository.latest_version_id(session, tenant_id))


def page_versions(
    session: Session, tenant_id: int, cursor: str | None, limit: int
) -> Page[ModelVersionPublic]:
    """A page of versions, newest first."""
    rows = repository.page_versions(session, tenant_id, cursor_id(cursor), limit)
    serving_id = repository.latest_version_id(session, tenant_id)
    return id_page(rows, limit, lambda page: [to_public(v, serving_id) for v in page])


def _snapshot(cache: ModelCache, tenant_id: int) -> Snapshot:
    """The tenant's served model, or a 409 saying how to get one."""
    snapshot = cache.get(tenant_id)
    if snapshot is None:
        raise Conflict(NO_MODEL)
    return snapshot


async def recommendations(
    cache: ModelCache,
    tenant_id: int,
    external_id: str,
    query: serving.RecommendationQuery,
) -> dict[str, Any]:
    """A customer's recommendations: one database read, the rest in memory (popular while it is down)."""
    snapshot = _snapshot(cache, tenant_id)
    events_from = snapshot.events_from_txid(external_id)
    try:
        read = await reads_repository.read_customer(
            cache.reads, tenant_id, external_id, snapshot.since, events_from
        )
    except DATABASE_UNAVAILABLE as exc:
        serving.log_outage(exc)
        return serving.without_database(snapshot, query)
    return serving.recommend(snapshot, external_id, read, query)


async def similar_items(cache: ModelCache, tenant_id: int, item_id: str, k: int) -> dict[str, Any]:
    """Items like one item, active ones only."""
    snapshot = _snapshot(cache, tenant_id)
    deactivated = await reads_repository.deactivated_items(cache.reads, tenant_id, snapshot.since)
    return serving.similar(snapshot, item_id, k, deactivated)
