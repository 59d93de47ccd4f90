"""A scoring run skips what it cannot score, and its error names the failure, never data."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

import service.tailoring.scoring as scoring
from service.catalog.models import Attribute
from service.db import session_scope
from service.tenancy import repository as tenants
from service.treatment.models import CustomerValue


def _define(db, name: str) -> None:
    """Define an attribute no item carries a value of."""
    with session_scope(db.engine) as session:
        tenant = tenants.get_tenant_by_name(session, "acme")
        assert tenant is not None and tenant.id is not None
        session.add(Attribute(tenant_id=tenant.id, name=name, kind="categorical"))


def _values(db) -> int:
    """How many customer values are stored."""
    with session_scope(db.engine) as session:
        return int(session.execute(sa.select(sa.func.count()).select_from(CustomerValue)).scalar_one())


def test_attribute_without_values_is_skipped_not_fatal(client: TestClient, bookstore, run_to_end, db) -> None:
    marketer = bookstore["marketer"]
    _define(db, "colour")
    started = client.post("/v1/tailoring/runs", json={}, headers=marketer).json()
    run = run_to_end(f"/v1/tailoring/runs/{started['id']}", marketer)
    assert run["status"] == "succeeded", run
    skipped = run["summary"]["skipped"]
    assert [entry["attribute"] for entry in skipped] == ["colour"]
    assert "no item" in skipped[0]["reason"]
    assert sorted(run["summary"]["attributes"]) == ["format", "genre"]
    assert _values(db) > 0
    colour = client.get("/v1/tailoring/attributes/colour", headers=marketer).json()
    assert colour["level"] == "undetermined" and colour["decision"] == "default"
    assert skipped[0]["reason"] in colour["explanation"]
    genre = client.get("/v1/tailoring/attributes/genre", headers=marketer).json()
    assert genre["decision"] == "tailor"


def test_run_error_names_the_failure_without_data(
    client: TestClient, bookstore, run_to_end, monkeypatch
) -> None:
    marketer = bookstore["marketer"]
    secret = "c-secret-42"

    def duplicate(*_args, **_kwargs):
        raise sa.exc.IntegrityError(
            "INSERT INTO customer_values (customer_id, external_id) VALUES (%(id)s, %(external_id)s)",
            {"id": 7, "external_id": secret},
            Exception(f"duplicate key value violates unique constraint; Key (external_id)=({secret})"),
        )

    monkeypatch.setattr(scoring, "score_attribute", duplicate)
    started = client.post("/v1/tailoring/runs", json={}, headers=marketer).json()
    run = run_to_end(f"/v1/tailoring/runs/{started['id']}", marketer)
    assert run["status"] == "failed"
    assert "IntegrityError" in run["error"]
    for leak in (secret, "INSERT", "customer_values", "%(", "Key ("):
        assert leak not in run["error"], run["error"]
