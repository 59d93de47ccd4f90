"""Migration 0021: keys start with tenant_id; rows survive it both ways; references stay in their tenant."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from service.migrate import alembic_config, upgrade
from tests.migrations.conftest import TWO_TENANTS, run_statements

ROWS = (
    TWO_TENANTS
    + """;
INSERT INTO preferences (tenant_id, customer_id, attribute, value, weight, source, updated_at)
    VALUES (1, 10, 'genre', 'jazz', 1.0, 'stated', '2026-01-02');
INSERT INTO runs (id, tenant_id, kind, status, progress, params, requested_by, created_at)
    VALUES (5, 1, 'scoring', 'succeeded', 1.0, '{}', 'test', '2026-01-02');
INSERT INTO customer_values (customer_id, tenant_id, run_id, source, percentile, frequency, monetary,
    computed_at) VALUES (10, 1, 5, 'rfm', 0.5, 1, 1.0, '2026-01-02');
INSERT INTO experiments (id, tenant_id, name, scope_kind, scope_key, holdout_share, assignment, salt, goal,
    guardrails, auto_stop, status, started_at)
    VALUES (3, 1, 'x', 'global', 'global', 0.1, 'hash', 's', '{}', '[]', false, 'running', '2026-01-02');
INSERT INTO experiment_exposures (experiment_id, customer_id, tenant_id, arm, exposed_at)
    VALUES (3, 10, 1, 'holdout', '2026-01-02')
"""
)
COUNTED = ("customers", "events", "preferences", "customer_values", "experiment_exposures")


def counts(url: str) -> dict[str, int]:
    """Rows per table."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        found = {t: connection.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in COUNTED}
    engine.dispose()
    return found


@pytest.fixture
def at_0020(database_at: tuple[str, str]) -> tuple[str, str]:
    """(backend, url) of a database at revision 0020 with two tenants' rows."""
    backend, url = database_at
    upgrade(url, "0020")
    run_statements(url, ROWS)
    return backend, url


def test_rows_survive_the_upgrade_and_the_downgrade(at_0020: tuple[str, str]) -> None:
    _backend, url = at_0020
    before = counts(url)
    upgrade(url)
    assert counts(url) == before
    command.downgrade(alembic_config(url), "0020")
    assert counts(url) == before
    upgrade(url)
    assert counts(url) == before


def test_a_reference_across_tenants_is_refused(at_0020: tuple[str, str]) -> None:
    """Tenant 2's event cannot point at tenant 1's customer, which it could before."""
    backend, url = at_0020
    upgrade(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA foreign_keys=ON"))
    crossing = """INSERT INTO events (tenant_id, customer_id, event_id, type, weight, occurred_at)
        VALUES (2, 10, 'e-x', 'purchase', 1.0, '2026-01-03')"""
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.text(crossing))
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM customers WHERE tenant_id = 1 AND id = 10"))
    engine.dispose()
    assert counts(url) == {
        "customers": 1,
        "events": 1,
        "preferences": 0,
        "customer_values": 0,
        "experiment_exposures": 0,
    }
