"""HTTP endpoints of recommendations: training runs, model versions, serving, and a bare ping."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request, Response

from service.auth import Caller, current_caller, require
from service.db import SessionDep
from service.jobs import repository as runs
from service.recommendations import service
from service.recommendations.schemas import ModelVersionPublic, Ping, Recommendations, SimilarItems
from service.recommendations.serving import RecommendationQuery, parse_filters, split_ids
from service.recommendations.training import TRAINING, train_tenant
from service.schemas import Page, decode_cursor, encode_cursor
from service.tailoring import service as tailoring
from service.tailoring.schemas import RunPublic
from service.tenancy.models import Role

router = APIRouter(tags=["recommendations"])
Marketer = Annotated[Caller, Depends(require(Role.marketer))]
Storefront = Annotated[Caller, Depends(require(Role.storefront))]
ExternalId = Annotated[str, Path(min_length=1, max_length=200)]
TopK = Annotated[int, Query(ge=1, le=100, description="How many items.")]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    409: {"description": "No model has been trained for the tenant yet (problem+json)."}
}


def _json(body: dict[str, Any]) -> Response:
    """A JSON response serialized by orjson, skipping response-model validation on hot paths."""
    return Response(orjson.dumps(body), media_type="application/json")


@router.post("/v1/models/runs", response_model=RunPublic, status_code=202)
def start_training(
    caller: Marketer, session: SessionDep, request: Request, background: BackgroundTasks
) -> Any:
    """Queue a training run (LightFM, gate, metrics, a new model version); poll /v1/models/runs/{id}."""
    run = service.queue_training(session, caller.tenant_id, caller, request.app.state.settings)
    background.add_task(request.app.state.job_runner.submit, run.id, train_tenant)
    return run


@router.get("/v1/models/runs/{run_id}", response_model=RunPublic)
def get_training(run_id: int, caller: Marketer, session: SessionDep) -> Any:
    """A training run's status, progress and outcome (its summary names the model version)."""
    return tailoring.get_run(session, caller.tenant_id, run_id, TRAINING)


@router.get("/v1/models/runs", response_model=Page[RunPublic])
def list_training(
    caller: Marketer,
    session: SessionDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[Any]:
    """The tenant's training runs, newest first."""
    position = decode_cursor(cursor, 1)
    rows = runs.page(session, caller.tenant_id, TRAINING, position[0] if position else None, limit)
    last = rows[-1].id if len(rows) == limit else None
    return Page(items=list(rows), next_cursor=encode_cursor(last) if last is not None else None)


@router.get("/v1/models", response_model=Page[ModelVersionPublic])
def list_versions(
    caller: Marketer,
    session: SessionDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ModelVersionPublic]:
    """The tenant's model versions, newest first, each with its metrics and gate decision."""
    position = decode_cursor(cursor, 1)
    items, last = service.page_versions(session, caller.tenant_id, position[0] if position else None, limit)
    return Page(items=items, next_cursor=encode_cursor(last) if last is not None else None)


@router.get("/v1/models/{version}", response_model=ModelVersionPublic)
def get_version(version: int, caller: Marketer, session: SessionDep) -> ModelVersionPublic:
    """One model version: features used, time-split metrics, the gate's decision and figures."""
    return service.get_version(session, caller.tenant_id, version)


@router.get(
    "/v1/customers/{external_id}/recommendations",
    response_model=Recommendations,
    responses=PROBLEMS,
)
def recommendations(
    external_id: ExternalId,
    caller: Storefront,
    request: Request,
    k: TopK = 10,
    exclude_seen: Annotated[
        bool, Query(description="Leave out items the customer bought or saw (any item event).")
    ] = True,
    exclude: Annotated[
        list[str], Query(description="Item ids to leave out: comma-separated, repeated, or both.")
    ] = [],  # noqa: B006 (FastAPI copies defaults)
    filters: Annotated[
        list[str],
        Query(
            alias="filter",
            description="`attribute:value`, repeatable: `filter=genre:Comedy&filter=genre:Drama"
            "&filter=decade:1990s` keeps items that are Comedy or Drama, and of the 1990s.",
        ),
    ] = [],  # noqa: B006
) -> Response:
    """Top-k active items for a customer, from the path the gate allows, with strategy and reason.

    Unknown customers (anonymous visitors) and customers without personalization consent get the
    popular list, said so in `reason`; a customer without events but with stated preferences gets a
    ranking folded in from them (`cold-start`). 409 until the tenant's first model is trained.
    """
    query = RecommendationQuery(
        k=k, exclude_seen=exclude_seen, exclude=split_ids(exclude), filters=parse_filters(filters)
    )
    app = request.app.state
    return _json(service.recommendations(app.engine, app.model_cache, caller.tenant_id, external_id, query))


@router.get("/v1/items/{item_id}/similar", response_model=SimilarItems, responses=PROBLEMS)
def similar_items(
    item_id: Annotated[str, Path(min_length=1, max_length=200)],
    caller: Storefront,
    request: Request,
    k: TopK = 10,
) -> Response:
    """Active items nearest to an item by the model's item embeddings; 404 if the model lacks it."""
    app = request.app.state
    return _json(service.similar_items(app.engine, app.model_cache, caller.tenant_id, item_id, k))


@router.get("/v1/ping", response_model=Ping)
def ping(caller: Annotated[Caller, Depends(current_caller)]) -> Response:
    """The caller's tenant and role: an authenticated endpoint with nothing else to do."""
    return _json({"tenant": caller.tenant_id, "role": caller.role.value})
