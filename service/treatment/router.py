"""HTTP endpoints of treatment: touchpoints, treatment settings, and a customer's treatment."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlmodel import Session
from starlette.datastructures import QueryParams

from service.auth import Marketer, Storefront
from service.db import SessionDep, in_session_thread
from service.errors import Unprocessable, field_error
from service.schemas import NAME_PATTERN
from service.treatment import customer_treatment, service
from service.treatment.schemas import (
    TouchpointPublic,
    TouchpointPut,
    TreatmentDecision,
    TreatmentSettingsPublic,
    TreatmentSettingsPut,
)

router = APIRouter(tags=["treatment"])
TouchpointName = Annotated[str, Path(min_length=1, max_length=100, pattern=NAME_PATTERN)]
_NAME = re.compile(NAME_PATTERN)
_DECISION_JSON = TreatmentDecision.__pydantic_serializer__
# The treatment's `touchpoint`: read by hand (no pydantic on the hot path), documented as FastAPI would.
TOUCHPOINT_PARAMETER = {
    "name": "touchpoint",
    "in": "query",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": NAME_PATTERN},
    "description": "The touchpoint's name.",
}


def touchpoint_of(params: QueryParams) -> str:
    """The `touchpoint` query parameter, or a 422 problem naming it."""
    name = params.get("touchpoint")
    if name is None:
        problem = "Field required"
    elif not 1 <= len(name) <= 100 or _NAME.fullmatch(name) is None:
        problem = f"String should match pattern '{NAME_PATTERN}' and have 1 to 100 characters"
    else:
        return name
    raise Unprocessable("1 field(s) are invalid.", errors=[field_error("query.touchpoint", problem)])


# Matched first of the domain's routes: storefronts call it on every contact.
@router.get(
    "/v1/customers/{external_id}/treatment",
    response_model=TreatmentDecision,
    openapi_extra={"parameters": [TOUCHPOINT_PARAMETER]},
)
async def get_treatment(
    external_id: Annotated[str, Path(min_length=1, max_length=200)], caller: Storefront, request: Request
) -> Response:
    """Priority, routing, recognition, engagement mode, exit ramp and attribute values, each with why.

    On PostgreSQL a worker keeps each answer until a change notification says what it was decided
    from changed (see docs/treatment.md, kept answers).
    """
    touchpoint = touchpoint_of(request.query_params)
    serving = request.app.state.treatment_serving
    if serving is not None:
        body = await serving.decision(caller.tenant_id, external_id, touchpoint)
        return Response(body, media_type="application/json")

    def decide(session: Session) -> bytes:
        decision = customer_treatment.decide(session, caller.tenant_id, external_id, touchpoint)
        return _DECISION_JSON.to_json(decision)

    return Response(await in_session_thread(request.app.state.engine, decide), media_type="application/json")


@router.get("/v1/touchpoints", response_model=list[TouchpointPublic])
def list_touchpoints(caller: Marketer, session: SessionDep) -> list[TouchpointPublic]:
    """Every touchpoint with its journey phase, attributes, mode and rules."""
    return service.list_touchpoints(session, caller.tenant_id)


@router.get("/v1/touchpoints/{name}", response_model=TouchpointPublic)
def get_touchpoint(name: TouchpointName, caller: Marketer, session: SessionDep) -> TouchpointPublic:
    """One touchpoint."""
    return service.get_touchpoint(session, caller.tenant_id, name)


@router.put("/v1/touchpoints/{name}", response_model=TouchpointPublic)
def put_touchpoint(
    name: TouchpointName, body: TouchpointPut, caller: Marketer, session: SessionDep, response: Response
) -> TouchpointPublic:
    """Create or replace a touchpoint and its treatment rules (narrowest tier first; the first match wins)."""
    touchpoint, created = service.put_touchpoint(session, caller.tenant_id, caller, name, body)
    response.status_code = 201 if created else 200
    return touchpoint


@router.delete("/v1/touchpoints/{name}", status_code=204)
def delete_touchpoint(name: TouchpointName, caller: Marketer, session: SessionDep) -> Response:
    """Delete a touchpoint."""
    service.delete_touchpoint(session, caller, name)
    return Response(status_code=204)


@router.get("/v1/treatment/settings", response_model=TreatmentSettingsPublic)
def get_settings(caller: Marketer, session: SessionDep) -> TreatmentSettingsPublic:
    """How customer value is scored, the default engagement mode and the exit ramp."""
    return service.get_settings(session, caller.tenant_id)


@router.put("/v1/treatment/settings", response_model=TreatmentSettingsPublic)
def put_settings(
    body: TreatmentSettingsPut, caller: Marketer, session: SessionDep
) -> TreatmentSettingsPublic:
    """Replace the treatment settings; value settings apply from the next scoring run."""
    return service.put_settings(session, caller, body)
