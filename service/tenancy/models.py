"""Tenant and API key tables, and the tenant_id column every tenant-owned table carries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, UTCDateTime, utcnow


def tenant_fk() -> Any:
    """A tenant_id column referencing tenants, deleted with its tenant."""
    return sa.Column(BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


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
