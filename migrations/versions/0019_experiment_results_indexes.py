"""experiment results indexes: events by (tenant, type, customer, time) with weight; customers without consent

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITHOUT_CONSENT = sa.text("NOT consent_personalization")


def upgrade() -> None:
    """Add the covering events index (weight included on PostgreSQL) and the partial customers index."""
    op.create_index(
        "ix_events_tenant_type_customer_time",
        "events",
        ["tenant_id", "type", "customer_id", "occurred_at"],
        unique=False,
        postgresql_include=["weight"],
    )
    op.create_index(
        "ix_customers_without_consent",
        "customers",
        ["id"],
        unique=False,
        postgresql_where=WITHOUT_CONSENT,
        sqlite_where=WITHOUT_CONSENT,
    )


def downgrade() -> None:
    """Drop both indexes."""
    op.drop_index("ix_customers_without_consent", table_name="customers")
    op.drop_index("ix_events_tenant_type_customer_time", table_name="events")
