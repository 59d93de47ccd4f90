"""Customer, preference, event and change-feed tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.db import BigId, JsonColumn, UTCDateTime, utcnow
from service.tenancy.models import owned_by, surrogate_id, tenant_fk, tenant_key


def filled_in() -> Any:
    """A bigint the database fills: on PostgreSQL its default is the writing transaction's id or a
    sequence's next number (migrations 0006, 0007); on SQLite it is 0 unless the application sets it."""
    return sa.Column(sa.BigInteger, nullable=False, server_default="0")


class Customer(SQLModel, table=True):
    """One customer of a tenant, addressed by the tenant's own external id.

    (feed_txid, feed_seq) is the customer's place in the change feed: the writing transaction's id
    and a number from the feed's sequence, moved to the head on every change. On PostgreSQL both are
    column defaults, so an upsert places its rows in the feed without another statement.
    """

    __tablename__ = "customers"
    __table_args__ = (
        tenant_key(),
        sa.UniqueConstraint("tenant_id", "external_id"),
        sa.Index("ix_customers_feed", "tenant_id", "feed_txid", "feed_seq"),
        # Experiment results leave out the few customers who withdrew consent: an anti-join on this.
        sa.Index(
            "ix_customers_without_consent",
            "id",
            postgresql_where=sa.text("NOT consent_personalization"),
            sqlite_where=sa.text("NOT consent_personalization"),
        ),
    )

    id: int | None = Field(default=None, sa_column=surrogate_id())
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    external_id: str = Field(max_length=200)
    traits: dict[str, Any] = Field(default_factory=dict, sa_type=JsonColumn)
    consent_personalization: bool = True
    consent_profiling: bool = True
    source_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    feed_txid: int | None = Field(default=None, sa_column=filled_in())
    feed_seq: int | None = Field(default=None, sa_column=filled_in())


class Preference(SQLModel, table=True):
    """A stated (or CRM-provided, or inferred) preference of a customer for an attribute value."""

    __tablename__ = "preferences"
    __table_args__ = (
        tenant_key(),
        owned_by("customer_id", "customers"),
        sa.UniqueConstraint("tenant_id", "customer_id", "attribute", "value"),
    )

    id: int | None = Field(default=None, sa_column=surrogate_id())
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    customer_id: int = Field(sa_type=BigId)
    attribute: str = Field(max_length=100)
    value: str = Field(max_length=200)
    weight: float = 1.0
    source: str = Field(max_length=20)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Event(SQLModel, table=True):
    """A choice event: a customer viewed, bought, rated or chose an item or attribute value."""

    __tablename__ = "events"
    __table_args__ = (
        tenant_key(),
        owned_by("customer_id", "customers"),
        sa.UniqueConstraint("tenant_id", "event_id"),
        # A customer's events: serving reads those after the model's training read (a range of txid);
        # export, erasure, treatment and relationships read them all.
        sa.Index("ix_events_tenant_customer_txid", "tenant_id", "customer_id", "txid"),
        # Experiment results merge-join a metric's events in customer order with the exposures, reading
        # only this index (weight included: a sum needs no visit to the table).
        sa.Index(
            "ix_events_tenant_type_customer_time",
            "tenant_id",
            "type",
            "customer_id",
            "occurred_at",
            postgresql_include=["weight"],
        ),
    )

    id: int | None = Field(default=None, sa_column=surrogate_id())
    # No reference to tenants of its own: the customer's is enough (migration 0023).
    tenant_id: int = Field(sa_column=sa.Column(BigId, primary_key=True, nullable=False))
    customer_id: int = Field(sa_type=BigId)
    event_id: str = Field(max_length=200)
    type: str = Field(max_length=40)
    item_id: str | None = Field(default=None, max_length=200)
    attribute: str | None = Field(default=None, max_length=100)
    value: str | None = Field(default=None, max_length=200)
    weight: float = 1.0
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    txid: int | None = Field(default=None, sa_column=filled_in())


class CustomerChange(SQLModel, table=True):
    """Tombstones of erased customers in the change feed (one row an erased external id).

    Its ids come from the same sequence as the customers' feed_seq, so that the feed's two sources
    interleave in one order; a tombstone whose customer exists again is no longer served.
    """

    __tablename__ = "customer_changes"
    __table_args__ = (
        tenant_key(),
        sa.UniqueConstraint("tenant_id", "external_id"),
        sa.Index("ix_customer_changes_feed", "tenant_id", "txid", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, sa_column=surrogate_id())
    tenant_id: int = Field(sa_column=tenant_fk(primary_key=True))
    external_id: str = Field(max_length=200)
    txid: int = Field(default=0, sa_type=sa.BigInteger)
    deleted: bool = False
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
