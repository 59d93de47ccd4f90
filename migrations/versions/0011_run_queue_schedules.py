"""run queue (procrastinate's schema, PostgreSQL only), one active run per tenant and kind, schedules

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 00:00:00.000000

Runs queued or running before this revision beyond the newest of a tenant and kind are failed, so
that the partial unique index can hold. procrastinate's schema is the one of the version installed
when this revision runs; a later procrastinate upgrade brings its own SQL migrations, applied by a
later revision of ours.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('queued', 'running')"
_FAIL_DUPLICATES = f"""
UPDATE runs SET status = 'failed', error = 'Superseded: another run of its kind was active.'
WHERE {ACTIVE} AND id NOT IN (SELECT max(id) FROM runs WHERE {ACTIVE} GROUP BY tenant_id, kind)
"""
_DROP_PROCRASTINATE = """
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT p.oid::regprocedure::text FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proname LIKE 'procrastinate%' AND n.nspname = current_schema()
    LOOP
        EXECUTE 'DROP FUNCTION ' || name || ' CASCADE';
    END LOOP;
END $$;
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status CASCADE;
"""


def upgrade() -> None:
    """Apply this revision."""
    op.execute(_FAIL_DUPLICATES)
    op.create_index(
        "uq_runs_tenant_kind_active",
        "runs",
        ["tenant_id", "kind"],
        unique=True,
        postgresql_where=sa.text(ACTIVE),
        sqlite_where=sa.text(ACTIVE),
    )
    op.create_table(
        "schedules",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=True),
        sa.Column("every_seconds", sa.Integer(), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_schedules_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "kind", name="pk_schedules"),
    )
    op.create_index("ix_schedules_next_run_at", "schedules", ["next_run_at"])
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        # The raw driver cursor: the script holds % and : that SQLAlchemy would take for parameters.
        cursor = op.get_bind().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(SchemaManager.get_schema())


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_DROP_PROCRASTINATE)
    op.drop_index("ix_schedules_next_run_at", table_name="schedules")
    op.drop_table("schedules")
    op.drop_index("uq_runs_tenant_kind_active", table_name="runs")
