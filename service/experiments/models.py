"""Experiment and exposure tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, JsonColumn, UTCDateTime, utcnow
from service.tenancy.models import owned_by, surrogate_id, tenant_fk, tenant_key

RUNNING = "running"
STOPPED = "stopped"


class Experiment(SQLModel, table=True):
    """A randomized holdout over one scope, with its goal, guardrails and latest verdict."""

    __tablename__ = "experiments"
    __table_args__ = (
        tenant_key(),
        # At most one running experiment per scope of a tenant.
        sa.Index(
            "uq_experiments_running_scope",
            "tenant_id",
            "scope_key",
            unique=True,
            postgresql_where=sa.text("status = 'running'"),
            sqlite_where=sa.text("status = 'running'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=surrogate_id())
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    name: str = Field(max_length=100)
    scope_kind: str = Field(max_length=20)
    scope_target: str | None = Field(default=None, max_length=100)
    scope_key: str = Field(max_length=130)
    holdout_share: float
    assignment: str = Field(max_length=10)
    salt: str = Field(max_length=64)
    goal: dict[str, Any] = Field(sa_type=JsonColumn)
    guardrails: list[dict[str, Any]] = Field(default_factory=list, sa_type=JsonColumn)
    auto_stop: bool = False
    status: str = Field(default=RUNNING, max_length=10)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verdict: str | None = Field(default=None, max_length=20)
    verdict_reason: str | None = Field(default=None, max_length=500)
    verdict_note: str | None = Field(default=None, max_length=500)
    verdict_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    switched_off_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Exposure(SQLModel, table=True):
    """A customer's first exposure to an experiment's arm (the later ones are not kept)."""

    __tablename__ = "experiment_exposures"
    __table_args__ = (
        tenant_key("experiment_id", "customer_id"),
        owned_by("experiment_id", "experiments"),
        owned_by("customer_id", "customers"),
        sa.Index("ix_experiment_exposures_customer", "customer_id"),
    )

    experiment_id: int = Field(sa_type=BigId, primary_key=True)
    customer_id: int = Field(sa_type=BigId, primary_key=True)
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    arm: str = Field(max_length=10)
    exposed_at: datetime = Field(sa_type=UTCDateTime)
