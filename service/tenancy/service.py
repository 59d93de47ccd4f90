"""Creating tenants and issuing keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session

from service.errors import Conflict, NotFound, Unprocessable, field_error
from service.tenancy import repository
from service.tenancy.models import ApiKey, Role, Tenant

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
