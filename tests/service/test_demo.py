"""The demo shows at once that a bookstore's genre and author pay to tailor and petrol octane does not."""

from __future__ import annotations

from contextlib import contextmanager

from fastapi.testclient import TestClient

from service.config import Settings
from service.demo import seed_demo
from service.main import create_app


@contextmanager
def _silent(_title: str):
    """A progress bar that shows nothing."""
    yield lambda _fraction, _message: None


def test_demo_decisions_and_keys(db, client: TestClient, settings: Settings) -> None:
    seeded = {t.name: t for t in seed_demo(db.engine, settings, _silent)}
    books = {d.attribute: d for d in seeded["demo-bookstore"].decisions}
    petrol = {d.attribute: d for d in seeded["demo-petrol"].decisions}
    assert books["genre"].decision == "tailor" and books["author"].decision == "tailor"
    assert books["format"].level == "mass"
    assert petrol["octane"].decision == "default" and petrol["octane"].level == "mass"
    assert petrol["payment_terms"].level in ("niche", "targeted")
    key = seeded["demo-bookstore"].keys["marketer"]
    answer = client.get("/v1/tailoring/attributes/genre", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200 and answer.json()["decision"] == "tailor"
    again = {t.name: t for t in seed_demo(db.engine, settings, _silent)}
    assert again["demo-bookstore"].keys["admin"] != seeded["demo-bookstore"].keys["admin"]


def test_demo_serves_recommendations_plans_and_treatment_at_once(db, settings: Settings) -> None:
    seeded = {t.name: t for t in seed_demo(db.engine, settings, _silent)}
    with TestClient(create_app(settings, engine=db.engine)) as client:
        for tenant in seeded.values():
            storefront = {"Authorization": f"Bearer {tenant.keys['storefront']}"}
            urls = ["/v1/customers/c-7/recommendations", "/v1/customers/c-7/tailoring"]
            urls += [f"/v1/customers/c-7/treatment?touchpoint={name}" for name in tenant.touchpoints]
            assert tenant.touchpoints
            for url in urls:
                answer = client.get(url, headers=storefront)
                assert answer.status_code == 200, (tenant.name, url, answer.text)
