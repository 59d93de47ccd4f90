"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from service.migrate import current_revision, head_revision
from service.models import metadata


def not_procrastinate(name: str | None, type_: str, parent_names: object) -> bool:
    """The queue library's tables are its own, not the models'."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def test_upgrade_from_empty_reaches_head(db) -> None:
    assert current_revision(db.engine) == head_revision()


def test_models_and_migrations_agree(db) -> None:
    with db.engine.connect() as connection:
        opts = {"compare_type": True, "include_name": not_procrastinate}
        context = MigrationContext.configure(connection, opts=opts)
        diff = compare_metadata(context, metadata)
    assert diff == []
