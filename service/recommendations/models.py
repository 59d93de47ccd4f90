"""Model versions: one trained LightFM model, its popular lists and its gate decision per row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, JsonColumn, UTCDateTime, utcnow
from service.tenancy.models import owned_by, surrogate_id, tenant_fk, tenant_key


class ModelVersion(SQLModel, table=True):
    """One published model of a tenant: artifacts, held-out metrics and the serving strategy."""

    __tablename__ = "model_versions"
    __table_args__ = (
        tenant_key(),
        owned_by("run_id", "runs"),
        sa.Index("ix_model_versions_tenant_id_id", "tenant_id", "id"),
    )

    id: int | None = Field(default=None, sa_column=surrogate_id())
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    run_id: int = Field(sa_type=BigId, index=True)
    strategy: str = Field(max_length=20)
    artifact: bytes = Field(sa_type=sa.LargeBinary)
    popularity: bytes = Field(sa_type=sa.LargeBinary)
    # The repeat model (each customer's own items by frequency and recency); None before it existed.
    memory: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    metrics: dict[str, Any] = Field(sa_type=JsonColumn)
    gate: dict[str, Any] = Field(sa_type=JsonColumn)
    features: dict[str, Any] = Field(sa_type=JsonColumn)
    params: dict[str, Any] = Field(sa_type=JsonColumn)
    # Every event of a transaction older than this was in the training read (None: not known).
    events_before_txid: int | None = Field(default=None, sa_type=sa.BigInteger)
    # PostgreSQL: the snapshot the training read saw, as text; its events are in the model.
    events_snapshot: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
