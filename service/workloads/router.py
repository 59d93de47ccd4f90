"""HTTP endpoints of schedules: when a tenant's scoring and training runs start by themselves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from service.auth import Marketer
from service.db import SessionDep
from service.workloads import schedules
from service.workloads.schedule_schemas import SchedulePublic, SchedulePut

router = APIRouter(tags=["schedules"])
Kind = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[a-z_]+$")]


@router.get("/v1/schedules", response_model=list[SchedulePublic])
def list_schedules(caller: Marketer, session: SessionDep) -> list[SchedulePublic]:
    """The tenant's schedules, by kind of run."""
    return schedules.list_schedules(session, caller.tenant_id)


@router.put("/v1/schedules/{kind}", response_model=SchedulePublic)
def put_schedule(kind: Kind, body: SchedulePut, caller: Marketer, session: SessionDep) -> SchedulePublic:
    """Start runs of a kind (scoring, training) by a cron expression (UTC) or an interval; audited."""
    return schedules.put_schedule(session, caller, kind, body)


@router.delete("/v1/schedules/{kind}", status_code=204)
def delete_schedule(kind: Kind, caller: Marketer, session: SessionDep) -> Response:
    """Stop runs of a kind starting by themselves; audited."""
    schedules.delete_schedule(session, caller, kind)
    return Response(status_code=204)
