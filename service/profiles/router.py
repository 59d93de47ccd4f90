"""HTTP endpoints of the profile store."""

from __future__ import annotations

from email.message import Message
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlmodel import Session

from service.auth import Crm, CrmOrStorefront
from service.db import SessionDep, in_session_thread
from service.errors import UnsupportedMediaType
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


def _is_json(content_type: str | None) -> bool:
    """Whether a content type is JSON (application/json or application/*+json)."""
    message = Message()
    message["content-type"] = content_type or ""
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def event_body(request: Request) -> bytes:
    """The raw body of an event batch, which must be JSON."""
    if not _is_json(request.headers.get("content-type")):
        raise UnsupportedMediaType("Send the body as application/json.")
    return await request.body()


EventBody = Annotated[bytes, Depends(event_body)]


def events_in(body: bytes) -> list[Any]:
    """The raw events of a batch body; a body that is not JSON or not an EventBatch fails as FastAPI's do."""
    if not body:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        batch = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error"}
        raise RequestValidationError([{**error, "input": {}, "ctx": {"error": exc.msg}}]) from None
    if type(batch) is dict and batch.keys() == {"events"} and type(batch["events"]) is list:
        events: list[Any] = batch["events"]
        if all(type(event) is dict for event in events):
            return events
    try:
        return EventBatch.model_validate(batch).events
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None


EVENT_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": EventBatch.model_json_schema(ref_template="#/components/schemas/{model}")
            }
        },
    }
}


@router.post("/v1/events", response_model=EventBatchResult, openapi_extra=EVENT_BATCH_BODY)
async def post_events(caller: CrmOrStorefront, body: EventBody, request: Request) -> EventBatchResult:
    """Store a batch of choice events; replayed event_ids are counted as duplicates."""
    limit = request.app.state.settings.max_events_per_batch

    def ingest(session: Session) -> EventBatchResult:
        return service.ingest_events(session, caller.tenant_id, events_in(body), limit)

    # One worker thread parses, checks, stores and commits.
    return await in_session_thread(request.app.state.engine, ingest)
