"""Scoring runs, decisions, settings, overrides, audit and customer plans over HTTP."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

import service.tailoring.scoring as scoring
from tests.service.tailoring.conftest import bookstore_events


def decisions(client: TestClient, headers: dict[str, str]) -> dict[str, dict]:
    """Current decisions by attribute."""
    response = client.get("/v1/tailoring/attributes", headers=headers)
    assert response.status_code == 200, response.text
    return {d["attribute"]: d for d in response.json()}


def test_run_is_a_status_resource(client: TestClient, bookstore, run_to_end) -> None:
    started = client.post("/v1/tailoring/runs", json={"attribute": "genre"}, headers=bookstore["marketer"])
    assert started.status_code == 202
    body = started.json()
    assert body["status"] in ("queued", "running", "succeeded") and body["params"] == {"attribute": "genre"}
    run = run_to_end(f"/v1/tailoring/runs/{body['id']}", bookstore["marketer"])
    assert run["status"] == "succeeded" and run["progress"] == 1.0
    assert run["summary"] == {"attributes": ["genre"], "skipped": []}
    listed = client.get("/v1/tailoring/runs", headers=bookstore["marketer"]).json()
    assert [r["id"] for r in listed["items"]] == [body["id"]]


def test_genre_is_tailored_and_format_is_not(client: TestClient, scored) -> None:
    found = decisions(client, scored["marketer"])
    genre, fmt = found["genre"], found["format"]
    assert genre["decision"] == "tailor" and genre["level"] in ("targeted", "one-to-one")
    assert genre["lift"]["low"] > 0 and genre["phi"]["estimate"] > 0.3
    assert genre["customers"] == 80 and genre["evaluated_customers"] == 80
    assert "genre" in genre["explanation"].lower()
    assert fmt["decision"] == "default" and fmt["level"] == "mass"
    assert fmt["thresholds"]["tau"] == 0.01 and fmt["override"] is None
    one = client.get("/v1/tailoring/attributes/genre", headers=scored["storefront"]).json()
    assert one == genre


def test_unscored_and_unknown_attributes_are_404(client: TestClient, bookstore) -> None:
    unscored = client.get("/v1/tailoring/attributes/genre", headers=bookstore["marketer"])
    assert unscored.status_code == 404 and "not been scored" in unscored.json()["detail"]
    assert client.get("/v1/tailoring/attributes/nope", headers=bookstore["marketer"]).status_code == 404
    bad = client.post("/v1/tailoring/runs", json={"attribute": "nope"}, headers=bookstore["marketer"])
    assert bad.status_code == 404


def test_settings_change_decisions_without_rescoring(client: TestClient, scored) -> None:
    marketer = scored["marketer"]
    strict = client.put("/v1/tailoring/settings", json={"tau": 50}, headers=marketer)
    assert strict.status_code == 200 and strict.json()["tau"] == 50
    assert decisions(client, marketer)["genre"]["decision"] == "default"
    client.put("/v1/tailoring/settings", json={"tau": 0.01}, headers=marketer)
    assert decisions(client, marketer)["genre"]["decision"] == "tailor"
    runs = client.get("/v1/tailoring/runs", headers=marketer).json()["items"]
    assert len(runs) == 1


def test_attribute_overrides_and_business_inputs(client: TestClient, scored) -> None:
    marketer = scored["marketer"]
    never = client.put("/v1/attributes/genre/tailoring", json={"mode": "never"}, headers=marketer)
    assert never.status_code == 200
    genre = decisions(client, marketer)["genre"]
    assert (genre["decision"], genre["override"]) == ("default", "never")
    client.put("/v1/attributes/format/tailoring", json={"mode": "always"}, headers=marketer)
    assert decisions(client, marketer)["format"]["decision"] == "tailor"
    costly = {"f": 1, "u": 1, "c": 5, "mode": "auto"}
    client.put("/v1/attributes/genre/tailoring", json=costly, headers=marketer)
    genre = decisions(client, marketer)["genre"]
    assert genre["decision"] == "default" and genre["thresholds"]["c"] == 5
    assert genre["value"]["estimate"] < 0


def test_every_change_is_audited(client: TestClient, scored) -> None:
    marketer = scored["marketer"]
    client.put("/v1/tailoring/settings", json={"tau": 0.2, "k": 5}, headers=marketer)
    client.put("/v1/attributes/genre/tailoring", json={"tau": 0.3, "mode": "always"}, headers=marketer)
    audit = client.get("/v1/audit", headers=marketer).json()["items"]
    latest, first = audit[0], audit[1]
    assert latest["action"] == "attribute.tailoring.updated" and latest["target"] == "genre"
    assert latest["before"]["mode"] == "auto" and latest["after"]["mode"] == "always"
    assert first["action"] == "tailoring.settings.updated"
    assert first["before"] is None and first["after"]["k"] == 5
    assert latest["actor"].endswith(":marketer")


def test_plan_tailors_genre_to_the_customer(client: TestClient, scored) -> None:
    plan = client.get("/v1/customers/c-3/tailoring", headers=scored["storefront"]).json()
    assert plan["personalized"] is True
    by_attribute = {entry["attribute"]: entry for entry in plan["attributes"]}
    genre = by_attribute["genre"]
    assert genre["tailored"] is True and genre["values"][0]["value"] == "g3"
    assert 0 < genre["values"][0]["probability"] <= 1
    assert by_attribute["format"]["tailored"] is False and by_attribute["format"]["values"]


def test_plan_names_the_customers_usual_value_where_tailoring_pays(client: TestClient, scored) -> None:
    bought = [e for e in bookstore_events() if e["customer_id"] == "c-3"]
    genres = Counter(f"g{int(e['item_id'].split('-')[1]) % 10}" for e in bought)
    latest = {f"g{int(e['item_id'].split('-')[1]) % 10}": e["occurred_at"] for e in bought}
    usual, times = max(genres.items(), key=lambda entry: (entry[1], latest[entry[0]]))
    plan = client.get("/v1/customers/c-3/tailoring", headers=scored["storefront"]).json()
    by_attribute = {entry["attribute"]: entry for entry in plan["attributes"]}
    genre = by_attribute["genre"]
    assert genre["usual"]["value"] == usual and genre["usual"]["times"] == times >= 2
    assert genre["usual"]["last_days_ago"] >= 0
    assert f"Your usual: {usual}, chosen {times} times." in genre["reason"]
    assert by_attribute["format"]["tailored"] is False and by_attribute["format"]["usual"] is None


def test_plan_without_consent_is_all_default(client: TestClient, scored) -> None:
    client.put(
        "/v1/customers/c-3",
        json={"traits": {}, "consent": {"personalization": False, "profiling": True}},
        headers=scored["crm"],
    )
    plan = client.get("/v1/customers/c-3/tailoring", headers=scored["storefront"]).json()
    assert plan["personalized"] is False and "consent" in plan["reason"]
    assert not any(entry["tailored"] for entry in plan["attributes"])


def test_failed_run_leaves_previous_results(client: TestClient, scored, run_to_end, monkeypatch) -> None:
    marketer = scored["marketer"]
    before = decisions(client, marketer)

    def broken(*_args, **_kwargs):
        raise RuntimeError("scorer exploded")

    monkeypatch.setattr(scoring, "score_attribute", broken)
    started = client.post("/v1/tailoring/runs", json={}, headers=marketer).json()
    run = run_to_end(f"/v1/tailoring/runs/{started['id']}", marketer)
    assert run["status"] == "failed" and run["error"].startswith("RuntimeError")
    assert decisions(client, marketer) == before


def test_roles_and_tenants(client: TestClient, scored, make_key) -> None:
    assert client.post("/v1/tailoring/runs", json={}, headers=scored["storefront"]).status_code == 403
    assert client.put("/v1/tailoring/settings", json={}, headers=scored["crm"]).status_code == 403
    assert client.get("/v1/customers/c-3/tailoring", headers=scored["marketer"]).status_code == 403
    other = make_key("marketer", tenant="other")
    assert client.get("/v1/tailoring/attributes", headers=other).json() == []
    run_id = client.get("/v1/tailoring/runs", headers=scored["marketer"]).json()["items"][0]["id"]
    assert client.get(f"/v1/tailoring/runs/{run_id}", headers=other).status_code == 404
    assert client.put("/v1/attributes/genre/tailoring", json={}, headers=other).status_code == 404
    assert (
        client.get("/v1/customers/c-3/tailoring", headers=make_key("storefront", tenant="other")).status_code
        == 404
    )


def test_bad_input_names_the_field(client: TestClient, bookstore) -> None:
    marketer = bookstore["marketer"]
    negative = client.put("/v1/tailoring/settings", json={"tau": -1}, headers=marketer)
    assert negative.status_code == 422 and negative.json()["errors"][0]["field"] == "body.tau"
    unknown = client.put("/v1/tailoring/settings", json={"tau": 0.1, "colour": 1}, headers=marketer)
    assert unknown.status_code == 422
    mode = client.put("/v1/attributes/genre/tailoring", json={"mode": "sometimes"}, headers=marketer)
    assert mode.status_code == 422 and mode.json()["errors"][0]["field"] == "body.mode"
    assert client.get("/v1/tailoring/runs/abc", headers=marketer).status_code == 422
