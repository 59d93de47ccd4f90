"""Queries on tenants and API keys."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.tenancy.models import ApiKey, Tenant


def get_tenant_by_name(session: Session, name: str) -> Tenant | None:
    """The tenant with this name, if any."""
    return session.exec(select(Tenant).where(Tenant.name == name)).first()


def get_tenant(session: Session, tenant_id: int) -> Tenant | None:
    """The tenant with this id, if any."""
    return session.get(Tenant, tenant_id)


def add(session: Session, row: Tenant | ApiKey) -> None:
    """Stage a new tenant or key and assign its id."""
    session.add(row)
    session.flush()


def find_active_key(session: Session, key_hash: str) -> ApiKey | None:
    """The unrevoked key with this hash, if any."""
    query = select(ApiKey).where(ApiKey.key_hash == key_hash, col(ApiKey.revoked_at).is_(None))
    return session.exec(query).first()
