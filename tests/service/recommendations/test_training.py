"""Training runs and model versions: the gate picks each strategy in the right case, and says why."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from recommender import repeat_gate
from recommender.datasets import bookstore_like, petrol_like, segment_like
from service import cli
from service.catalog.models import Attribute
from service.db import session_scope
from service.recommendations import training


def test_bookstore_like_catalog_is_served_one_to_one(bookstore) -> None:
    version = bookstore.get(f"/v1/models/{bookstore.version}", "marketer").json()
    assert version["strategy"] == "one-to-one" and version["serving"], version["reason"]
    assert version["gate"]["comparisons"]["personal_vs_popular"]["beats"]
    assert version["gate"]["tau"] == 0.01 and version["gate"]["k"] == 10
    metrics = version["metrics"]
    assert metrics["customers"] == 200
    assert metrics["model"]["precision@10"] > metrics["popular"]["precision@10"]
    assert set(metrics["model"]) == {"precision@10", "recall@10", "ndcg@10"}
    assert (
        version["features"]["customers"] == 200
        and version["features"]["segments"] == "customer trait 'segment'"
    )
    assert version["params"]["hyperparameters"]["loss"] == "warp"
    answer = bookstore.recommend("c5")
    assert answer["strategy"] == "one-to-one" and answer["model_version"] == bookstore.version
    assert answer["reason"] == "The customer's own model ranking" and len(answer["items"]) == 10


def test_a_run_fits_the_split_once_for_the_gate_and_the_metrics(open_shop, monkeypatch) -> None:
    shop = open_shop(bookstore_like(seed=3), publish=False)
    fits: list[int] = []
    fit = training.fit

    def counted_fit(customers: Any, *args: Any, **options: Any) -> Any:
        fits.append(len(customers))
        return fit(customers, *args, **options)

    monkeypatch.setattr(training, "fit", counted_fit)
    monkeypatch.setattr(repeat_gate, "fitted_lists", None)  # the gate judges the lists it is given
    shop.publish()
    events = len(shop.log.customer_ids)
    assert len(fits) == 2 and fits[0] < events and fits[1] == events  # the split's, then all events'
    assert shop.get(f"/v1/models/{shop.version}", "marketer").json()["strategy"] == "one-to-one"


def test_petrol_like_catalog_is_served_popular(open_shop) -> None:
    shop = open_shop(petrol_like(seed=3))
    assert shop.get(f"/v1/models/{shop.version}", "marketer").json()["strategy"] == "popular"
    answer = shop.recommend("c5", exclude_seen="false")
    assert answer["strategy"] == "popular" and "gate chose popular" in answer["reason"]
    assert [i["item_id"] for i in answer["items"]] == ["f0", "f1", "f2"]


def test_segment_like_catalog_is_served_by_segment(open_shop) -> None:
    log = segment_like(seed=3)
    shop = open_shop(log)
    assert shop.get(f"/v1/models/{shop.version}", "marketer").json()["strategy"] == "segment"
    answer = shop.recommend("c5")
    segment = log.customer_segments["c5"]
    assert answer["strategy"] == "segment" and segment in answer["reason"]
    assert shop.share_with(answer["items"], f"shelf=s{segment[-1]}") == 1.0


def test_too_little_data_is_served_popular_and_said_so(open_shop) -> None:
    shop = open_shop(bookstore_like(seed=3, customers=12, events_per_customer=(2, 3)))
    version = shop.get(f"/v1/models/{shop.version}", "marketer").json()
    assert version["strategy"] == "popular" and version["reason"].startswith("Too little data")
    assert "Too little data" in shop.recommend("c2")["reason"]


def test_the_tenants_thresholds_apply(open_shop) -> None:
    shop = open_shop(bookstore_like(seed=3), publish=False)
    strict = shop.client.put("/v1/tailoring/settings", json={"min_customers": 500}, headers=shop.marketer)
    assert strict.status_code == 200
    shop.publish()
    version = shop.get(f"/v1/models/{shop.version}", "marketer").json()
    assert version["strategy"] == "popular" and "need 500" in version["reason"]


def test_tailored_attributes_become_item_features(open_shop, db) -> None:
    shop = open_shop(bookstore_like(seed=3), publish=False)
    with session_scope(db.engine) as session:
        tid = session.execute(sa.text("SELECT id FROM tenants WHERE name = 'acme'")).scalar_one()
        session.add_all(Attribute(tenant_id=tid, name=n, kind="categorical") for n in ("genre", "author"))
    scoring = shop.client.post("/v1/tailoring/runs", json={}, headers=shop.marketer).json()
    run = shop.get(f"/v1/tailoring/runs/{scoring['id']}", "marketer").json()
    while run["status"] in ("queued", "running"):
        run = shop.get(f"/v1/tailoring/runs/{scoring['id']}", "marketer").json()
    tailored = [
        d["attribute"]
        for d in shop.get("/v1/tailoring/attributes", "marketer").json()
        if d["decision"] == "tailor"
    ]
    assert "genre" in tailored
    shop.publish()
    features = shop.get(f"/v1/models/{shop.version}", "marketer").json()["features"]
    assert features["item_attributes"] == sorted(tailored) and features["item_features"] >= 10


def test_a_tenant_without_events_fails_its_run_clearly(open_shop, make_key, client) -> None:
    marketer = make_key("marketer", "empty")
    started = client.post("/v1/models/runs", headers=marketer).json()
    run = client.get(f"/v1/models/runs/{started['id']}", headers=marketer).json()
    while run["status"] in ("queued", "running"):
        run = client.get(f"/v1/models/runs/{started['id']}", headers=marketer).json()
    assert run["status"] == "failed" and "nothing to train on" in run["error"]
    assert client.get("/v1/models", headers=marketer).json() == {"items": [], "next_cursor": None}


def test_versions_are_listed_newest_first_and_the_newest_serves(bookstore) -> None:
    first = bookstore.version
    second = bookstore.publish()
    listed = bookstore.get("/v1/models", "marketer").json()["items"]
    assert [(v["id"], v["serving"]) for v in listed] == [(second, True), (first, False)]
    page = bookstore.get("/v1/models", "marketer", limit=1).json()
    assert [v["id"] for v in page["items"]] == [second] and page["next_cursor"]
    rest = bookstore.get("/v1/models", "marketer", limit=1, cursor=page["next_cursor"]).json()
    assert [v["id"] for v in rest["items"]] == [first]
    runs = bookstore.get("/v1/models/runs", "marketer").json()["items"]
    assert [r["summary"]["model_version"] for r in runs] == [second, first]


def test_roles_and_missing_resources(bookstore) -> None:
    assert bookstore.client.post("/v1/models/runs", headers=bookstore.storefront).status_code == 403
    assert bookstore.get("/v1/models").status_code == 403
    assert bookstore.get("/v1/models/999", "marketer").status_code == 404
    missing = bookstore.get("/v1/models/runs/999", "marketer")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_cli_trains_with_a_progress_bar(bookstore, settings, monkeypatch) -> None:
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    result = CliRunner().invoke(cli.app, ["train", "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    assert "one-to-one" in result.output and "precision@10" in result.output
    unknown = CliRunner().invoke(cli.app, ["train", "--tenant", "nobody"])
    assert unknown.exit_code == 1 and "No tenant named 'nobody'" in unknown.output


def test_epochs_are_reported_at_most_every_half_second(monkeypatch) -> None:
    reported: list[str] = []
    report = training.epoch_reports(lambda _fraction, message: reported.append(message))
    for epoch in range(1, 31):
        report(epoch, 30)
    assert reported == ["epoch 1/30"]  # the rest came within the interval
    monkeypatch.setattr(training, "EPOCH_REPORT_SECONDS", 0.0)
    every = training.epoch_reports(lambda _fraction, message: reported.append(message))
    for epoch in range(1, 31):
        every(epoch, 30)
    assert reported[1:] == [f"epoch {epoch}/30" for epoch in range(1, 31)]
