"""A database migrated to an older revision and filled with rows, for tests of one migration's data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, _schema_url

# Two tenants (ids 1 and 2), each with a customer (10 and 20) and an event of that customer (e-1, e-2).
TWO_TENANTS = """
INSERT INTO tenants (id, name, default_personalization_consent, default_profiling_consent, created_at)
    VALUES (1, 'acme', true, true, '2026-01-01'), (2, 'globex', true, true, '2026-01-01');
INSERT INTO customers (id, tenant_id, external_id, traits, consent_personalization, consent_profiling,
    created_at, updated_at) VALUES (10, 1, 'c-1', '{}', true, true, '2026-01-01', '2026-01-01'),
    (20, 2, 'c-2', '{}', true, true, '2026-01-01', '2026-01-01');
INSERT INTO events (tenant_id, customer_id, event_id, type, weight, occurred_at)
    VALUES (1, 10, 'e-1', 'purchase', 1.0, '2026-01-02'), (2, 20, 'e-2', 'purchase', 1.0, '2026-01-02')
"""


def run_statements(url: str, rows: str) -> None:
    """Run `;`-separated statements in one transaction."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        for statement in rows.split(";"):
            if statement.strip():
                connection.execute(sa.text(statement))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_at(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(backend, url) of an empty database; the test migrates it to the revision it needs."""
    if request.param == "sqlite":
        yield "sqlite", f"sqlite:///{tmp_path / 'old.db'}"
        return
    request.getfixturevalue("postgres_schema")  # skips (or fails) when PostgreSQL is away
    schema = f"tw_migrate_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield "postgres", _schema_url(schema)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
