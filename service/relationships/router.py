"""GET and PUT /v1/relationships/settings and /v1/customers/{external_id}/relationships."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from service.auth import CrmOrStorefront, Marketer
from service.db import SessionDep
from service.relationships import service
from service.relationships.schemas import (
    RelationshipSettingsPublic,
    RelationshipSettingsPut,
    RelationshipsPublic,
    RelationshipsPut,
)
from service.relationships.verdict import Verdicts

router = APIRouter(tags=["relationships"])
CustomerId = Annotated[str, Path(min_length=1, max_length=200, description="The caller's own customer id.")]


@router.get("/v1/relationships/settings", response_model=RelationshipSettingsPublic)
def get_settings(caller: Marketer, session: SessionDep) -> RelationshipSettingsPublic:
    """The journey phases' default relationship types and the decline cool-off."""
    return service.get_settings(session, caller.tenant_id)


@router.put("/v1/relationships/settings", response_model=RelationshipSettingsPublic)
def put_settings(
    body: RelationshipSettingsPut, caller: Marketer, session: SessionDep
) -> RelationshipSettingsPublic:
    """Replace the settings; each phase's relationship is scored as attribute relationship:<phase>."""
    return service.put_settings(session, caller, body)


@router.put("/v1/customers/{external_id}/relationships", response_model=RelationshipsPublic)
def put_relationships(
    external_id: CustomerId,
    body: RelationshipsPut,
    caller: CrmOrStorefront,
    session: SessionDep,
    verdicts: Verdicts,
) -> RelationshipsPublic:
    """Replace the customer's stated relationship type (top-down, co-created, ...) per journey phase."""
    return service.put_relationships(session, caller.tenant_id, external_id, body, verdicts)


@router.get("/v1/customers/{external_id}/relationships", response_model=RelationshipsPublic)
def get_relationships(
    external_id: CustomerId, caller: CrmOrStorefront, session: SessionDep, verdicts: Verdicts
) -> RelationshipsPublic:
    """Per journey phase: the stated type, what behaviour shows, and the type offered with why."""
    return service.get_relationships(session, caller.tenant_id, external_id, verdicts)
