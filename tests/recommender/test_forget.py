"""A model without erased customers: their rows gone, everyone else's kept exactly."""

from __future__ import annotations

import numpy as np

from recommender.forget import held_about, without_customers
from recommender.model import IdMap, TrainedModel


def _model() -> TrainedModel:
    """Three customers over four items, each having chosen some items."""
    rng = np.random.default_rng(1)
    seen = [[0, 2], [1], [0, 3]]
    return TrainedModel(
        users=IdMap(["a", "b", "c"]),
        items=IdMap(["i0", "i1", "i2", "i3"]),
        user_embeddings=rng.normal(size=(3, 2)).astype(np.float32),
        user_biases=rng.normal(size=3).astype(np.float32),
        item_embeddings=rng.normal(size=(4, 2)).astype(np.float32),
        item_biases=rng.normal(size=4).astype(np.float32),
        preferences=IdMap([]),
        preference_embeddings=np.zeros((0, 2), dtype=np.float32),
        preference_biases=np.zeros(0, dtype=np.float32),
        seen_indptr=np.cumsum([0] + [len(s) for s in seen]).astype(np.int32),
        seen_indices=np.array([i for s in seen for i in s], dtype=np.int32),
    )


def test_forgotten_customer_is_gone_and_the_others_unchanged() -> None:
    model = _model()
    forgotten = without_customers(model, ["b", "nobody"])
    assert not forgotten.knows("b") and len(forgotten.users) == 2
    for customer in ("a", "c"):
        assert np.array_equal(forgotten.score_user(customer), model.score_user(customer))
        assert forgotten.seen_at_training(customer).tolist() == model.seen_at_training(customer).tolist()
    restored = TrainedModel.load(forgotten.save())
    assert restored.users == forgotten.users and restored.seen_at_training("c").tolist() == [0, 3]


def test_held_about_names_the_vector_and_the_items() -> None:
    model = _model()
    held = held_about(model, "c")
    assert held["known"] and held["items_chosen"] == ["i0", "i3"]
    assert np.isclose(held["embedding_norm"], np.linalg.norm(model.user_embeddings[2]))
    assert held_about(model, "zed") == {"known": False}
    assert without_customers(model, ["zed"]) is model
