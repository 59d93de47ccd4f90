"""Queries on tenants and API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from service.tenancy.models import ApiKey, DashboardSession, Tenant


def get_tenant_by_name(session: Session, name: str) -> Tenant | None:
    """The tenant with this name, if any."""
    return session.exec(select(Tenant).where(Tenant.name == name)).first()


def get_tenant(session: Session, tenant_id: int) -> Tenant | None:
    """The tenant with this id, if any."""
    return session.get(Tenant, tenant_id)


def add(session: Session, row: Tenant | ApiKey | DashboardSession) -> None:
    """Stage a new tenant, key or dashboard session (and assign its id)."""
    session.add(row)
    session.flush()


def find_active_key(session: Session, key_hash: str, now: datetime) -> ApiKey | None:
    """The unrevoked, unexpired key with this hash, if any."""
    query = select(ApiKey).where(
        ApiKey.key_hash == key_hash,
        col(ApiKey.revoked_at).is_(None),
        or_(col(ApiKey.expires_at).is_(None), col(ApiKey.expires_at) > now),
    )
    return session.exec(query).first()


def list_keys(session: Session, tenant_id: int) -> Sequence[ApiKey]:
    """The tenant's keys, oldest first."""
    return session.exec(select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(col(ApiKey.id))).all()


def get_key(session: Session, tenant_id: int, key_id: int) -> ApiKey | None:
    """The tenant's key with this id, if any (locked for update on PostgreSQL)."""
    query = select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id).with_for_update()
    return session.exec(query).first()


def touch_keys(session: Session, key_ids: Sequence[int], now: datetime, every: timedelta) -> None:
    """Set last_used_at of keys not marked used within `every` (one statement for all)."""
    session.execute(
        sa.update(ApiKey)
        .where(col(ApiKey.id).in_(key_ids))
        .where(or_(col(ApiKey.last_used_at).is_(None), col(ApiKey.last_used_at) < now - every))
        .values(last_used_at=now)
    )


def live_session(session: Session, id_hash: str, now: datetime) -> tuple[DashboardSession, ApiKey] | None:
    """An unexpired dashboard session whose key is still active, with that key."""
    query = (
        select(DashboardSession, ApiKey)
        .join(ApiKey, col(ApiKey.id) == DashboardSession.key_id)
        .where(
            DashboardSession.id_hash == id_hash,
            col(DashboardSession.expires_at) > now,
            col(ApiKey.revoked_at).is_(None),
            or_(col(ApiKey.expires_at).is_(None), col(ApiKey.expires_at) > now),
        )
    )
    found = session.exec(query).first()
    return None if found is None else (found[0], found[1])


def delete_sessions(session: Session, id_hash: str | None, expired_before: datetime) -> None:
    """Delete one dashboard session (by id hash) and every session expired before a time."""
    condition = col(DashboardSession.expires_at) <= expired_before
    if id_hash is not None:
        condition = sa.or_(condition, col(DashboardSession.id_hash) == id_hash)
    session.execute(sa.delete(DashboardSession).where(condition))
