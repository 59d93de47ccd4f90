"""The results day by day: a storefront exposing customers over 18 days, with a known 10% uplift."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service.db import session_scope
from service.experiments.models import Experiment
from tests.service.experiments.conftest import Headers, post_events, spending_habits

CUSTOMERS = 360
EXPOSURE_DAYS = 18
EFFECT = 0.10
BODY = {
    "name": "gradual",
    "scope": {"kind": "recommendations"},
    "holdout_share": 0.5,
    "assignment": "external",
    "goal": {"event_type": "purchase", "measure": "sum", "window_days": 14},
    "guardrails": [
        {"event_type": "called_support", "measure": "count", "window_days": 7, "must_not": "increase"}
    ],
}


def _start() -> datetime:
    """The experiment's start: 20 days ago, at 08:00 UTC."""
    now = datetime.now(UTC)
    return (now - timedelta(days=20)).replace(hour=8, minute=0, second=0, microsecond=0)


def gradual_storefront(
    client: TestClient, db: Any, admin: Headers, guardrails: Sequence[dict[str, Any]] = ()
) -> tuple[int, datetime, list[dict[str, Any]]]:
    """20 customers exposed a day for 18 days; a purchase a week before and two after; some support calls.

    Returns the experiment id, its start and every post-exposure purchase (arm, exposure, when, weight).
    """
    created = client.post(
        "/v1/experiments", json={**BODY, "guardrails": BODY["guardrails"] + list(guardrails)}, headers=admin
    )
    assert created.status_code == 201, created.text
    experiment_id, start = created.json()["id"], _start()
    with session_scope(db.engine) as session:
        stored = session.exec(select(Experiment).where(Experiment.id == experiment_id)).first()
        assert stored is not None
        stored.started_at = start
    habits, rng = spending_habits(CUSTOMERS, seed=41), np.random.default_rng(42)
    events, exposures, purchases = [], [], []
    for i, habit in enumerate(habits):
        arm = "holdout" if (i // EXPOSURE_DAYS) % 2 else "treatment"
        exposed = start + timedelta(days=i % EXPOSURE_DAYS, hours=1, minutes=i % 50)
        exposures.append({"customer_id": f"g-{i}", "arm": arm, "exposed_at": exposed.isoformat()})
        pre = {"customer_id": f"g-{i}", "type": "purchase", "weight": round(float(habit) / 2, 2)}
        events.append(
            {**pre, "event_id": f"pre-{i}", "occurred_at": (exposed - timedelta(days=7)).isoformat()}
        )
        for k, after in enumerate((timedelta(hours=2), timedelta(hours=40))):
            factor = (1.0 + EFFECT if arm == "treatment" else 1.0) * rng.normal(1.0, 0.05)
            weight = round(float(habit / 2 * factor), 2)
            events.append(
                {
                    **pre,
                    "event_id": f"post-{i}-{k}",
                    "weight": weight,
                    "occurred_at": (exposed + after).isoformat(),
                }
            )
            purchases.append({"arm": arm, "exposed": exposed, "at": exposed + after, "weight": weight})
        if i % 7 == 0:
            call = exposed + timedelta(hours=30)
            events.append(
                {
                    "event_id": f"call-{i}",
                    "customer_id": f"g-{i}",
                    "type": "called_support",
                    "occurred_at": call.isoformat(),
                }
            )
    post_events(client, admin, events)
    for begin in range(0, CUSTOMERS, 200):
        sent = client.post(
            f"/v1/experiments/{experiment_id}/exposures",
            json={"exposures": exposures[begin : begin + 200]},
            headers=admin,
        )
        assert sent.status_code == 200 and sent.json()["recorded"] == len(exposures[begin : begin + 200])
    return experiment_id, start, purchases


def _history(client: TestClient, headers: Headers, experiment_id: int, points: int | None = None) -> Any:
    """The history answer, which must be a 200."""
    query = "" if points is None else f"?points={points}"
    found = client.get(f"/v1/experiments/{experiment_id}/results/history{query}", headers=headers)
    assert found.status_code == 200, found.text
    return found.json()


def _same_figures(point: dict[str, Any], metric: dict[str, Any]) -> None:
    """A history point carries the results' arm sizes, means and both intervals."""
    for arm in ("treatment", "holdout"):
        assert point[arm]["n"] == metric[arm]["n"]
        assert point[arm]["mean"] == pytest.approx(metric[arm]["mean"], rel=1e-9)
    for kind in ("absolute", "relative"):
        assert point[kind] == pytest.approx(metric[kind], rel=1e-9, abs=1e-12)


def test_the_last_point_is_the_results_and_the_band_narrows(
    client: TestClient, db: Any, admin: Headers
) -> None:
    experiment_id, start, purchases = gradual_storefront(client, db, admin)
    history = _history(client, admin, experiment_id, points=60)
    days = (datetime.now(UTC).date() - start.date()).days + 1
    assert history["days"] == days and history["status"] == "running"
    goal, guardrail = history["goal"], history["guardrails"][0]
    assert [p["day"] for p in goal["points"]] == list(range(days))
    assert goal["points"][0]["date"] == start.date().isoformat()
    results = client.get(f"/v1/experiments/{experiment_id}/results", headers=admin).json()
    _same_figures(goal["points"][-1], results["goal"])
    _same_figures(guardrail["points"][-1], results["guardrails"][0])
    assert guardrail["name"] == "guardrail:called_support" and guardrail["must_not"] == "increase"
    # Arm sizes grow by 10 a day until the exposures end; each day's means are the purchases up to its end.
    for point in goal["points"]:
        assert point["treatment"]["n"] == point["holdout"]["n"] == 10 * min(point["day"] + 1, EXPOSURE_DAYS)
    for day in (3, 9, 16):
        end = datetime.combine(start.date() + timedelta(days=day + 1), datetime.min.time(), UTC)
        for arm in ("treatment", "holdout"):
            spent = sum(
                p["weight"] for p in purchases if p["arm"] == arm and p["exposed"] < end and p["at"] < end
            )
            assert goal["points"][day][arm]["mean"] == pytest.approx(spent / (10 * (day + 1)), rel=1e-9)
    widths = [
        p["relative"]["always_valid_high"] - p["relative"]["always_valid_low"] for p in goal["points"][2:]
    ]
    assert widths[-1] < 0.5 * widths[0]
    last = goal["points"][-1]["relative"]
    assert last["always_valid_low"] > 0 and last["always_valid_low"] < EFFECT < last["always_valid_high"]
    assert last["low"] >= last["always_valid_low"] and last["high"] <= last["always_valid_high"]


def test_a_conversion_counts_each_customer_once_from_the_first_day_they_buy(
    client: TestClient, db: Any, admin: Headers
) -> None:
    bought = {"event_type": "purchase", "measure": "conversion", "window_days": 14, "must_not": "decrease"}
    experiment_id, _, _ = gradual_storefront(client, db, admin, [bought])
    history = _history(client, admin, experiment_id, points=60)
    conversion = history["guardrails"][1]
    assert conversion["name"] == "guardrail:purchase" and conversion["measure"] == "conversion"
    assert {p["treatment"]["mean"] for p in conversion["points"]} == {1.0}  # two purchases, counted once
    results = client.get(f"/v1/experiments/{experiment_id}/results", headers=admin).json()
    _same_figures(conversion["points"][-1], results["guardrails"][1])


def test_points_are_thinned_evenly_and_erased_customers_leave(
    client: TestClient, db: Any, admin: Headers
) -> None:
    experiment_id, _, _ = gradual_storefront(client, db, admin)
    full = _history(client, admin, experiment_id, points=60)["goal"]["points"]
    days = len(full)
    five = _history(client, admin, experiment_id, points=5)["goal"]["points"]
    assert len(five) == 5 and five[0]["day"] == 0 and five[-1]["day"] == days - 1
    assert five == [full[p["day"]] for p in five]
    assert len(_history(client, admin, experiment_id)["goal"]["points"]) == min(30, days)
    one = _history(client, admin, experiment_id, points=1)["goal"]["points"]
    assert one == [full[-1]]
    assert client.delete("/v1/customers/g-0", headers=admin).status_code == 200
    after = _history(client, admin, experiment_id, points=1)["goal"]["points"][-1]
    assert after["treatment"]["n"] == full[-1]["treatment"]["n"] - 1


def test_a_stopped_experiment_ends_on_its_stop(client: TestClient, db: Any, admin: Headers) -> None:
    created = client.post("/v1/experiments", json=BODY, headers=admin).json()
    start = _start()
    with session_scope(db.engine) as session:
        stored = session.exec(select(Experiment).where(Experiment.id == created["id"])).first()
        assert stored is not None
        stored.started_at, stored.stopped_at, stored.status = start, start + timedelta(days=4), "stopped"
    history = _history(client, admin, created["id"])
    assert history["days"] == 5 and [p["day"] for p in history["goal"]["points"]] == [0, 1, 2, 3, 4]
    assert history["goal"]["points"][-1]["treatment"] == {"n": 0, "mean": None}


@pytest.mark.parametrize("points", ["0", "61", "many", "-3"])
def test_bad_points_are_422_naming_the_field(client: TestClient, admin: Headers, points: str) -> None:
    created = client.post("/v1/experiments", json=BODY, headers=admin).json()
    refused = client.get(f"/v1/experiments/{created['id']}/results/history?points={points}", headers=admin)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in refused.json()["errors"]] == ["query.points"]


def test_unknown_and_other_tenants_experiments_are_404(
    client: TestClient, admin: Headers, make_key: Any
) -> None:
    created = client.post("/v1/experiments", json=BODY, headers=admin).json()
    assert client.get("/v1/experiments/999999/results/history", headers=admin).status_code == 404
    other = make_key("marketer", tenant="globex")
    hidden = client.get(f"/v1/experiments/{created['id']}/results/history", headers=other)
    assert hidden.status_code == 404 and hidden.headers["content-type"] == "application/problem+json"
    storefront = make_key("storefront")
    assert (
        client.get(f"/v1/experiments/{created['id']}/results/history", headers=storefront).status_code == 403
    )
