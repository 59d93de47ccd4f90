"""Customer values from the scoring run: from a CRM trait, from purchase events, atomically with results."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import service.tailoring.scoring as scoring
from service.errors import TailorwiseError
from service.treatment.models import CustomerValue


def values(db) -> dict[int, tuple[str, float | None, float, int]]:
    """customer id -> (source, value, percentile, run id) as stored."""
    table = CustomerValue.__table__  # type: ignore[attr-defined]
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.customer_id, table.c.source, table.c.value, table.c.percentile, table.c.run_id)
        )
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def test_tiers_from_purchase_events(client: TestClient, scored, treatment) -> None:
    export = client.get("/v1/customers/c-39/export", headers=scored["crm"]).json()["extra"]["customer_value"]
    assert export["source"] == "events" and export["frequency"] == 1 and export["monetary"] == 400
    assert 0 < export["value"] < 400 and export["recency_days"] > 0 and export["percentile"] == 97.5
    tiers = [treatment(f"c-{n}")["value"]["top_percent"] for n in (39, 30, 0)]
    assert tiers == [2.5, 25.0, 100.0]


def test_tiers_from_the_crm_trait_win_over_events(client: TestClient, shop, db, rescore, treatment) -> None:
    for n in range(40):
        traits = {"lifetime_value": 1000 - n} if n % 10 else {"lifetime_value": str(5000 - n)}
        client.put(f"/v1/customers/c-{n}", json={"traits": traits}, headers=shop["crm"])
    client.put("/v1/customers/c-39", json={"traits": {"segment": "new"}}, headers=shop["crm"])
    rescore()
    client.put("/v1/touchpoints/support", json={"journey_phase": "support"}, headers=shop["marketer"])
    first, rich, unknown = (treatment(f"c-{n}")["value"] for n in (0, 10, 39))
    assert (first["source"], first["value"], first["top_percent"]) == ("trait", 5000, 2.5)
    assert rich["value"] == 4990 and rich["top_percent"] == 5.0
    assert (unknown["source"], unknown["value"], unknown["percentile"]) == ("none", None, 0.0)


def test_the_trait_name_is_a_tenant_setting(client: TestClient, shop, rescore, treatment) -> None:
    client.put("/v1/customers/c-0", json={"traits": {"ltv": 10**6}}, headers=shop["crm"])
    client.put("/v1/touchpoints/support", json={"journey_phase": "support"}, headers=shop["marketer"])
    rescore()
    assert treatment("c-0")["value"]["source"] == "events"
    client.put("/v1/treatment/settings", json={"value_trait": "ltv"}, headers=shop["marketer"])
    rescore()
    assert treatment("c-0")["value"]["top_percent"] == 2.5
    client.put("/v1/treatment/settings", json={"value_trait": None}, headers=shop["marketer"])
    rescore()
    assert treatment("c-0")["value"]["source"] == "events"


def test_values_are_replaced_by_each_run_and_kept_by_a_failed_one(
    client: TestClient, scored, db, rescore, monkeypatch
) -> None:
    first = values(db)
    assert len(first) == 40 and {source for source, *_ in first.values()} == {"events"}
    client.put("/v1/treatment/settings", json={"recency_half_life_days": 1}, headers=scored["marketer"])

    def broken(*_args, **_kwargs):
        raise RuntimeError("scorer exploded")

    monkeypatch.setattr(scoring, "score_attribute", broken)
    with pytest.raises(TailorwiseError, match="RuntimeError"):
        rescore()
    assert values(db) == first
    monkeypatch.undo()
    rescore()
    second = values(db)
    assert second.keys() == first.keys()
    assert all(second[c][3] > first[c][3] and second[c][1] != first[c][1] for c in first)
