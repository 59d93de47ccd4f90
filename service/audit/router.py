"""GET /v1/audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.audit import repository
from service.audit.schemas import AuditPublic
from service.auth import Caller, require
from service.db import SessionDep
from service.schemas import Page, decode_cursor, encode_cursor
from service.tenancy.models import Role

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Reader = Annotated[Caller, Depends(require(Role.marketer))]


@router.get("", response_model=Page[AuditPublic])
def list_audit(
    caller: Reader,
    session: SessionDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    action: str | None = None,
) -> Page[AuditPublic]:
    """The tenant's audit records, newest first."""
    position = decode_cursor(cursor, 1)
    rows = repository.page(session, caller.tenant_id, position[0] if position else None, limit, action)
    items = [AuditPublic.model_validate(r, from_attributes=True) for r in rows]
    last = rows[-1].id if len(rows) == limit else None
    return Page(items=items, next_cursor=encode_cursor(last) if last is not None else None)
