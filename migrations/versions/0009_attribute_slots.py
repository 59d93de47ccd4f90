"""Each attribute's slots; the tenant-wide k becomes optional (null: slots by the number of values)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add attributes.slots; let tailoring_settings.k be null."""
    with op.batch_alter_table("attributes") as batch:
        batch.add_column(sa.Column("slots", sa.Integer(), nullable=True))
    with op.batch_alter_table("tailoring_settings") as batch:
        batch.alter_column("k", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Drop attributes.slots; k back to required (3 where null)."""
    op.execute("UPDATE tailoring_settings SET k = 3 WHERE k IS NULL")
    with op.batch_alter_table("tailoring_settings") as batch:
        batch.alter_column("k", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("attributes") as batch:
        batch.drop_column("slots")
