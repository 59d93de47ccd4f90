"""Model versions keep the snapshot their training read saw

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 10:00:00.000000

A model version kept only the oldest transaction still open when its training read began; serving read
every event of that transaction or a younger one again, so while a long transaction stayed open, the
choices of every transaction committed after it started were counted twice (a purchase the model had
remembered counted once more, as made just now). The version now keeps the PostgreSQL snapshot of its
training read (`pg_current_snapshot()` as text), and serving reads only events that snapshot did not see.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the snapshot column (NULL for versions trained before: they serve as they did)."""
    with op.batch_alter_table("model_versions") as batch_op:
        batch_op.add_column(sa.Column("events_snapshot", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the snapshot column."""
    with op.batch_alter_table("model_versions") as batch_op:
        batch_op.drop_column("events_snapshot")
