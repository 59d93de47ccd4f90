"""GET and PUT /v1/customers/{external_id}/engagement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from service.auth import Caller, require
from service.db import SessionDep
from service.engagement import service
from service.engagement.schemas import EngagementPublic, EngagementPut
from service.tenancy.models import Role

router = APIRouter(tags=["engagement"])
Crm = Annotated[Caller, Depends(require(Role.crm))]
Reader = Annotated[Caller, Depends(require(Role.crm, Role.storefront))]
CustomerId = Annotated[str, Path(min_length=1, max_length=200, description="The caller's own customer id.")]


@router.put("/v1/customers/{external_id}/engagement", response_model=EngagementPublic)
def put_engagement(
    external_id: CustomerId, body: EngagementPut, caller: Crm, session: SessionDep
) -> EngagementPublic:
    """Replace the customer's stated mode (self-service, assisted, full-service) per journey phase."""
    return service.put_engagement(session, caller.tenant_id, external_id, body)


@router.get("/v1/customers/{external_id}/engagement", response_model=EngagementPublic)
def get_engagement(external_id: CustomerId, caller: Reader, session: SessionDep) -> EngagementPublic:
    """Per journey phase: the stated mode, what behaviour shows, and the mode in force with why."""
    return service.get_engagement(session, caller.tenant_id, external_id)
