"""Recording and reading audit records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from service.audit import repository
from service.audit.models import AuditRecord
from service.audit.schemas import AuditPublic
from service.auth import Caller
from service.pagination import cursor_id, id_page
from service.schemas import Page


def actor_of(caller: Caller | None) -> str:
    """How a caller is named in the log: its key id and role, or the CLI."""
    return "cli" if caller is None else f"key:{caller.key_id}:{caller.role.value}"


def record(
    session: Session,
    tenant_id: int,
    caller: Caller | None,
    action: str,
    target: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Log a change with its before and after."""
    repository.add(
        session,
        AuditRecord(
            tenant_id=tenant_id,
            actor=actor_of(caller),
            action=action,
            target=target,
            before=before,
            after=after,
        ),
    )


def page(
    session: Session, tenant_id: int, cursor: str | None, limit: int, action: str | None
) -> Page[AuditPublic]:
    """The tenant's audit records, newest first, optionally of one action."""
    rows = repository.page(session, tenant_id, cursor_id(cursor), limit, action)
    return id_page(rows, limit, _public)


def _public(rows: Sequence[AuditRecord]) -> list[AuditPublic]:
    """Records as their public model."""
    return [AuditPublic.model_validate(r, from_attributes=True) for r in rows]
