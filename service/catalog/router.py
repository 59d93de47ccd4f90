"""HTTP endpoints of the catalog."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from service.auth import AnyRole, CrmOrStorefront, MarketerOrCrm
from service.bulk.bodies import request_records
from service.bulk.openapi import bulk_body
from service.bulk.schemas import SyncResult
from service.catalog import service
from service.catalog.schemas import AttributePublic, AttributePut, ItemPublic, ItemSyncRow
from service.db import SessionDep
from service.schemas import Name

router = APIRouter(tags=["catalog"])
AttributeName = Annotated[Name, Path(description="The attribute's name, e.g. `genre`.")]
ItemId = Annotated[str, Path(min_length=1, max_length=200, description="The caller's own item id.")]


@router.put("/v1/attributes/{name}", response_model=AttributePublic)
def put_attribute(
    name: AttributeName, body: AttributePut, caller: MarketerOrCrm, session: SessionDep, response: Response
) -> AttributePublic:
    """Define an attribute: its kind, numeric bins, and the scorer's inputs f, u and c.

    Changing the kind or the bins derives the stored values of the tenant's items again.
    """
    attribute, created = service.put_attribute(session, caller.tenant_id, name, body)
    response.status_code = 201 if created else 200
    return attribute


@router.get("/v1/attributes", response_model=list[AttributePublic])
def list_attributes(caller: AnyRole, session: SessionDep) -> list[AttributePublic]:
    """Every attribute definition of the tenant, by name."""
    return service.list_attributes(session, caller.tenant_id)


@router.get("/v1/attributes/{name}", response_model=AttributePublic)
def get_attribute(name: AttributeName, caller: AnyRole, session: SessionDep) -> AttributePublic:
    """One attribute definition."""
    return service.get_attribute(session, caller.tenant_id, name)


@router.post(
    "/v1/sync/items",
    response_model=SyncResult,
    openapi_extra=bulk_body(ItemSyncRow.model_json_schema(ref_template="#/components/schemas/{model}")),
)
async def sync_items(request: Request, caller: CrmOrStorefront, session: SessionDep) -> SyncResult:
    """Upsert items in bulk, last writer wins by the optional `source_updated_at`.

    Same bodies and answer as `POST /v1/sync/customers`. A row without `source_updated_at` is never
    stale and keeps the stored timestamp; within one batch it ranks below rows that have one, ties go
    to the later line. Values must fit the attribute's definition: one value for categorical, a list
    or one value for multi-valued, a number for numeric (stored binned, e.g. "[10,20)"); undefined
    attributes take strings, numbers, booleans or lists of them. `active: false` takes the item out
    of recommendations at once.
    """
    records = request_records(request)
    limit = request.app.state.settings.max_sync_rows
    return await run_in_threadpool(service.sync_items, session, caller.tenant_id, records, limit)


@router.get("/v1/items/{item_id}", response_model=ItemPublic)
def get_item(item_id: ItemId, caller: AnyRole, session: SessionDep) -> ItemPublic:
    """One item with its attributes and the values stored for scoring."""
    return service.get_item(session, caller.tenant_id, item_id)
