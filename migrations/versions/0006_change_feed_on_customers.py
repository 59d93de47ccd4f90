"""change feed positions on the customers themselves; customer_changes keeps tombstones only

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# On PostgreSQL the database fills both positions of every written row (SQLite: the application).
TXID_DEFAULT = "pg_current_xact_id()::text::bigint"
SEQ_DEFAULT = "nextval('customer_changes_id_seq')"


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feed_txid", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("feed_seq", sa.BigInteger(), server_default="0", nullable=False))
    op.execute(
        "UPDATE customers SET feed_txid = (SELECT f.txid FROM customer_changes f WHERE f.tenant_id ="
        " customers.tenant_id AND f.external_id = customers.external_id AND NOT f.deleted),"
        " feed_seq = (SELECT f.id FROM customer_changes f WHERE f.tenant_id = customers.tenant_id"
        " AND f.external_id = customers.external_id AND NOT f.deleted)"
        " WHERE EXISTS (SELECT 1 FROM customer_changes f WHERE f.tenant_id = customers.tenant_id"
        " AND f.external_id = customers.external_id AND NOT f.deleted)"
    )
    op.execute("DELETE FROM customer_changes WHERE NOT deleted")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_feed", ["tenant_id", "feed_txid", "feed_seq"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE customers ALTER COLUMN feed_txid SET DEFAULT {TXID_DEFAULT}")
        op.execute(f"ALTER TABLE customers ALTER COLUMN feed_seq SET DEFAULT {SEQ_DEFAULT}")


def downgrade() -> None:
    """Revert this revision: the live customers' positions go back to feed rows."""
    op.execute(
        "INSERT INTO customer_changes (tenant_id, external_id, txid, deleted, changed_at)"
        " SELECT tenant_id, external_id, feed_txid, false, updated_at FROM customers"
        " WHERE NOT EXISTS (SELECT 1 FROM customer_changes f WHERE f.tenant_id = customers.tenant_id"
        " AND f.external_id = customers.external_id)"
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_feed")
        batch_op.drop_column("feed_seq")
        batch_op.drop_column("feed_txid")
