"""Tenant and API key tables, and the keys every tenant-owned table is built from.

A tenant-owned table's primary key, unique constraints and foreign keys all start with tenant_id, so the
schema can be distributed by tenant (docs/scale.md). SQLite keeps a surrogate id as its rowid (its only
way to number rows); the migrations give it unique (tenant_id, id) indexes to refer to instead.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, UTCDateTime, utcnow


def tenant_fk(primary_key: bool = False) -> Any:
    """A tenant_id column referencing tenants, deleted with its tenant (part of the primary key if asked)."""
    return sa.Column(
        BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=primary_key, nullable=False
    )


def surrogate_id() -> Any:
    """A numbered id, second in its table's (tenant_id, id) primary key."""
    return sa.Column(BigId, primary_key=True, autoincrement=True)


def tenant_key(*columns: str) -> sa.PrimaryKeyConstraint:
    """A tenant-owned table's primary key: tenant_id, then `columns` (default: the surrogate id)."""
    return sa.PrimaryKeyConstraint("tenant_id", *(columns or ("id",)))


def owned_by(column: str, parent: str) -> sa.ForeignKeyConstraint:
    """(tenant_id, column) referencing a tenant-owned parent's (tenant_id, id), deleted with it."""
    return sa.ForeignKeyConstraint(
        ["tenant_id", column], [f"{parent}.tenant_id", f"{parent}.id"], ondelete="CASCADE"
    )


class Role(StrEnum):
    """What a key may do."""

    admin = "admin"
    crm = "crm"
    storefront = "storefront"
    marketer = "marketer"


class Tenant(SQLModel, table=True):
    """A customer of Tailorwise: a shop with its own customers, catalog and settings."""

    __tablename__ = "tenants"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    default_personalization_consent: bool = True
    default_profiling_consent: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """A hashed API key bound to one tenant and one role."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    tenant_id: int = Field(
        sa_column=sa.Column(
            BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    role: str = Field(max_length=20)
    prefix: str = Field(max_length=12)
    key_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DashboardSession(SQLModel, table=True):
    """A signed-in dashboard session: its cookie id's hash, the key it was opened with, its CSRF token."""

    __tablename__ = "dashboard_sessions"

    id_hash: str = Field(max_length=64, primary_key=True)
    tenant_id: int = Field(sa_column=tenant_fk())
    key_id: int = Field(
        sa_column=sa.Column(
            BigId, sa.ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    csrf: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
