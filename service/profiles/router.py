"""HTTP endpoints of the profile store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from service.auth import Crm, CrmOrStorefront
from service.db import SessionDep
from service.profiles import service
from service.profiles.schemas import (
    CustomerPublic,
    CustomerPut,
    EventBatch,
    EventBatchResult,
    PreferencesPut,
)
from service.schemas import Page

router = APIRouter(tags=["profiles"])
CustomerId = Annotated[str, Path(min_length=1, max_length=200, description="The caller's own customer id.")]


@router.put("/v1/customers/{external_id}", response_model=CustomerPublic)
def put_customer(
    external_id: CustomerId, body: CustomerPut, caller: Crm, session: SessionDep, response: Response
) -> CustomerPublic:
    """Create or replace a customer's traits and consent."""
    customer, created = service.put_customer(session, caller.tenant_id, external_id, body)
    response.status_code = 201 if created else 200
    return customer


@router.get("/v1/customers/{external_id}", response_model=CustomerPublic)
def get_customer(external_id: CustomerId, caller: CrmOrStorefront, session: SessionDep) -> CustomerPublic:
    """One customer with consent and preferences."""
    return service.get_customer(session, caller.tenant_id, external_id)


@router.get("/v1/customers", response_model=Page[CustomerPublic])
def list_customers(
    caller: Crm,
    session: SessionDep,
    request: Request,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1)] = 100,
) -> Page[CustomerPublic]:
    """The tenant's customers, oldest first, a page at a time."""
    limit = min(limit, request.app.state.settings.max_page_size)
    return service.list_customers(session, caller.tenant_id, cursor, limit)


@router.put("/v1/customers/{external_id}/preferences", response_model=CustomerPublic)
def put_preferences(
    external_id: CustomerId, body: PreferencesPut, caller: CrmOrStorefront, session: SessionDep
) -> CustomerPublic:
    """Replace a customer's stated preferences."""
    return service.put_preferences(session, caller.tenant_id, external_id, body)


@router.post("/v1/events", response_model=EventBatchResult)
def post_events(
    body: EventBatch, caller: CrmOrStorefront, session: SessionDep, request: Request
) -> EventBatchResult:
    """Store a batch of choice events; replayed event_ids are counted as duplicates."""
    return service.ingest_events(
        session, caller.tenant_id, body.events, request.app.state.settings.max_events_per_batch
    )
