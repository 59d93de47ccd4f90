"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from service.migrate import current_revision, head_revision
from service.models import metadata

# SQLite numbers rows only through a one-column primary key, so its surrogate ids stay the rowid and the
# tables others refer to carry these unique (tenant_id, id) indexes in place of the models' primary keys.
SQLITE_PARENT_KEYS = {"uq_customers_tenant_id_id", "uq_experiments_tenant_id_id", "uq_runs_tenant_id_id"}


def ours(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave out the queue library's tables (its own, not the models') and SQLite's parent keys."""
    if type_ == "table":
        return not (name or "").startswith("procrastinate_")
    return not (type_ == "index" and name in SQLITE_PARENT_KEYS)


def test_upgrade_from_empty_reaches_head(db) -> None:
    assert current_revision(db.engine) == head_revision()


def test_models_and_migrations_agree(db) -> None:
    with db.engine.connect() as connection:
        opts = {"compare_type": True, "include_name": ours}
        context = MigrationContext.configure(connection, opts=opts)
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_sqlite_parent_keys_exist_only_there(db) -> None:
    """The parents' unique (tenant_id, id) indexes are SQLite's; PostgreSQL's primary keys are those."""
    inspector = sa.inspect(db.engine)
    tables = ("customers", "experiments", "runs")
    indexes = {ix["name"] for table in tables for ix in inspector.get_indexes(table)}
    assert indexes & SQLITE_PARENT_KEYS == (SQLITE_PARENT_KEYS if db.backend == "sqlite" else set())
