"""HTTP endpoints of GDPR access and erasure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from service.auth import Crm
from service.db import SessionDep
from service.privacy import service
from service.privacy.schemas import CustomerExport, ErasureResult

router = APIRouter(tags=["privacy"])
CustomerId = Annotated[str, Path(min_length=1, max_length=200, description="The caller's own customer id.")]


@router.get("/v1/customers/{external_id}/export", response_model=CustomerExport)
def export_customer(external_id: CustomerId, caller: Crm, session: SessionDep) -> CustomerExport:
    """Everything stored about the customer (GDPR access)."""
    return service.export_customer(session, caller.tenant_id, external_id)


@router.delete("/v1/customers/{external_id}", response_model=ErasureResult)
def erase_customer(external_id: CustomerId, caller: Crm, session: SessionDep) -> ErasureResult:
    """Erase the customer with preferences and events, at once."""
    return service.erase_customer(session, caller.tenant_id, caller, external_id)
