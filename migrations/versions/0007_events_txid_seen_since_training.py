"""events carry their writing transaction's id; model versions the training read's horizon

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 21:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.drop_index("ix_events_tenant_customer_item")
        batch_op.drop_index("ix_events_customer")
        batch_op.create_index("ix_events_customer_txid", ["customer_id", "txid"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE events ALTER COLUMN txid SET DEFAULT pg_current_xact_id()::text::bigint")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("events_before_txid", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("events_before_txid")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_customer_txid")
        batch_op.create_index("ix_events_customer", ["customer_id"], unique=False)
        batch_op.create_index(
            "ix_events_tenant_customer_item", ["tenant_id", "customer_id", "item_id"], unique=False
        )
        batch_op.drop_column("txid")
