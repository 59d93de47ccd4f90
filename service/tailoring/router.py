"""HTTP endpoints of tailoring: runs, decisions, settings, overrides, customer plans."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request

from service.auth import Marketer, MarketerOrStorefront, Storefront
from service.db import SessionDep
from service.jobs import service as jobs
from service.jobs.schemas import RunPublic
from service.pagination import RowId
from service.schemas import Page
from service.tailoring import service
from service.tailoring.schemas import (
    AttributeTailoringPut,
    DecisionPublic,
    RunCreate,
    SettingsPublic,
    SettingsPut,
    TailoringPlan,
)

router = APIRouter(tags=["tailoring"])
AttributeName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.post("/v1/tailoring/runs", response_model=RunPublic, status_code=202)
def start_run(
    body: RunCreate, caller: Marketer, session: SessionDep, request: Request, background: BackgroundTasks
) -> Any:
    """Queue a scoring run; poll it at /v1/tailoring/runs/{id}."""
    run = service.queue_run(session, caller.tenant_id, caller, body.attribute)
    background.add_task(request.app.state.job_runner.submit, run.id, run.kind)
    return run


@router.get("/v1/tailoring/runs/{run_id}", response_model=RunPublic)
def get_run(run_id: RowId, caller: Marketer, session: SessionDep) -> Any:
    """A scoring run's status, progress and outcome."""
    return jobs.get_run(session, caller.tenant_id, service.SCORING, run_id)


@router.get("/v1/tailoring/runs", response_model=Page[RunPublic])
def list_runs(
    caller: Marketer,
    session: SessionDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[Any]:
    """The tenant's scoring runs, newest first (results of every succeeded run are kept)."""
    return jobs.runs_page(session, caller.tenant_id, service.SCORING, cursor, limit)


@router.get("/v1/tailoring/attributes", response_model=list[DecisionPublic])
def list_decisions(caller: MarketerOrStorefront, session: SessionDep) -> list[DecisionPublic]:
    """Every scored attribute: tailor or not, at which level, with figures and a reason."""
    return service.list_decisions(session, caller.tenant_id)


@router.get("/v1/tailoring/attributes/{name}", response_model=DecisionPublic)
def get_decision(name: AttributeName, caller: MarketerOrStorefront, session: SessionDep) -> DecisionPublic:
    """One attribute's decision with its figures and reason."""
    return service.get_decision(session, caller.tenant_id, name)


@router.get("/v1/tailoring/settings", response_model=SettingsPublic)
def get_settings(caller: Marketer, session: SessionDep) -> SettingsPublic:
    """The tenant's tailoring defaults."""
    return service.get_settings(session, caller.tenant_id)


@router.put("/v1/tailoring/settings", response_model=SettingsPublic)
def put_settings(body: SettingsPut, caller: Marketer, session: SessionDep) -> SettingsPublic:
    """Replace the tenant's defaults; decisions change at once, without rescoring (k: next run)."""
    return service.put_settings(session, caller, body)


@router.put("/v1/attributes/{name}/tailoring")
def put_attribute_tailoring(
    name: AttributeName, body: AttributeTailoringPut, caller: Marketer, session: SessionDep
) -> dict[str, Any]:
    """Set an attribute's business inputs (f, u, c), tau override and mode (auto, always, never)."""
    return service.put_attribute_tailoring(session, caller, name, body)


@router.get("/v1/customers/{external_id}/tailoring", response_model=TailoringPlan)
def get_plan(
    external_id: Annotated[str, Path(min_length=1, max_length=200)],
    caller: Storefront,
    session: SessionDep,
    top: Annotated[int, Query(ge=1, le=20)] = 3,
) -> TailoringPlan:
    """The customer's tailoring plan: own values where tailoring pays, defaults elsewhere, each with why."""
    return service.plan_for(session, caller.tenant_id, external_id, top)
