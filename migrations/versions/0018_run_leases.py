"""runs.lease_until: when a run executed by an API process (or the CLI) is taken as lost unless renewed

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add runs.lease_until."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop runs.lease_until."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("lease_until")
