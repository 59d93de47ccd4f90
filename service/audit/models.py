"""The audit log table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, JsonColumn, UTCDateTime, utcnow


class AuditRecord(SQLModel, table=True):
    """One change made through the API or the CLI."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_tenant_id_id", "tenant_id", "id"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    tenant_id: int = Field(
        sa_column=sa.Column(BigId, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    )
    actor: str = Field(max_length=100)
    action: str = Field(max_length=100)
    target: str | None = Field(default=None, max_length=200)
    before: dict[str, Any] | None = Field(default=None, sa_type=JsonColumn)
    after: dict[str, Any] | None = Field(default=None, sa_type=JsonColumn)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
