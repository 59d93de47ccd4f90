"""Queries of the runs table."""

from __future__ import annotations

from collections.abc import Collection, Sequence
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


def update_running(session: Session, run_id: int, **values: Any) -> bool:
    """Set fields of a run still running; False when it is not (its lease lapsed and it was failed)."""
    statement = sa.update(Run).where(col(Run.id) == run_id, col(Run.status) == "running").values(**values)
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def renew(session: Session, run_ids: Collection[int], until: datetime) -> None:
    """Extend the leases of queued or running runs to `until`."""
    if run_ids:
        statement = sa.update(Run).where(col(Run.id).in_(run_ids), col(Run.status).in_(ACTIVE))
        session.execute(statement.values(lease_until=until))


def _lapsed(now: datetime, unleased_before: datetime | None) -> sa.ColumnElement[bool]:
    """Queued or running with a lease passed (or, given `unleased_before`, never leased and older)."""
    lapsed: sa.ColumnElement[bool] = col(Run.lease_until) < now
    if unleased_before is not None:
        never_leased = sa.and_(col(Run.lease_until).is_(None), col(Run.created_at) < unleased_before)
        lapsed = sa.or_(lapsed, never_leased)
    return sa.and_(col(Run.status).in_(ACTIVE), lapsed)


def lapsed(session: Session, now: datetime, unleased_before: datetime | None) -> list[tuple[int, str, str]]:
    """Id, kind and status of every run whose lease lapsed, oldest first."""
    query = select(Run.id, Run.kind, Run.status).where(_lapsed(now, unleased_before)).order_by(col(Run.id))
    return [(i, kind, status) for i, kind, status in session.exec(query).all() if i is not None]


def take_lapsed(
    session: Session, run_id: int, was: str, now: datetime, unleased_before: datetime | None, **values: Any
) -> bool:
    """Set fields of a run if it still has this status and a lapsed lease (one process wins); whether so."""
    lapsed_now = _lapsed(now, unleased_before)
    statement = sa.update(Run).where(col(Run.id) == run_id, col(Run.status) == was, lapsed_now)
    return bool(session.execute(statement.values(**values)).rowcount)  # type: ignore[attr-defined]


def queued_ids(session: Session, kind: str) -> list[int]:
    """Ids of the queued runs of a kind, oldest first."""
    query = select(Run.id).where(Run.kind == kind, Run.status == "queued").order_by(col(Run.id))
    return [i for i in session.exec(query).all() if i is not None]


def by_id(session: Session, run_id: int) -> Run | None:
    """A run found by its id alone (the queue knows runs by id)."""
    return session.exec(select(Run).where(Run.id == run_id)).first()


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
