"""HTTP endpoints of treatment: touchpoints, treatment settings, and a customer's treatment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlmodel import Session

from service.auth import Marketer, Storefront
from service.db import SessionDep, in_session_thread
from service.schemas import Name
from service.treatment import customer_treatment, service
from service.treatment.schemas import (
    TouchpointPublic,
    TouchpointPut,
    TreatmentDecision,
    TreatmentSettingsPublic,
    TreatmentSettingsPut,
)

router = APIRouter(tags=["treatment"])
TouchpointName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


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


_DECISION_JSON = TreatmentDecision.__pydantic_serializer__


@router.get("/v1/customers/{external_id}/treatment", response_model=TreatmentDecision)
async def get_treatment(
    external_id: Annotated[str, Path(min_length=1, max_length=200)],
    touchpoint: Annotated[Name, Query(description="The touchpoint's name.")],
    caller: Storefront,
    request: Request,
) -> Response:
    """Priority, routing, recognition, engagement mode, exit ramp and attribute values, each with why.

    On PostgreSQL a worker keeps each answer until a change notification says what it was decided
    from changed (see docs/treatment.md, kept answers).
    """
    serving = request.app.state.treatment_serving
    if serving is not None:
        body = await serving.decision(caller.tenant_id, external_id, touchpoint)
        return Response(body, media_type="application/json")

    def decide(session: Session) -> bytes:
        decision = customer_treatment.decide(session, caller.tenant_id, external_id, touchpoint)
        return _DECISION_JSON.to_json(decision)

    return Response(await in_session_thread(request.app.state.engine, decide), media_type="application/json")
