"""Queries of the audit log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from service.audit.models import AuditRecord


def add(session: Session, record: AuditRecord) -> None:
    """Stage an audit record."""
    session.add(record)


def page(
    session: Session, tenant_id: int, before_id: int | None, limit: int, action: str | None
) -> Sequence[AuditRecord]:
    """The tenant's newest records first, older than a cursor, optionally of one action."""
    query = select(AuditRecord).where(AuditRecord.tenant_id == tenant_id)
    if before_id is not None:
        query = query.where(col(AuditRecord.id) < before_id)
    if action:
        query = query.where(AuditRecord.action == action)
    return session.exec(query.order_by(col(AuditRecord.id).desc()).limit(limit)).all()
