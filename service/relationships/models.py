"""The tenant's relationship settings and each customer's stated relationship per journey phase."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, JsonColumn, UTCDateTime, utcnow
from service.tenancy.models import owned_by, tenant_fk, tenant_key

DEFAULT_EXIT_RAMP_LABEL = "Let us take it from here"


class RelationshipSettings(SQLModel, table=True):
    """A tenant's phases with their default types and the decline cool-off (absent row: defaults)."""

    __tablename__ = "relationship_settings"

    tenant_id: int = Field(
        sa_column=sa.Column(BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    )
    phases: list[dict[str, Any]] = Field(default_factory=list, sa_type=JsonColumn)
    decline_cooloff_days: int = 30
    exit_ramp_label: str = Field(default=DEFAULT_EXIT_RAMP_LABEL, max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RelationshipPreference(SQLModel, table=True):
    """The relationship type a customer says they want in one journey phase."""

    __tablename__ = "relationship_preferences"
    __table_args__ = (tenant_key("customer_id", "journey_phase"), owned_by("customer_id", "customers"))

    customer_id: int = Field(sa_type=BigId, primary_key=True)
    journey_phase: str = Field(max_length=100, primary_key=True)
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    type: str = Field(max_length=20)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
