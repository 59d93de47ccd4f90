"""Stated engagement preferences and the engagement observed in behaviour, per journey phase."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, UTCDateTime, utcnow
from service.tenancy.models import tenant_fk


def _customer_key() -> sa.Column[int]:
    """A customer_id that is part of the primary key and is erased with its customer."""
    return sa.Column(BigId, sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)


class EngagementPreference(SQLModel, table=True):
    """The mode of service a customer says they want in one journey phase."""

    __tablename__ = "engagement_preferences"

    customer_id: int = Field(sa_column=_customer_key())
    journey_phase: str = Field(max_length=100, primary_key=True)
    tenant_id: int = Field(sa_column=tenant_fk())
    mode: str = Field(max_length=20)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EngagementObservation(SQLModel, table=True):
    """The customer's latest self-service signals in one journey phase, counted by a scoring run."""

    __tablename__ = "engagement_observations"
    __table_args__ = (sa.Index("ix_engagement_observations_tenant_id", "tenant_id"),)

    customer_id: int = Field(sa_column=_customer_key())
    journey_phase: str = Field(max_length=100, primary_key=True)
    tenant_id: int = Field(sa_column=tenant_fk())
    run_id: int = Field(
        sa_column=sa.Column(BigId, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)
    )
    completed: int = 0
    abandoned: int = 0
    called: int = 0
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
