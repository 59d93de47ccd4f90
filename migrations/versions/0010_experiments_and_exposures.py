"""experiments and their customers' first exposures

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:30:13.054070
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "experiments",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scope_kind", sa.String(length=20), nullable=False),
        sa.Column("scope_target", sa.String(length=100), nullable=True),
        sa.Column("scope_key", sa.String(length=130), nullable=False),
        sa.Column("holdout_share", sa.Float(), nullable=False),
        sa.Column("assignment", sa.String(length=10), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("goal", JSON, nullable=False),
        sa.Column("guardrails", JSON, nullable=False),
        sa.Column("auto_stop", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verdict", sa.String(length=20), nullable=True),
        sa.Column("verdict_reason", sa.String(length=500), nullable=True),
        sa.Column("verdict_note", sa.String(length=500), nullable=True),
        sa.Column("verdict_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("switched_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_experiments_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
    )
    op.create_index(
        "uq_experiments_running_scope",
        "experiments",
        ["tenant_id", "scope_key"],
        unique=True,
        postgresql_where=RUNNING,
        sqlite_where=RUNNING,
    )
    op.create_table(
        "experiment_exposures",
        sa.Column("experiment_id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("arm", sa.String(length=10), nullable=False),
        sa.Column("exposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_experiment_exposures_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_experiment_exposures_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_experiment_exposures_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("experiment_id", "customer_id", name=op.f("pk_experiment_exposures")),
    )
    op.create_index("ix_experiment_exposures_customer", "experiment_exposures", ["customer_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_experiment_exposures_customer", table_name="experiment_exposures")
    op.drop_table("experiment_exposures")
    op.drop_index("uq_experiments_running_scope", table_name="experiments")
    op.drop_table("experiments")
