"""relationship settings per tenant and stated relationship types per customer and phase

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02 17:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "relationship_settings",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column(
            "phases",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("decline_cooloff_days", sa.Integer(), nullable=False),
        sa.Column("exit_ramp_label", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_relationship_settings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_relationship_settings")),
    )
    op.create_table(
        "relationship_preferences",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("journey_phase", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_relationship_preferences_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_relationship_preferences_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "journey_phase", name=op.f("pk_relationship_preferences")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("relationship_preferences")
    op.drop_table("relationship_settings")
