"""model versions keep the repeat model (each customer's own items by frequency and recency)

Revision ID: 0012
Revises: 0013
Create Date: 2026-12-02 17:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("memory", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("memory")
