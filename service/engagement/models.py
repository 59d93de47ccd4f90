"""Stated engagement preferences and the engagement observed in behaviour, per journey phase."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.db import BigId, UTCDateTime, utcnow
from service.tenancy.models import owned_by, tenant_fk, tenant_key


class EngagementPreference(SQLModel, table=True):
    """The mode of service a customer says they want in one journey phase."""

    __tablename__ = "engagement_preferences"
    __table_args__ = (tenant_key("customer_id", "journey_phase"), owned_by("customer_id", "customers"))

    customer_id: int = Field(sa_type=BigId, primary_key=True)
    journey_phase: str = Field(max_length=100, primary_key=True)
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    mode: str = Field(max_length=20)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EngagementObservation(SQLModel, table=True):
    """The customer's latest self-service signals in one journey phase, counted by a scoring run."""

    __tablename__ = "engagement_observations"
    __table_args__ = (
        tenant_key("customer_id", "journey_phase"),
        owned_by("customer_id", "customers"),
        owned_by("run_id", "runs"),
    )

    customer_id: int = Field(sa_type=BigId, primary_key=True)
    journey_phase: str = Field(max_length=100, primary_key=True)
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    run_id: int = Field(sa_type=BigId)
    completed: int = 0
    abandoned: int = 0
    called: int = 0
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
