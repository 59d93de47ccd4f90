"""Queries of the schedules table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.jobs.models import Schedule


def get(session: Session, tenant_id: int, kind: str) -> Schedule | None:
    """The tenant's schedule of a kind."""
    return session.get(Schedule, (tenant_id, kind))


def of_tenant(session: Session, tenant_id: int) -> Sequence[Schedule]:
    """The tenant's schedules by kind."""
    return session.exec(
        select(Schedule).where(Schedule.tenant_id == tenant_id).order_by(col(Schedule.kind))
    ).all()


def save(session: Session, schedule: Schedule) -> Schedule:
    """Stage a new or changed schedule."""
    session.add(schedule)
    session.flush()
    return schedule


def delete(session: Session, schedule: Schedule) -> None:
    """Remove a schedule."""
    session.delete(schedule)
    session.flush()


def due(session: Session, now: datetime, limit: int = 100) -> Sequence[Schedule]:
    """Schedules whose next run is due, the longest overdue first."""
    query = select(Schedule).where(col(Schedule.next_run_at) <= now).order_by(col(Schedule.next_run_at))
    return session.exec(query.limit(limit)).all()


def advance(session: Session, schedule: Schedule, next_run_at: datetime) -> bool:
    """Move a due schedule to its next time, unless another process did first (False then)."""
    statement = (
        sa.update(Schedule)
        .where(
            col(Schedule.tenant_id) == schedule.tenant_id,
            col(Schedule.kind) == schedule.kind,
            col(Schedule.next_run_at) == schedule.next_run_at,
        )
        .values(next_run_at=next_run_at)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def fired(session: Session, tenant_id: int, kind: str, run_id: int) -> None:
    """Note the run a schedule started last."""
    statement = (
        sa.update(Schedule)
        .where(col(Schedule.tenant_id) == tenant_id, col(Schedule.kind) == kind)
        .values(last_run_id=run_id)
    )
    session.execute(statement)
