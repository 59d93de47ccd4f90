"""Creating tenants and issuing keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

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


def issue_key(session: Session, tenant_name: str, role: str) -> IssuedKey:
    """Create a random key for a tenant and role; only its hash is stored."""
    tenant = repository.get_tenant_by_name(session, tenant_name)
    if tenant is None or tenant.id is None:
        raise NotFound(f"No tenant named {tenant_name!r}.")
    try:
        parsed_role = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise Unprocessable(f"Unknown role {role!r}; use one of {allowed}.") from None
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(tenant_id=tenant.id, role=parsed_role.value, prefix=key[:10], key_hash=hash_key(key))
    repository.add(session, row)
    return IssuedKey(key=key, tenant_id=tenant.id, role=parsed_role)


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
