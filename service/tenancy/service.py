"""Creating tenants and issuing keys."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from service.db import utcnow
from service.errors import Conflict, NotFound, Unprocessable, field_error
from service.tenancy import repository
from service.tenancy.models import ApiKey, DashboardSession, Role, Tenant

KEY_PREFIX = "tw_"


def hash_key(key: str) -> str:
    """SHA-256 of a key: keys are 256-bit random, so a fast hash is the right tool."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    """A key as shown once at creation."""

    key: str
    tenant_id: int
    role: Role
    key_id: int
    expires_at: datetime | None = None


def create_tenant(session: Session, name: str, *, personalization_by_default: bool = True) -> Tenant:
    """Create a tenant; names are unique."""
    name = name.strip()
    if not name:
        raise Unprocessable("A tenant needs a name.", errors=[field_error("name", "empty")])
    if repository.get_tenant_by_name(session, name) is not None:
        raise Conflict(f"Tenant {name!r} already exists.")
    tenant = Tenant(name=name, default_personalization_consent=personalization_by_default)
    repository.add(session, tenant)
    return tenant


def issue_key(session: Session, tenant_name: str, role: str, expires_at: datetime | None = None) -> IssuedKey:
    """Create a random key for a tenant and role, optionally expiring; only its hash is stored."""
    return issue_key_for(session, tenant_id_of(session, tenant_name), role, expires_at)


def issue_key_for(session: Session, tenant_id: int, role: str, expires_at: datetime | None) -> IssuedKey:
    """Create a random key of a role for a tenant, optionally expiring."""
    try:
        parsed_role = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise Unprocessable(f"Unknown role {role!r}; use one of {allowed}.") from None
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at is not None and expires_at <= utcnow():
        raise Unprocessable("A key cannot expire in the past.", errors=[field_error("expires_at", "past")])
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        tenant_id=tenant_id,
        role=parsed_role.value,
        prefix=key[:10],
        key_hash=hash_key(key),
        expires_at=expires_at,
    )
    repository.add(session, row)
    assert row.id is not None
    return IssuedKey(key=key, tenant_id=tenant_id, role=parsed_role, key_id=row.id, expires_at=expires_at)


def list_keys(session: Session, tenant_id: int) -> Sequence[ApiKey]:
    """The tenant's keys, revoked and expired ones included, oldest first."""
    return repository.list_keys(session, tenant_id)


def _live_key(session: Session, tenant_id: int, key_id: int) -> ApiKey:
    """The tenant's key, unrevoked (404 otherwise)."""
    row = repository.get_key(session, tenant_id, key_id)
    if row is None:
        raise NotFound(f"No key {key_id} for this tenant.")
    if row.revoked_at is not None:
        raise Conflict(f"Key {key_id} is already revoked.")
    return row


def revoke_key(session: Session, tenant_id: int, key_id: int) -> ApiKey:
    """Revoke a key now; every server process drops it when the change is committed (see KeyCache)."""
    row = _live_key(session, tenant_id, key_id)
    row.revoked_at = utcnow()
    session.add(row)
    session.flush()
    return row


def rotate_key(session: Session, tenant_id: int, key_id: int, grace: timedelta) -> tuple[IssuedKey, ApiKey]:
    """A new key of the old one's role; the old one expires after `grace` (sooner if it already would)."""
    old = _live_key(session, tenant_id, key_id)
    ends = utcnow() + grace
    old.expires_at = ends if old.expires_at is None else min(old.expires_at, ends)
    session.add(old)
    issued = issue_key_for(session, tenant_id, old.role, None)
    return issued, old


def tenant_id_of(session: Session, tenant_name: str) -> int:
    """The id of the tenant with this name (404 otherwise)."""
    tenant = repository.get_tenant_by_name(session, tenant_name)
    if tenant is None or tenant.id is None:
        raise NotFound(f"No tenant named {tenant_name!r}.")
    return tenant.id


@dataclass(frozen=True)
class SignedIn:
    """A live dashboard session: the key it was opened with, its tenant and role, its CSRF token."""

    key_id: int
    tenant_id: int
    role: Role
    csrf: str
    expires_at: datetime


def open_session(session: Session, key_id: int, tenant_id: int, ttl_seconds: float) -> tuple[str, str]:
    """A new dashboard session for a key: its id (the cookie; only its hash is stored) and CSRF token."""
    now = utcnow()
    repository.delete_sessions(session, None, now)
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    repository.add(
        session,
        DashboardSession(
            id_hash=hash_key(session_id),
            tenant_id=tenant_id,
            key_id=key_id,
            csrf=csrf,
            expires_at=now + timedelta(seconds=ttl_seconds),
        ),
    )
    return session_id, csrf


def find_session(session: Session, session_id: str) -> SignedIn | None:
    """The live session with this id: unexpired and its key not revoked; else None."""
    found = repository.live_session(session, hash_key(session_id), utcnow())
    if found is None:
        return None
    row, key = found
    return SignedIn(row.key_id, row.tenant_id, Role(key.role), row.csrf, row.expires_at)


def close_session(session: Session, session_id: str) -> None:
    """End a dashboard session (and forget expired ones)."""
    repository.delete_sessions(session, hash_key(session_id), utcnow())
