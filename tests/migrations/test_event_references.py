"""Migration 0023: events refer to tenants only through their customers, which still holds them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from service.migrate import alembic_config, upgrade
from tests.migrations.conftest import TWO_TENANTS, run_statements


@pytest.fixture
def engine(database_at: tuple[str, str]) -> Iterator[sa.Engine]:
    """An engine on a database migrated to head with two tenants' customers and events."""
    backend, url = database_at
    upgrade(url)
    run_statements(url, TWO_TENANTS)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA foreign_keys=ON"))
    yield engine
    engine.dispose()


def events_of(engine: sa.Engine) -> list[str]:
    """Every stored event_id."""
    with engine.connect() as connection:
        return sorted(connection.execute(sa.text("SELECT event_id FROM events")).scalars())


def references(engine: sa.Engine) -> list[tuple[str, ...]]:
    """The columns of each foreign key of events."""
    return sorted(tuple(fk["constrained_columns"]) for fk in sa.inspect(engine).get_foreign_keys("events"))


@pytest.mark.parametrize("tenant_id", [2, 3], ids=["another-tenant", "no-tenant"])
def test_an_event_outside_its_customers_tenant_is_refused(engine: sa.Engine, tenant_id: int) -> None:
    event = f"""INSERT INTO events (tenant_id, customer_id, event_id, type, weight, occurred_at)
        VALUES ({tenant_id}, 10, 'e-x', 'purchase', 1.0, '2026-01-03')"""
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.text(event))
    assert events_of(engine) == ["e-1", "e-2"]


def test_a_deleted_tenant_takes_its_events_through_its_customers(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM tenants WHERE id = 1"))
    assert events_of(engine) == ["e-2"]


def test_the_downgrade_gives_back_the_reference_and_the_index(database_at: tuple[str, str]) -> None:
    _backend, url = database_at
    upgrade(url)
    command.downgrade(alembic_config(url), "0022")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    assert references(engine) == [("tenant_id",), ("tenant_id", "customer_id")]
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("events")}
    assert {"ix_events_tenant_customer_time", "ix_events_customer_txid"} <= indexes
    upgrade(url)
    assert references(engine) == [("tenant_id", "customer_id")]
    engine.dispose()
