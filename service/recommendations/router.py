"""HTTP endpoints of recommendations: training runs, model versions, serving, and a bare ping."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response

from service.auth import AnyRole, Marketer, Storefront
from service.db import SessionDep
from service.jobs import service as jobs
from service.jobs.schemas import RunPublic
from service.pagination import RowId
from service.recommendations import params, service
from service.recommendations.schemas import ModelVersionPublic, Ping, Recommendations, SimilarItems
from service.recommendations.training import TRAINING
from service.schemas import Page

router = APIRouter(tags=["recommendations"])
ExternalId = Annotated[str, Path(min_length=1, max_length=200)]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    409: {"description": "No model has been trained for the tenant yet (problem+json)."}
}


def _json(body: dict[str, Any]) -> Response:
    """A JSON response serialized by orjson, skipping response-model validation on hot paths."""
    return Response(orjson.dumps(body), media_type="application/json")


@router.get(
    "/v1/customers/{external_id}/recommendations",
    response_model=Recommendations,
    responses=PROBLEMS,
    openapi_extra={"parameters": params.RECOMMENDATION_PARAMETERS},
)
async def recommendations(external_id: ExternalId, caller: Storefront, request: Request) -> Response:
    """Top-k active items for a customer, from the path the gate allows, with strategy and reason.

    The gate chosen at training (see GET /v1/models/{version}) picks the path: repeat (the customer's
    own items by purchase frequency and recency, then new ones), blend (their staples and discovery
    slots), one-to-one (the discovery model), segment (popular among customers with the same
    `segment` trait) or popular. `exclude_seen` defaults to false on repeat and blend, else true;
    each item says why it is there.
    Unknown customers (anonymous visitors) and customers without personalization consent get the
    popular list, said so in `reason`; a customer without events at training but with stated
    preferences gets a ranking folded in from them (`cold-start`). Inactive items never appear; a
    deactivation counts at once, or on PostgreSQL as soon as its change notification reaches the
    worker (see docs/serving.md, kept reads). 409 until the tenant's first model is trained. While the
    database is unavailable, every customer gets the popular list of the model in memory (their
    consent and choices cannot be read), said so in `reason`; other endpoints answer 503.
    """
    query = params.recommendation_query(request.query_params)
    state = request.app.state
    answer = await service.recommendations(
        state.model_cache, state.holdouts, caller.tenant_id, external_id, query
    )
    return _json(answer)


@router.get(
    "/v1/items/{item_id}/similar",
    response_model=SimilarItems,
    responses=PROBLEMS,
    openapi_extra={"parameters": [params.K_PARAMETER]},
)
async def similar_items(
    item_id: Annotated[str, Path(min_length=1, max_length=200)], caller: Storefront, request: Request
) -> Response:
    """Active items nearest to an item by the model's item embeddings; 404 if the model lacks it."""
    k = params.top_k(request.query_params)
    return _json(await service.similar_items(request.app.state.model_cache, caller.tenant_id, item_id, k))


@router.get("/v1/ping", response_model=Ping)
async def ping(caller: AnyRole) -> Response:
    """The caller's tenant and role: an authenticated endpoint with nothing else to do."""
    return _json({"tenant": caller.tenant_id, "role": caller.role.value})


@router.post("/v1/models/runs", response_model=RunPublic, status_code=202)
def start_training(
    caller: Marketer, session: SessionDep, request: Request, background: BackgroundTasks
) -> Any:
    """Queue a training run (LightFM, gate, metrics, a new model version); poll /v1/models/runs/{id}."""
    run = service.queue_training(session, caller.tenant_id, caller, request.app.state.settings)
    background.add_task(request.app.state.job_runner.submit, run.id, run.kind)
    return run


@router.get("/v1/models/runs/{run_id}", response_model=RunPublic)
def get_training(run_id: RowId, caller: Marketer, session: SessionDep) -> Any:
    """A training run's status, progress and outcome (its summary names the model version)."""
    return jobs.get_run(session, caller.tenant_id, TRAINING, run_id)


@router.get("/v1/models/runs", response_model=Page[RunPublic])
def list_training(
    caller: Marketer,
    session: SessionDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[Any]:
    """The tenant's training runs, newest first."""
    return jobs.runs_page(session, caller.tenant_id, TRAINING, cursor, limit)


@router.get("/v1/models", response_model=Page[ModelVersionPublic])
def list_versions(
    caller: Marketer,
    session: SessionDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ModelVersionPublic]:
    """The tenant's model versions, newest first, each with its metrics and gate decision."""
    return service.page_versions(session, caller.tenant_id, cursor, limit)


@router.get("/v1/models/{version}", response_model=ModelVersionPublic)
def get_version(version: RowId, caller: Marketer, session: SessionDep) -> ModelVersionPublic:
    """One model version: features used, time-split metrics, the gate's decision and figures."""
    return service.get_version(session, caller.tenant_id, version)
