"""GDPR: the export holds the customer's value and engagement rows; erasure removes them."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.engagement.models import EngagementObservation, EngagementPreference
from service.treatment.models import CustomerValue

TABLES = (CustomerValue, EngagementPreference, EngagementObservation)


def rows_of(db, customer_id: int) -> dict[str, int]:
    """How many rows of each per-customer table belong to a customer."""
    with db.engine.connect() as connection:
        return {
            t.__tablename__: connection.execute(
                sa.select(sa.func.count()).select_from(t).where(t.customer_id == customer_id)  # type: ignore[arg-type]
            ).scalar_one()
            for t in TABLES
        }


def customer_id(db, external_id: str) -> int:
    """The internal id of a customer of acme."""
    with db.engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT id FROM customers WHERE external_id = :e"), {"e": external_id}
            ).scalar_one()
        )


def test_export_includes_and_erasure_removes_value_and_engagement(
    client: TestClient, scored, db, signals, rescore
) -> None:
    crm = scored["crm"]
    signals(6, "support", "self_service_abandoned", "called_support")
    rescore()
    wanted = {"preferences": [{"journey_phase": "support", "mode": "assisted"}]}
    client.put("/v1/customers/c-6/engagement", json=wanted, headers=crm)
    extra = client.get("/v1/customers/c-6/export", headers=crm).json()["extra"]
    assert extra["customer_value"]["source"] == "events" and "tenant_id" not in extra["customer_value"]
    assert [(p["journey_phase"], p["mode"]) for p in extra["engagement_preferences"]] == [
        ("support", "assisted")
    ]
    observed = extra["engagement_observations"][0]
    assert (observed["journey_phase"], observed["abandoned"], observed["called"]) == ("support", 1, 1)
    internal = customer_id(db, "c-6")
    assert rows_of(db, internal) == {
        "customer_values": 1,
        "engagement_preferences": 1,
        "engagement_observations": 1,
    }
    assert client.delete("/v1/customers/c-6", headers=crm).status_code == 200
    assert rows_of(db, internal) == {
        "customer_values": 0,
        "engagement_preferences": 0,
        "engagement_observations": 0,
    }
    assert client.get("/v1/customers/c-6/engagement", headers=crm).status_code == 404
    assert rows_of(db, customer_id(db, "c-7"))["customer_values"] == 1
