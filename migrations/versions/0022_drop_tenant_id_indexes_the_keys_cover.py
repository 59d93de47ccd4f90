"""drop the tenant_id indexes of customer_values and engagement_observations: their primary keys lead with it

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 12:10:00.000000

Since 0021 both tables' primary keys start with tenant_id, so a tenant's rows are found through the
key; the separate indexes only cost every write (a scoring run rewrites both tables for a tenant).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "customer_values": "ix_customer_values_tenant_id",
    "engagement_observations": "ix_engagement_observations_tenant_id",
}


def upgrade() -> None:
    """Drop both indexes."""
    for table, index in INDEXES.items():
        op.drop_index(index, table_name=table)


def downgrade() -> None:
    """Create them again."""
    for table, index in INDEXES.items():
        op.create_index(index, table, ["tenant_id"])
