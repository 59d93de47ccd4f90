"""Rules of recommendations: queue training, read model versions, serve from the cache."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from recommender.forget import held_about, without_customers
from recommender.model import TrainedModel
from service.audit import service as audit
from service.auth import Caller
from service.config import Settings
from service.errors import DATABASE_UNAVAILABLE, Conflict, NotFound
from service.holdouts import RECOMMENDATIONS, Holdouts
from service.jobs import service as runs
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
    return runs.add_run(session, run)


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


def forget_customer(session: Session, tenant_id: int, external_id: str) -> int:
    """Remove a customer from every stored model version's artifact; the versions that held them."""
    removed = 0
    for version_id in repository.version_ids(session, tenant_id):
        row = repository.load_version(session, tenant_id, version_id)
        if row is None:
            continue
        model = TrainedModel.load(row.artifact)
        if model.knows(external_id):
            artifact = without_customers(model, [external_id]).save()
            repository.replace_artifact(session, tenant_id, version_id, artifact)
            removed += 1
        session.expunge(row)
    return removed


def held_in_models(session: Session, tenant_id: int, external_id: str) -> list[dict[str, Any]]:
    """What every stored model version holds about a customer (for the export), oldest first."""
    held = []
    for version_id in repository.version_ids(session, tenant_id):
        row = repository.load_version(session, tenant_id, version_id)
        if row is not None:
            held.append(
                {"model_version": version_id, **held_about(TrainedModel.load(row.artifact), external_id)}
            )
            session.expunge(row)
    return held


def _snapshot(cache: ModelCache, tenant_id: int) -> Snapshot:
    """The tenant's served model, or a 409 saying how to get one."""
    snapshot = cache.get(tenant_id)
    if snapshot is None:
        raise Conflict(NO_MODEL)
    return snapshot


async def recommendations(
    cache: ModelCache,
    holdouts: Holdouts,
    tenant_id: int,
    external_id: str,
    query: serving.RecommendationQuery,
) -> dict[str, Any]:
    """A customer's recommendations: one database read, the rest in memory (popular while it is down)."""
    snapshot = _snapshot(cache, tenant_id)
    try:
        read = await reads_repository.read_customer(
            cache.reads, tenant_id, external_id, snapshot.since, *snapshot.events_since_training(external_id)
        )
    except DATABASE_UNAVAILABLE as exc:
        serving.log_outage(exc)
        return serving.without_database(snapshot, query)
    if not (read.found and read.consent):
        return serving.recommend(snapshot, external_id, read, query)
    measured = holdouts.measured(tenant_id, RECOMMENDATIONS, None)
    arm = None
    if measured is not None and measured.switched_off:
        popular_because: str | None = f"Personal recommendations were {measured.note}: the popular list."
    else:
        arm = holdouts.arm(tenant_id, RECOMMENDATIONS, None, external_id)
        popular_because = f"{arm.reason()} The popular list." if arm is not None and arm.held_out else None
    answer = serving.recommend(snapshot, external_id, read, query, popular_because)
    if arm is not None:
        answer["experiment"] = arm.public()
        if not arm.held_out:
            answer["reason"] += f" {arm.reason()}"
    if measured is not None and not measured.switched_off:
        answer["reason"] += f" Personal recommendations {measured.note}."
    return answer


async def similar_items(cache: ModelCache, tenant_id: int, item_id: str, k: int) -> dict[str, Any]:
    """Items like one item, active ones only."""
    snapshot = _snapshot(cache, tenant_id)
    deactivated = await reads_repository.deactivated_items(cache.reads, tenant_id, snapshot.since)
    return serving.similar(snapshot, item_id, k, deactivated)
