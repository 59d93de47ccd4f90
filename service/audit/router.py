"""GET /v1/audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.audit import service
from service.audit.schemas import AuditPublic
from service.auth import Marketer
from service.db import SessionDep
from service.schemas import Page

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=Page[AuditPublic])
def list_audit(
    caller: Marketer,
    session: SessionDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    action: str | None = None,
) -> Page[AuditPublic]:
    """The tenant's audit records, newest first."""
    return service.page(session, caller.tenant_id, cursor, limit, action)
