"""The audit log table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import JsonColumn, UTCDateTime, utcnow
from service.tenancy.models import surrogate_id, tenant_fk, tenant_key


class AuditRecord(SQLModel, table=True):
    """One change made through the API or the CLI."""

    __tablename__ = "audit_log"
    __table_args__ = (tenant_key(), sa.Index("ix_audit_log_tenant_id_id", "tenant_id", "id"))

    id: int | None = Field(default=None, sa_column=surrogate_id())
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    actor: str = Field(max_length=100)
    action: str = Field(max_length=100)
    target: str | None = Field(default=None, max_length=200)
    before: dict[str, Any] | None = Field(default=None, sa_type=JsonColumn)
    after: dict[str, Any] | None = Field(default=None, sa_type=JsonColumn)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
