"""HTTP endpoints of CRM sync."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from service.auth import Crm
from service.bulk.bodies import request_records
from service.bulk.openapi import bulk_body
from service.bulk.schemas import SyncResult
from service.db import SessionDep
from service.sync import service
from service.sync.schemas import ChangePage, CustomerSyncRow

router = APIRouter(tags=["sync"])


@router.post(
    "/v1/sync/customers",
    response_model=SyncResult,
    openapi_extra=bulk_body(CustomerSyncRow.model_json_schema(ref_template="#/components/schemas/{model}")),
)
async def sync_customers(request: Request, caller: Crm, session: SessionDep) -> SyncResult:
    """Upsert customers in bulk, last writer wins by each row's `source_updated_at`.

    Send `application/x-ndjson` (one row a line, read as it streams in) or `application/json` (an
    array). A row older than the stored customer is `stale`; a replayed row is `unchanged`; a bad row
    is skipped and listed with its `line` (NDJSON line, or 1-based array position) and `reason`.
    Rows with the same `external_id` in one batch: the greatest `source_updated_at` wins, a tie goes
    to the later line, the others count as `stale`. `preferences` omitted or null keeps the stored
    ones; a list replaces them. Every changed customer enters the change feed. The accepted rows
    commit together or not at all; more than the configured maximum of rows is a 413.
    """
    records = request_records(request)
    limit = request.app.state.settings.max_sync_rows
    return await run_in_threadpool(service.sync_customers, session, caller.tenant_id, records, limit)


@router.get("/v1/sync/changes", response_model=ChangePage)
def changes(
    caller: Crm,
    session: SessionDep,
    request: Request,
    after: Annotated[str | None, Query(description="The `next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1)] = 100,
) -> ChangePage:
    """Customers changed after the cursor, each with its profile now (null for an erased one).

    Ordered by (transaction id, change id). Each customer appears once, at its latest change.
    A consumer that keeps passing `next_cursor` as `after` never misses a change, also with
    concurrent writers: on PostgreSQL only changes of transactions older than every transaction still
    running are returned, so one that commits later can never land behind the cursor; on SQLite
    writers are serialized and change ids follow commit order. When nothing new has been committed,
    `next_cursor` is the cursor you passed, so a poller can simply call again.
    """
    limit = min(limit, request.app.state.settings.max_page_size)
    return service.changes(session, caller.tenant_id, after, limit)
