"""API keys expire and record their last use; key changes notify serving; tenant_id in every key

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-02 00:00:00.000000

On PostgreSQL, a change to a key's revocation, expiry, role or hash, or its deletion, sends
`k <tenant>` on the channel `tailorwise_serving` at commit (by the service or by SQL by hand), and
every serving process drops that tenant's cached keys. last_used_at writes do not notify.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOTIFY_KEYS = """
CREATE FUNCTION tailorwise_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tailorwise_serving', 'k ' || COALESCE(NEW.tenant_id, OLD.tenant_id));
    RETURN NULL;
END $$
"""
_KEY_CHANGED = (
    "OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at"
    " OR OLD.role IS DISTINCT FROM NEW.role OR OLD.key_hash IS DISTINCT FROM NEW.key_hash"
    " OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id"
)


def upgrade() -> None:
    """Add api_keys.expires_at and last_used_at; on PostgreSQL, notify key changes."""
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_NOTIFY_KEYS)
    op.execute(
        "CREATE TRIGGER tailorwise_keys_update AFTER UPDATE ON api_keys FOR EACH ROW"
        f" WHEN ({_KEY_CHANGED}) EXECUTE FUNCTION tailorwise_keys_changed()"
    )
    op.execute(
        "CREATE TRIGGER tailorwise_keys_delete AFTER DELETE ON api_keys FOR EACH ROW"
        " EXECUTE FUNCTION tailorwise_keys_changed()"
    )


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tailorwise_keys_update ON api_keys")
        op.execute("DROP TRIGGER tailorwise_keys_delete ON api_keys")
        op.execute("DROP FUNCTION tailorwise_keys_changed()")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
