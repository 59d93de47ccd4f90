"""PostgreSQL: each schema's change notifications on a channel of its own

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 19:00:00.000000

Notifications go to every listener of the database, whatever its schema. Two deployments in one
database (a schema each, as the tests run too) shared the channel `tailorwise_serving`, and their tenant
ids overlap, so changes of one dropped the other's kept reads. The channel is now `tailorwise_serving`
in the schema public and `tailorwise_serving_` with 12 hex digits of the schema name's MD5 in any other;
the triggers' functions name it, and `tailorwise_channel()` tells the service where to listen.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARED = "tailorwise_serving"
# This schema's functions whose source names a channel.
_NOTIFYING = sa.text("""
SELECT pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema() AND p.prosrc LIKE :pattern
""")


def channel_of(schema: str) -> str:
    """The notification channel of a schema."""
    if schema == "public":
        return SHARED
    return f"{SHARED}_{hashlib.md5(schema.encode(), usedforsecurity=False).hexdigest()[:12]}"


def _move(bind: sa.Connection, old: str, new: str) -> None:
    """Redefine every function of this schema notifying channel `old` to notify `new`."""
    if old == new:
        return
    for (definition,) in bind.execute(_NOTIFYING, {"pattern": f"%'{old}'%"}).all():
        bind.exec_driver_sql(definition.replace(f"'{old}'", f"'{new}'"))


def upgrade() -> None:
    """Notify on this schema's own channel, and tell it."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    channel = channel_of(bind.execute(sa.text("SELECT current_schema()")).scalar_one())
    op.execute(
        "CREATE FUNCTION tailorwise_channel() RETURNS text LANGUAGE sql IMMUTABLE"
        f" AS $$ SELECT '{channel}'::text $$"
    )
    _move(bind, SHARED, channel)


def downgrade() -> None:
    """Notify on the shared channel again."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _move(bind, channel_of(bind.execute(sa.text("SELECT current_schema()")).scalar_one()), SHARED)
    op.execute("DROP FUNCTION tailorwise_channel()")
