"""GET and PUT /v1/customers/{external_id}/engagement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from service.auth import Crm, CrmOrStorefront
from service.db import SessionDep
from service.engagement import service
from service.engagement.default_mode import DefaultMode
from service.engagement.schemas import EngagementPublic, EngagementPut

router = APIRouter(tags=["engagement"])
CustomerId = Annotated[str, Path(min_length=1, max_length=200, description="The caller's own customer id.")]


@router.put("/v1/customers/{external_id}/engagement", response_model=EngagementPublic)
def put_engagement(
    external_id: CustomerId, body: EngagementPut, caller: Crm, session: SessionDep, default: DefaultMode
) -> EngagementPublic:
    """Replace the customer's stated mode (self-service, assisted, full-service) per journey phase."""
    return service.put_engagement(
        session, caller.tenant_id, external_id, body, default(session, caller.tenant_id)
    )


@router.get("/v1/customers/{external_id}/engagement", response_model=EngagementPublic)
def get_engagement(
    external_id: CustomerId, caller: CrmOrStorefront, session: SessionDep, default: DefaultMode
) -> EngagementPublic:
    """Per journey phase: the stated mode, what behaviour shows, and the mode in force with why."""
    return service.get_engagement(session, caller.tenant_id, external_id, default(session, caller.tenant_id))
