"""Schedules: set and read them (audited), and start the runs that are due."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.audit import service as audit
from service.auth import Caller
from service.config import Settings
from service.db import session_scope, utcnow
from service.errors import Conflict, NotFound
from service.jobs import schedules_repository as repository
from service.jobs.models import Run, Schedule
from service.jobs.timing import next_time
from service.recommendations import service as recommendations
from service.recommendations.training import TRAINING
from service.tailoring import service as tailoring
from service.workloads.schedule_schemas import SchedulePublic, SchedulePut

logger = logging.getLogger("tailorwise.schedules")
SCHEDULER = "schedule"
# How a scheduled run of each kind is queued: every attribute scored, training with today's settings.
QUEUERS: dict[str, Callable[[Session, int, Settings], Run]] = {
    tailoring.SCORING: lambda session, tenant_id, _: tailoring.queue_run(session, tenant_id, None, None),
    TRAINING: lambda session, tenant_id, settings: recommendations.queue_training(
        session, tenant_id, None, settings
    ),
}


def _public(schedule: Schedule) -> SchedulePublic:
    return SchedulePublic.model_validate(schedule, from_attributes=True)


def _known(kind: str) -> None:
    if kind not in QUEUERS:
        raise NotFound(f"No kind of run {kind!r}: one of {', '.join(sorted(QUEUERS))}.")


def list_schedules(session: Session, tenant_id: int) -> list[SchedulePublic]:
    """The tenant's schedules."""
    return [_public(s) for s in repository.of_tenant(session, tenant_id)]


def put_schedule(session: Session, caller: Caller, kind: str, body: SchedulePut) -> SchedulePublic:
    """Set when a kind of run starts by itself; the first run is due one period from now."""
    _known(kind)
    schedule = repository.get(session, caller.tenant_id, kind)
    before = _public(schedule).model_dump(mode="json") if schedule is not None else None
    now = utcnow()
    schedule = schedule or Schedule(tenant_id=caller.tenant_id, kind=kind, next_run_at=now, updated_by="")
    schedule.cron, schedule.every_seconds = body.cron, body.every_seconds
    schedule.next_run_at = next_time(body.cron, body.every_seconds, now)
    schedule.updated_by, schedule.updated_at = audit.actor_of(caller), now
    after = _public(repository.save(session, schedule))
    audit.record(
        session, caller.tenant_id, caller, "schedule.put", kind, before, after.model_dump(mode="json")
    )
    return after


def delete_schedule(session: Session, caller: Caller, kind: str) -> None:
    """Stop a kind of run starting by itself."""
    _known(kind)
    schedule = repository.get(session, caller.tenant_id, kind)
    if schedule is None:
        raise NotFound(f"No {kind} schedule.")
    before = _public(schedule).model_dump(mode="json")
    repository.delete(session, schedule)
    audit.record(session, caller.tenant_id, caller, "schedule.delete", kind, before, None)


def fire_due(engine: Engine, settings: Settings, now: datetime | None = None) -> Sequence[tuple[int, str]]:
    """Queue a run for every due schedule (each fired by one process only); the (run id, kind) queued.

    A schedule whose tenant already has a run of its kind queued or running moves on without one.
    """
    now = now or utcnow()
    with session_scope(engine) as session:
        due = repository.due(session, now)
    queued: list[tuple[int, str]] = []
    for schedule in due:
        with session_scope(engine) as session:
            following = next_time(schedule.cron, schedule.every_seconds, max(now, schedule.next_run_at))
            if not repository.advance(session, schedule, following):
                continue
            try:
                run = QUEUERS[schedule.kind](session, schedule.tenant_id, settings)
            except Conflict:
                logger.info(
                    "schedule %s of tenant %s skipped: a run is active", schedule.kind, schedule.tenant_id
                )
                continue
            run.requested_by = SCHEDULER
            repository.fired(session, schedule.tenant_id, schedule.kind, run.id or 0)
            queued.append((run.id or 0, run.kind))
    return queued
