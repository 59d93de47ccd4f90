"""Fixtures: a migrated SQLite file and a migrated PostgreSQL schema, an app and keys per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from service.config import Settings
from service.db import create_db_engine, session_scope
from service.main import create_app
from service.migrate import upgrade
from service.models import metadata
from service.tenancy import repository as tenants
from service.tenancy import service as tenancy

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_URL = os.environ.get("TAILORWISE_TEST_DATABASE_URL", DEFAULT_PG_URL)
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
_postgres_problem: list[str] = []


@dataclass
class Database:
    """A migrated, empty database for one test."""

    backend: str
    url: str
    engine: Engine


def _postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3}, poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except sa.exc.SQLAlchemyError as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def _schema_url(schema: str) -> str:
    """The test URL with its search_path set to one schema."""
    url = sa.make_url(PG_URL)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the test database, migrated to head, dropped at the end."""
    problem = _postgres_reachable()
    if problem is not None:
        _postgres_problem.append(problem)
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL at {PG_URL} is unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {problem}")
    schema = f"tw_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    upgrade(_schema_url(schema))
    yield _schema_url(schema)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


# The sequences owned by columns of the schema's tables (serial and identity ids), with their tables.
_OWNED_SEQUENCES = """SELECT s.relname, t.relname FROM pg_class s
    JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE s.relkind = 'S' AND t.relnamespace = current_schema()::regnamespace"""


def _empty_all(engine: Engine) -> None:
    """Empty every table of the schema and restart its ids: its sequences read, then one script sent.

    As TRUNCATE ... RESTART IDENTITY, but ten times quicker on tables this small (TRUNCATE makes new
    files for every table and index). Triggers and foreign keys are off for the emptying transaction
    (session_replication_role, which needs the superuser the test database is reached as), so that it
    sends no change notification to the other test processes sharing the database.
    """
    with engine.begin() as connection:
        tables = {t.name for t in metadata.sorted_tables}
        owned = connection.exec_driver_sql(_OWNED_SEQUENCES).all()
        deletes = " ".join(f'DELETE FROM "{name}";' for name in sorted(tables))
        restarts = " ".join(f'ALTER SEQUENCE "{name}" RESTART;' for name, table in owned if table in tables)
        connection.exec_driver_sql(f"SET LOCAL session_replication_role = replica; {deletes} {restarts}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated empty database: a copied SQLite file, or the truncated Postgres schema."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_schema")
    engine = create_db_engine(Settings(database_url=url, environment="test"))
    try:
        yield Database(backend=request.param, url=url, engine=engine)
    finally:
        if request.param == "postgres":
            _empty_all(engine)
        engine.dispose()


@pytest.fixture
def settings(db: Database) -> Settings:
    """Settings for the test database, with small limits that tests can reach."""
    return Settings(
        database_url=db.url,
        environment="test",
        max_body_bytes=64 * 1024,
        max_sync_body_bytes=2 * 1024 * 1024,
        max_events_per_batch=100,
        max_sync_rows=1_000,
        key_cache_seconds=0,
        runs_in="process",
        rate_limits={},
    )


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    """A test client of an app on the test database."""
    with TestClient(create_app(settings, engine=db.engine)) as test_client:
        yield test_client


KeyMaker = Callable[..., dict[str, str]]


@pytest.fixture
def make_key(db: Database) -> KeyMaker:
    """Create (or reuse) a tenant and return auth headers for a new key of a role."""

    def _make(role: str = "admin", tenant: str = "acme", *, opt_in: bool = False) -> dict[str, str]:
        with session_scope(db.engine) as session:
            if tenants.get_tenant_by_name(session, tenant) is None:
                tenancy.create_tenant(session, tenant, personalization_by_default=not opt_in)
            issued = tenancy.issue_key(session, tenant, role)
        return {"Authorization": f"Bearer {issued.key}"}

    return _make


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly when the PostgreSQL suite did not run."""
    if _postgres_problem and not REQUIRE_POSTGRES:
        terminalreporter.write_sep("!", "POSTGRES TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(f"PostgreSQL at {PG_URL} was unreachable: {_postgres_problem[0]}")
        terminalreporter.write_line(
            "Start it or set TAILORWISE_TEST_DATABASE_URL; CI sets REQUIRE_POSTGRES=1."
        )
