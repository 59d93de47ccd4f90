"""The runs table: one row per scoring or training job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, JsonColumn, UTCDateTime, utcnow


class Run(SQLModel, table=True):
    """A job with its status, progress and outcome."""

    __tablename__ = "runs"
    __table_args__ = (sa.Index("ix_runs_tenant_kind_id", "tenant_id", "kind", "id"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    tenant_id: int = Field(
        sa_column=sa.Column(BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    )
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
