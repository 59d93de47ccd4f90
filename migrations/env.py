"""Alembic environment: runs migrations online against the configured URL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from service.models import metadata

config = context.config


def run_migrations() -> None:
    """Migrate inside one transaction (batch mode lets SQLite alter tables)."""
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            _configure_and_run(connection)
        engine.dispose()
    else:
        _configure_and_run(connectable)


def _configure_and_run(connection: sa.Connection) -> None:
    """Run the migrations on one connection."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
