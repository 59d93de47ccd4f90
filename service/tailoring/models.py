"""Tenant tailoring settings and per-attribute scoring results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, JsonColumn, UTCDateTime, utcnow
from service.tenancy.models import owned_by, surrogate_id, tenant_fk, tenant_key


class TailoringSettings(SQLModel, table=True):
    """A tenant's defaults for the scorer's decision (absent row: the built-in defaults)."""

    __tablename__ = "tailoring_settings"

    tenant_id: int = Field(
        sa_column=sa.Column(BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    )
    tau: float = 0.01
    k: int | None = None
    min_customers: int = 30
    min_events_per_customer: float = 3.0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AttributeResult(SQLModel, table=True):
    """What one scoring run measured for one attribute (kept as history)."""

    __tablename__ = "attribute_results"
    __table_args__ = (
        tenant_key(),
        owned_by("run_id", "runs"),
        sa.Index("ix_attribute_results_tenant_attribute_id", "tenant_id", "attribute", "id"),
    )

    id: int | None = Field(default=None, sa_column=surrogate_id())
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    run_id: int = Field(sa_type=BigId, index=True)
    attribute: str = Field(max_length=100)
    score: dict[str, Any] = Field(sa_type=JsonColumn)
    value_labels: list[str] = Field(sa_type=JsonColumn)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
