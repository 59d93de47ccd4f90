"""Schemathesis: every operation answers only statuses and content types its document declares."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from service.config import Settings
from service.db import create_db_engine, session_scope
from service.main import create_app
from service.tenancy import service as tenancy

AdminClient = tuple[TestClient, dict[str, str]]


@pytest.fixture
def admin_client(sqlite_template: Path, tmp_path: Path) -> Iterator[AdminClient]:
    """A test client on a copied SQLite database, and an admin key's headers."""
    path = tmp_path / "conformance.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(
        database_url=f"sqlite:///{path}", environment="test", max_body_bytes=64 * 1024, rate_limits={}
    )
    engine = create_db_engine(settings)
    with session_scope(engine) as session:
        tenancy.create_tenant(session, "acme", personalization_by_default=True)
        key = tenancy.issue_key(session, "acme", "admin").key
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as client:
        yield client, {"Authorization": f"Bearer {key}"}
    engine.dispose()


@schemathesis.serializer("application/x-ndjson")
def ndjson(_context: Any, value: Any) -> bytes:
    """A generated row as one NDJSON line (a list of rows as one line each)."""
    rows = value if isinstance(value, list) else [value]
    return b"".join(json.dumps(row).encode() + b"\n" for row in rows)


def request_kwargs(case: Any, headers: dict[str, str]) -> dict[str, Any]:
    """The case as keyword arguments of the test client (cookies and raw bytes as it wants them)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    assert not kwargs.pop("cookies", None)
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    return dict(kwargs)


schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi())


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_statuses_and_content_types_conform(case: Any, admin_client: AdminClient) -> None:
    client, admin = admin_client
    response = client.request(**request_kwargs(case, admin))
    case.validate_response(response, checks=[status_code_conformance, content_type_conformance])
