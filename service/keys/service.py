"""Listing, creating, revoking and rotating a tenant's keys, each change audited."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from service.audit import service as audit
from service.auth import Caller
from service.db import utcnow
from service.keys.schemas import KeyIssued, KeyPublic, KeyRotated
from service.tenancy import service as tenancy
from service.tenancy.models import ApiKey, Role
from service.tenancy.service import IssuedKey


def public(row: ApiKey, now: datetime | None = None) -> KeyPublic:
    """A key row as listed, with its status now."""
    now = now or utcnow()
    status = (
        "revoked" if row.revoked_at else "expired" if row.expires_at and row.expires_at <= now else "active"
    )
    assert row.id is not None
    return KeyPublic(
        id=row.id,
        prefix=row.prefix,
        role=Role(row.role),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        status=status,  # type: ignore[arg-type]
    )


def issued(key: IssuedKey) -> KeyIssued:
    """A new key as shown once."""
    return KeyIssued(id=key.key_id, key=key.key, role=key.role, expires_at=key.expires_at)


def list_keys(session: Session, tenant_id: int) -> list[KeyPublic]:
    """The tenant's keys, oldest first."""
    now = utcnow()
    return [public(row, now) for row in tenancy.list_keys(session, tenant_id)]


def create(
    session: Session, tenant_id: int, caller: Caller | None, role: Role, expires_at: datetime | None
) -> KeyIssued:
    """Issue a key of a role for the tenant."""
    key = tenancy.issue_key_for(session, tenant_id, role.value, expires_at)
    after = {"role": role.value, "expires_at": None if expires_at is None else expires_at.isoformat()}
    audit.record(session, tenant_id, caller, "key.created", f"key:{key.key_id}", None, after)
    return issued(key)


def revoke(session: Session, tenant_id: int, caller: Caller | None, key_id: int) -> KeyPublic:
    """Revoke a key now."""
    row = tenancy.revoke_key(session, tenant_id, key_id)
    audit.record(session, tenant_id, caller, "key.revoked", f"key:{key_id}", None, {"revoked": True})
    return public(row)


def rotate(
    session: Session, tenant_id: int, caller: Caller | None, key_id: int, grace: timedelta
) -> KeyRotated:
    """A new key of the same role; the old one works for `grace` more."""
    new, old = tenancy.rotate_key(session, tenant_id, key_id, grace)
    assert old.expires_at is not None
    after = {"replaced_by": f"key:{new.key_id}", "expires_at": old.expires_at.isoformat()}
    audit.record(session, tenant_id, caller, "key.rotated", f"key:{key_id}", None, after)
    return KeyRotated(key=issued(new), previous=public(old))
