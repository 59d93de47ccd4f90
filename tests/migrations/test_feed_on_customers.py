"""Migration 0006: live customers' feed rows become their feed columns; tombstones stay."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.migrate import upgrade
from tests.migrations.conftest import run_statements

ROWS = """
INSERT INTO tenants (id, name, default_personalization_consent, default_profiling_consent, created_at)
    VALUES (1, 'acme', true, true, '2026-01-01');
INSERT INTO customers (tenant_id, external_id, traits, consent_personalization, consent_profiling,
    created_at, updated_at) VALUES (1, 'kept', '{}', true, true, '2026-01-01', '2026-01-01');
INSERT INTO customer_changes (id, tenant_id, external_id, txid, deleted, changed_at)
    VALUES (7, 1, 'kept', 42, false, '2026-01-01'), (8, 1, 'erased', 43, true, '2026-01-01')
"""


@pytest.fixture
def at_0005(database_at: tuple[str, str]) -> str:
    """A database migrated to revision 0005, with a live customer and a tombstone in its feed."""
    _backend, url = database_at
    upgrade(url, "0005")
    run_statements(url, ROWS)
    return url


def test_live_feed_rows_move_onto_their_customers(at_0005: str) -> None:
    upgrade(at_0005)
    engine = sa.create_engine(at_0005, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT feed_txid, feed_seq FROM customers")).one()
        tombstones = connection.execute(sa.text("SELECT external_id, deleted FROM customer_changes")).all()
    engine.dispose()
    assert tuple(kept) == (42, 7)
    assert [tuple(t) for t in tombstones] == [("erased", True)]
