"""Migration 0024: each schema's triggers notify a channel of its own, which tailorwise_channel() names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command

from service.migrate import alembic_config, upgrade
from tests.conftest import PG_URL, _schema_url
from tests.migrations.conftest import run_statements

pytestmark = pytest.mark.postgres
TENANT = """INSERT INTO tenants (id, name, default_personalization_consent, default_profiling_consent,
    created_at) VALUES (1, 'acme', true, true, '2026-01-01')"""
CUSTOMER = """INSERT INTO customers (tenant_id, external_id, traits, consent_personalization,
    consent_profiling, created_at, updated_at) VALUES (1, '{name}', '{{}}', true, true, now(), now())"""


@pytest.fixture
def two_schemas(database_at: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """Two migrated schemas with a tenant of the same id each (the second one dropped afterwards)."""
    backend, url = database_at
    if backend != "postgres":
        pytest.skip("notifications are PostgreSQL's")
    schema = f"tw_other_{uuid.uuid4().hex[:10]}"
    other = _schema_url(schema)
    admin = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        for each in (url, other):
            upgrade(each)
            run_statements(each, TENANT)
        yield url, other
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def listening(url: str) -> psycopg.Connection[Any]:
    """A connection to the schema of `url` listening where its triggers notify."""
    engine = sa.create_engine(url)
    arguments, options = engine.dialect.create_connect_args(engine.url)
    connection = psycopg.connect(*arguments, **options, autocommit=True)
    channel = connection.execute("SELECT tailorwise_channel()").fetchone()
    assert channel is not None
    connection.execute(f'LISTEN "{channel[0]}"')
    return connection


def heard(connection: psycopg.Connection[Any]) -> list[str]:
    """Payloads arriving within a short while."""
    return [notice.payload for notice in connection.notifies(timeout=0.3)]


def test_a_schema_hears_its_own_changes_only(two_schemas: tuple[str, str]) -> None:
    first, second = two_schemas
    with listening(first) as one, listening(second) as other:
        run_statements(first, CUSTOMER.format(name="alice"))
        run_statements(second, CUSTOMER.format(name="bob"))
        assert heard(one) == ["c 1 alice"]
        assert heard(other) == ["c 1 bob"]


def test_the_downgrade_notifies_the_shared_channel_again(two_schemas: tuple[str, str]) -> None:
    first, _ = two_schemas
    command.downgrade(alembic_config(first), "0023")
    engine = sa.create_engine(first)
    arguments, options = engine.dialect.create_connect_args(engine.url)
    with psycopg.connect(*arguments, **options, autocommit=True) as shared:
        shared.execute("LISTEN tailorwise_serving")
        run_statements(first, CUSTOMER.format(name="carol"))
        assert "c 1 carol" in heard(shared)
    engine.dispose()
    upgrade(first)
    with listening(first) as own:
        run_statements(first, CUSTOMER.format(name="dave"))
        assert heard(own) == ["c 1 dave"]
