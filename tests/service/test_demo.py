"""The demo shows at once that a bookstore's genre and author pay to tailor and petrol octane does not."""

from __future__ import annotations

from contextlib import contextmanager

from fastapi.testclient import TestClient

from service.demo import seed_demo


@contextmanager
def _silent(_title: str):
    """A progress bar that shows nothing."""
    yield lambda _fraction, _message: None


def test_demo_decisions_and_keys(db, client: TestClient) -> None:
    seeded = {t.name: t for t in seed_demo(db.engine, _silent)}
    books = {d.attribute: d for d in seeded["demo-bookstore"].decisions}
    petrol = {d.attribute: d for d in seeded["demo-petrol"].decisions}
    assert books["genre"].decision == "tailor" and books["author"].decision == "tailor"
    assert books["format"].level == "mass"
    assert petrol["octane"].decision == "default" and petrol["octane"].level == "mass"
    assert petrol["payment_terms"].level in ("niche", "targeted")
    key = seeded["demo-bookstore"].keys["marketer"]
    answer = client.get("/v1/tailoring/attributes/genre", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200 and answer.json()["decision"] == "tailor"
    again = {t.name: t for t in seed_demo(db.engine, _silent)}
    assert again["demo-bookstore"].keys["admin"] != seeded["demo-bookstore"].keys["admin"]
