"""GDPR access and erasure of a profile over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.models import metadata
from tests.service.profiles.test_router import CUSTOMER, event


def test_export_holds_profile_preferences_and_events(client: TestClient, make_key) -> None:
    crm = make_key("crm")
    client.put("/v1/customers/c-1", json=CUSTOMER, headers=crm)
    client.put(
        "/v1/customers/c-1/preferences",
        json={"preferences": [{"attribute": "genre", "value": "crime"}]},
        headers=crm,
    )
    client.post("/v1/events", json={"events": [event(1), event(2)]}, headers=crm)
    export = client.get("/v1/customers/c-1/export", headers=crm).json()
    assert export["customer"]["traits"] == CUSTOMER["traits"]
    assert export["customer"]["preferences"][0]["value"] == "crime"
    assert [e["event_id"] for e in export["events"]] == ["e-1", "e-2"]


def test_erasure_leaves_no_row_of_the_customer(client: TestClient, make_key, db) -> None:
    crm = make_key("crm")
    client.put("/v1/customers/c-1", json=CUSTOMER, headers=crm)
    client.put(
        "/v1/customers/c-1/preferences",
        json={"preferences": [{"attribute": "genre", "value": "crime"}]},
        headers=crm,
    )
    client.post("/v1/events", json={"events": [event(1), event(2), event(3, customer="other")]}, headers=crm)
    with db.engine.connect() as connection:
        internal_id = connection.execute(
            sa.text("SELECT id FROM customers WHERE external_id = 'c-1'")
        ).scalar()
    erased = client.delete("/v1/customers/c-1", headers=crm)
    assert erased.status_code == 200
    assert erased.json()["deleted"] == {
        "customer": 1,
        "preferences": 1,
        "events": 2,
        "experiment_exposures": 0,
        "model_entries": 0,
    }
    assert client.get("/v1/customers/c-1", headers=crm).status_code == 404
    with db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if "customer_id" in table.c:
                left = connection.execute(
                    sa.select(sa.func.count()).select_from(table).where(table.c.customer_id == internal_id)
                ).scalar()
                assert left == 0, table.name
        audit = connection.execute(sa.text("SELECT target, before, after FROM audit_log")).all()
    assert len(audit) == 1 and "c-1" not in str(audit[0])
    assert client.delete("/v1/customers/c-1", headers=crm).status_code == 404
