"""A snapshot gives a later test the very rows and next ids the first one left."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from service.db import session_scope
from service.tenancy import service as tenancy
from tests import snapshots
from tests.conftest import _empty_all


def contents(db: Any) -> list[tuple[Any, ...]]:
    """Tenants and keys as stored."""
    with db.engine.connect() as connection:
        tenants = connection.exec_driver_sql("SELECT id, name FROM tenants ORDER BY id").all()
        keys = connection.exec_driver_sql("SELECT id, tenant_id, role FROM api_keys ORDER BY id").all()
    return [tuple(row) for row in tenants + keys]


def emptied(db: Any) -> None:
    """Every table emptied and its ids restarted, as the next test's database is."""
    if db.backend == "postgres":
        _empty_all(db.engine)
        return
    with db.engine.begin() as connection:
        for table in ("api_keys", "tenants", "sqlite_sequence"):
            connection.exec_driver_sql(f"DELETE FROM {table}")


def test_rows_and_next_ids_come_back(db) -> None:
    with session_scope(db.engine) as session:
        for name in ("one", "two"):
            tenancy.create_tenant(session, name, personalization_by_default=True)
            tenancy.issue_key(session, name, "marketer")
    before = contents(db)
    snapshot = snapshots.take(db)
    try:
        emptied(db)
        assert contents(db) == []
        snapshots.restore(db, snapshot)
    finally:
        snapshot.close()
    assert contents(db) == before
    with session_scope(db.engine) as session:
        third = tenancy.create_tenant(session, "three", personalization_by_default=True)
    assert third.id == max(row[0] for row in before[:2]) + 1
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM tenants")).scalar() == 3
