"""Queries of the runs table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.db import utcnow
from service.jobs.models import Run

ACTIVE = ("queued", "running")


def add(session: Session, run: Run) -> Run | None:
    """Stage a run and assign its id; None when the tenant already has a queued or running one."""
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except sa.exc.IntegrityError:
        return None
    return run


def active(session: Session, tenant_id: int, kind: str) -> Run | None:
    """The tenant's queued or running run of a kind."""
    query = select(Run).where(Run.tenant_id == tenant_id, Run.kind == kind, col(Run.status).in_(ACTIVE))
    return session.exec(query).first()


def active_of_tenant(session: Session, tenant_id: int) -> Sequence[Run]:
    """The tenant's queued and running runs of every kind, oldest first."""
    query = select(Run).where(Run.tenant_id == tenant_id, col(Run.status).in_(ACTIVE))
    return session.exec(query.order_by(col(Run.id))).all()


def get(session: Session, tenant_id: int, kind: str, run_id: int) -> Run | None:
    """The tenant's run of a kind with this id."""
    query = select(Run).where(Run.tenant_id == tenant_id, Run.kind == kind, Run.id == run_id)
    return session.exec(query).first()


def page(session: Session, tenant_id: int, kind: str, before_id: int | None, limit: int) -> Sequence[Run]:
    """The tenant's runs of a kind, newest first."""
    query = select(Run).where(Run.tenant_id == tenant_id, Run.kind == kind)
    if before_id is not None:
        query = query.where(col(Run.id) < before_id)
    return session.exec(query.order_by(col(Run.id).desc()).limit(limit)).all()


def claim(session: Session, run_id: int, reclaim: bool = False) -> bool:
    """Move a queued run to running (or, reclaiming, a running one again); False when it is not there."""
    statement = (
        sa.update(Run)
        .where(col(Run.id) == run_id, col(Run.status).in_(ACTIVE if reclaim else ("queued",)))
        .values(status="running", started_at=utcnow(), progress=0.0)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def update(session: Session, run_id: int, **values: Any) -> None:
    """Set fields of a run."""
    session.execute(sa.update(Run).where(col(Run.id) == run_id).values(**values))


def queued_ids(session: Session, kind: str) -> list[int]:
    """Ids of the queued runs of a kind, oldest first."""
    query = select(Run.id).where(Run.kind == kind, Run.status == "queued").order_by(col(Run.id))
    return [i for i in session.exec(query).all() if i is not None]


def kind_of(session: Session, run_id: int) -> str | None:
    """The kind of a run."""
    return session.exec(select(Run.kind).where(Run.id == run_id)).first()


def queued_by_kind(session: Session) -> list[tuple[str, int, datetime | None]]:
    """Per kind: how many runs are queued and when the oldest was created."""
    query = (
        select(Run.kind, sa.func.count(), sa.func.min(Run.created_at))
        .where(Run.status == "queued")
        .group_by(Run.kind)
    )
    return [(kind, int(count), oldest) for kind, count, oldest in session.exec(query).all()]
