"""The runs table (one row per scoring or training job) and the schedules that start them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, JsonColumn, UTCDateTime, utcnow
from service.tenancy.models import surrogate_id, tenant_fk, tenant_key

ACTIVE = sa.text("status IN ('queued', 'running')")


class Run(SQLModel, table=True):
    """A job with its status, progress and outcome."""

    __tablename__ = "runs"
    __table_args__ = (
        tenant_key(),
        sa.Index("ix_runs_tenant_kind_id", "tenant_id", "kind", "id"),
        # The queue knows a run by its id alone.
        sa.Index("ix_runs_id", "id"),
        # At most one queued or running run per tenant and kind.
        sa.Index(
            "uq_runs_tenant_kind_active",
            "tenant_id",
            "kind",
            unique=True,
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        ),
    )

    id: int | None = Field(default=None, sa_column=surrogate_id())
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    kind: str = Field(max_length=20)
    status: str = Field(default="queued", max_length=20)
    progress: float = 0.0
    message: str | None = Field(default=None, max_length=500)
    error: str | None = Field(default=None, max_length=2000)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JsonColumn)
    summary: dict[str, Any] | None = Field(default=None, sa_type=JsonColumn)
    requested_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Runs executed by an API process or the CLI: lost (and failed or taken over) once this passes.
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Schedule(SQLModel, table=True):
    """When a tenant's runs of a kind start by themselves: a cron expression or an interval."""

    __tablename__ = "schedules"

    tenant_id: int = Field(
        sa_column=sa.Column(
            BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    kind: str = Field(max_length=20, primary_key=True)
    cron: str | None = Field(default=None, max_length=100)
    every_seconds: int | None = None
    next_run_at: datetime = Field(sa_type=UTCDateTime, index=True)
    last_run_id: int | None = Field(default=None, sa_type=BigId)
    updated_by: str = Field(max_length=100)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
