"""Customer value, touchpoint policy and treatment settings tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, JsonColumn, UTCDateTime, utcnow
from service.tenancy.models import owned_by, surrogate_id, tenant_fk, tenant_key

DEFAULT_EXIT_RAMP = {"channel": "phone", "label": "Talk to a person"}


class TreatmentSettings(SQLModel, table=True):
    """A tenant's treatment settings (absent row: the built-in defaults)."""

    __tablename__ = "treatment_settings"

    tenant_id: int = Field(
        sa_column=sa.Column(BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    )
    # No column default: the ORM would write it in place of an explicit None (score events only).
    value_trait: str | None = Field(
        default="lifetime_value", max_length=100, sa_column_kwargs={"default": None}
    )
    purchase_types: list[str] = Field(default_factory=lambda: ["purchase"], sa_type=JsonColumn)
    recency_half_life_days: float = 90.0
    default_engagement_mode: str = Field(default="self-service", max_length=20)
    exit_ramp: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_EXIT_RAMP), sa_type=JsonColumn)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Touchpoint(SQLModel, table=True):
    """Where the business meets a customer, with the treatment rules that apply there."""

    __tablename__ = "touchpoints"
    __table_args__ = (tenant_key(), sa.UniqueConstraint("tenant_id", "name"))

    id: int | None = Field(default=None, sa_column=surrogate_id())
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    name: str = Field(max_length=100)
    journey_phase: str = Field(max_length=100)
    attributes: list[str] = Field(default_factory=list, sa_type=JsonColumn)
    mode: str = Field(max_length=10)
    rules: list[dict[str, Any]] = Field(default_factory=list, sa_type=JsonColumn)
    exit_ramp: dict[str, Any] | None = Field(default=None, sa_type=JsonColumn)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CustomerValue(SQLModel, table=True):
    """A customer's value score and percentile rank among the tenant's profiled customers."""

    __tablename__ = "customer_values"
    __table_args__ = (
        tenant_key("customer_id"),
        owned_by("customer_id", "customers"),
        owned_by("run_id", "runs"),
    )

    customer_id: int = Field(sa_type=BigId, primary_key=True)
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    run_id: int = Field(sa_type=BigId)
    source: str = Field(max_length=10)
    value: float | None = None
    percentile: float
    recency_days: float | None = None
    frequency: int = 0
    monetary: float = 0.0
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
