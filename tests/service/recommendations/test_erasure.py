"""Erasure reaches the stored model versions and the served model; the export shows what they hold."""

from __future__ import annotations

import time

import sqlalchemy as sa

from recommender.model import TrainedModel
from service.recommendations.models import ModelVersion
from tests.service.recommendations.conftest import Shop


def _stored_models(shop: Shop) -> list[TrainedModel]:
    """Every stored model version's model, as its artifact holds it."""
    with shop.db.engine.connect() as connection:
        rows = connection.execute(sa.select(ModelVersion.artifact).order_by(ModelVersion.id))  # type: ignore[call-overload]
        return [TrainedModel.load(artifact) for (artifact,) in rows]


def test_erasure_removes_the_customer_from_every_model_version(bookstore: Shop, make_key) -> None:
    crm = make_key("crm")
    bookstore.publish()
    customer = "c7"
    assert all(model.knows(customer) for model in _stored_models(bookstore))
    assert bookstore.recommend(customer)["strategy"] == "one-to-one"

    held = bookstore.client.get(f"/v1/customers/{customer}/export", headers=crm).json()["extra"]["model"]
    assert [entry["model_version"] for entry in held] == sorted(
        entry["model_version"] for entry in held
    ) and len(held) == 2
    assert all(entry["known"] and entry["embedding_norm"] > 0 and entry["items_chosen"] for entry in held)

    erased = bookstore.client.delete(f"/v1/customers/{customer}", headers=crm)
    assert erased.status_code == 200, erased.text
    assert erased.json()["deleted"]["model_entries"] == 2
    for model in _stored_models(bookstore):
        assert not model.knows(customer)
        assert model.user_embeddings.shape[0] == model.user_biases.shape[0] == len(model.users)
        assert model.knows("c8")

    # The same id comes back as a new customer: the served model must not answer with the old one.
    assert bookstore.client.put(f"/v1/customers/{customer}", json={}, headers=crm).status_code == 201
    deadline = time.monotonic() + 5
    while bookstore.recommend(customer)["strategy"] == "one-to-one" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bookstore.recommend(customer)["strategy"] != "one-to-one"
    assert bookstore.recommend("c8")["strategy"] == "one-to-one"
