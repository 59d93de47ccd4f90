"""Attribute, item and item-value tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, JsonColumn, UTCDateTime, utcnow
from service.tenancy.models import surrogate_id, tenant_fk, tenant_key


class Attribute(SQLModel, table=True):
    """A tenant's definition of one offering attribute and the scorer's business inputs for it."""

    __tablename__ = "attributes"
    __table_args__ = (tenant_key(), sa.UniqueConstraint("tenant_id", "name"))

    id: int | None = Field(default=None, sa_column=surrogate_id())
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    description: str = Field(default="", max_length=1000)
    bins: list[float] | None = Field(default=None, sa_type=JsonColumn)
    f: float = 1.0
    u: float = 1.0
    c: float = 0.0
    tau: float | None = None
    mode: str = Field(default="auto", max_length=10)
    slots: int | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Item(SQLModel, table=True):
    """One item of a tenant's catalog, addressed by the tenant's own item id."""

    __tablename__ = "items"
    __table_args__ = (
        tenant_key(),
        sa.UniqueConstraint("tenant_id", "item_id"),
        # The model cache asks which items changed since it last looked; every request asks which of
        # them are inactive now, from a partial index of inactive items alone.
        sa.Index("ix_items_tenant_updated_at", "tenant_id", "updated_at"),
        sa.Index(
            "ix_items_tenant_deactivated_at",
            "tenant_id",
            "updated_at",
            postgresql_where=sa.text("NOT active"),
            sqlite_where=sa.text("NOT active"),
        ),
    )

    id: int | None = Field(default=None, sa_column=surrogate_id())
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    item_id: str = Field(max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=JsonColumn)
    active: bool = True
    source_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ItemValue(SQLModel, table=True):
    """One value of one attribute of an item (binned for numeric attributes), for SQL aggregation."""

    __tablename__ = "item_values"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["tenant_id", "item_id"],
            ["items.tenant_id", "items.item_id"],
            ondelete="CASCADE",
            name="fk_item_values_tenant_id_items",
        ),
        sa.Index("ix_item_values_tenant_attribute_value", "tenant_id", "attribute", "value"),
    )

    tenant_id: int = Field(sa_type=BigId, primary_key=True)
    item_id: str = Field(max_length=200, primary_key=True)
    attribute: str = Field(max_length=100, primary_key=True)
    value: str = Field(max_length=200, primary_key=True)
