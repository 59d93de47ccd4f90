"""Migration 0008: writes to what the serving read fetches notify listeners, at commit, once each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.config import Settings
from service.db import create_db_engine
from tests.conftest import _empty_all

pytestmark = pytest.mark.postgres
NOW = "'2026-01-01T00:00:00Z'"
CUSTOMERS = f"""INSERT INTO customers (tenant_id, external_id, traits, consent_personalization,
    consent_profiling, created_at, updated_at) SELECT 1, name, '{{}}', true, true, {NOW}, {NOW} FROM"""
CUSTOMER = f"{CUSTOMERS} (VALUES (:external_id)) AS new (name)"
TENANT = f"""INSERT INTO tenants (id, name, default_personalization_consent, default_profiling_consent,
    created_at) VALUES (:id, :name, true, true, {NOW})"""
ITEM = f"""INSERT INTO items (tenant_id, item_id, attributes, active, updated_at)
    VALUES (:t, :i, '{{}}', true, {NOW})"""
EVENT = f"""INSERT INTO events (tenant_id, customer_id, event_id, type, item_id, weight, occurred_at)
    SELECT 1, id, :event_id, 'purchase', 'b1', 1, {NOW} FROM customers WHERE external_id = :external_id"""


@pytest.fixture
def engine(postgres_schema: str) -> Iterator[Engine]:
    """The migrated test schema with two tenants, emptied afterwards."""
    engine = create_db_engine(Settings(database_url=postgres_schema, environment="test"))
    with engine.begin() as connection:
        for tenant in (1, 2):
            connection.execute(sa.text(TENANT), {"id": tenant, "name": f"t{tenant}"})
    yield engine
    _empty_all(engine)
    engine.dispose()


@pytest.fixture
def listener(engine: Engine) -> Iterator[psycopg.Connection[Any]]:
    """A connection listening on the serving channel."""
    arguments, options = engine.dialect.create_connect_args(engine.url)
    with psycopg.connect(*arguments, **options, autocommit=True) as connection:
        channel = connection.execute("SELECT tailorwise_channel()").fetchone()
        assert channel is not None
        connection.execute(f'LISTEN "{channel[0]}"')
        yield connection


# The backends this module's writes ran on: other sessions' notices on the schema's channel (a serving
# worker's probes) are left out of what a test hears.
_writers: set[int] = set()


def heard(listener: psycopg.Connection[Any]) -> list[str]:
    """The payloads of this module's writes that arrive within a short while, in order."""
    return [notice.payload for notice in listener.notifies(timeout=0.3) if notice.pid in _writers]


def run(engine: Engine, *statements: tuple[str, dict[str, Any]]) -> None:
    """Statements in one transaction."""
    with engine.begin() as connection:
        _writers.add(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        for sql, params in statements:
            connection.execute(sa.text(sql), params)


def test_each_changed_customer_is_named_once_per_transaction(engine: Engine, listener: Any) -> None:
    run(engine, (CUSTOMER, {"external_id": "alice"}), (CUSTOMER, {"external_id": "bob smith"}))
    assert sorted(heard(listener)) == ["c 1 alice", "c 1 bob smith"]
    run(
        engine,
        (EVENT, {"event_id": "e1", "external_id": "alice"}),
        (EVENT, {"event_id": "e2", "external_id": "alice"}),
        ("UPDATE customers SET consent_personalization = false WHERE external_id = 'alice'", {}),
    )
    assert heard(listener) == ["c 1 alice"]
    preference = (
        "INSERT INTO preferences (tenant_id, customer_id, attribute, value, weight, source, updated_at)"
    )
    run(
        engine,
        (
            f"{preference} SELECT 1, id, 'genre', 'Comedy', 1, 'stated', {NOW} FROM customers"
            " WHERE external_id = 'bob smith'",
            {},
        ),
    )
    assert heard(listener) == ["c 1 bob smith"]
    run(engine, ("DELETE FROM preferences", {}))
    assert heard(listener) == ["c 1 bob smith"]
    run(engine, ("DELETE FROM customers WHERE external_id = 'alice'", {}))  # its events go with it
    assert heard(listener) == ["c 1 alice"]


def test_a_statement_changing_many_customers_names_their_tenant(engine: Engine, listener: Any) -> None:
    run(engine, *[(CUSTOMER, {"external_id": f"c{n}"}) for n in range(100)])
    assert len(set(heard(listener))) == 100
    run(engine, (f"{CUSTOMERS} (SELECT 'x' || n FROM generate_series(1, 101) n) AS new (name)", {}))
    assert heard(listener) == ["t 1"]
    run(engine, ('UPDATE customers SET traits = \'{"segment": "a"}\'', {}))
    assert heard(listener) == ["t 1"]


def test_catalog_changes_name_their_tenant(engine: Engine, listener: Any) -> None:
    run(engine, (ITEM, {"t": 1, "i": "b1"}), (ITEM, {"t": 1, "i": "b2"}), (ITEM, {"t": 2, "i": "b1"}))
    assert sorted(heard(listener)) == ["i 1", "i 2"]
    run(engine, ("UPDATE items SET active = false WHERE tenant_id = 2", {}))
    assert heard(listener) == ["i 2"]


def test_nothing_is_heard_of_a_rolled_back_write(engine: Engine, listener: Any) -> None:
    with engine.connect() as connection:
        _writers.add(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        connection.execute(sa.text(CUSTOMER), {"external_id": "alice"})
        connection.rollback()
    assert heard(listener) == []


TOUCHPOINT = f"""INSERT INTO touchpoints (tenant_id, name, journey_phase, attributes, mode, rules, updated_at)
    VALUES (:t, :name, 'support', '[]', 'auto', '[]', {NOW})"""
STATED_MODE = f"""INSERT INTO engagement_preferences (tenant_id, customer_id, journey_phase, mode, updated_at)
    SELECT 1, id, 'support', 'assisted', {NOW} FROM customers WHERE external_id = :external_id"""


def test_what_treatment_decisions_read_notifies_their_tenant_or_customer(
    engine: Engine, listener: Any
) -> None:
    """Migration 0020: touchpoints and settings name the tenant (s), a customer's statements the customer."""
    run(engine, (TOUCHPOINT, {"t": 1, "name": "desk"}), (TOUCHPOINT, {"t": 2, "name": "desk"}))
    assert sorted(heard(listener)) == ["s 1", "s 2"]
    run(engine, ("UPDATE touchpoints SET mode = 'never' WHERE tenant_id = 1", {}))
    assert heard(listener) == ["s 1"]
    run(engine, (CUSTOMER, {"external_id": "alice"}))
    heard(listener)
    run(engine, (STATED_MODE, {"external_id": "alice"}))
    assert heard(listener) == ["c 1 alice"]
    run(engine, ("DELETE FROM engagement_preferences", {}))
    assert heard(listener) == ["c 1 alice"]
