"""Tests for LightFM training, scoring on external ids, fold-in and the artifact."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.model import ARRAY_LOOKUP, Hyperparameters, IdMap, TrainedModel, fit

FAST = Hyperparameters(no_components=8, epochs=20)


def two_taste_events(seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict[str, dict[str, float]]]:
    """Crime readers and romance readers, each stating their taste, five books each."""
    rng = np.random.default_rng(seed)
    customers, items, preferences = [], [], {}
    for c in range(40):
        genre = "crime" if c % 2 == 0 else "romance"
        preferences[f"u{c}"] = {f"likes={genre}": 1.0}
        for book in rng.choice(10, size=5, replace=False):
            customers.append(f"u{c}")
            items.append(f"{genre}{book}")
    return np.array(customers), np.array(items), preferences


@pytest.fixture(scope="module")
def taste_model() -> TrainedModel:
    customers, items, preferences = two_taste_events()
    return fit(customers, items, user_features=preferences, hyperparameters=FAST)


def crime_mask(model: TrainedModel) -> np.ndarray:
    return np.char.startswith(model.items.ids, "crime")


def test_id_map_is_sorted_and_maps_both_ways() -> None:
    ids = IdMap.of(["b", "a"], ["c", "a"])
    assert ids.ids.tolist() == ["a", "b", "c"]
    assert ids.position("c") == 2
    assert ids.positions(["b", "zz"]).tolist() == [1, -1]
    assert ids.known_positions({"c", "zz", "a"}) == {0, 2} and ids.known_positions(()) == set()
    assert ids.ids_at([2, 0]) == ("c", "a")
    assert "a" in ids and "zz" not in ids
    assert ids == IdMap(["a", "b", "c"]) and ids != IdMap(["a", "b"])
    with pytest.raises(KeyError):
        ids.position("zz")


def test_fit_scores_customers_by_external_id(taste_model: TrainedModel) -> None:
    assert taste_model.knows("u0") and not taste_model.knows("stranger")
    scores = taste_model.score_user("u0")
    assert scores.shape == (len(taste_model.items),)
    assert scores[crime_mask(taste_model)].mean() > scores[~crime_mask(taste_model)].mean()
    assert np.allclose(taste_model.score_users(["u0", "u1"])[0], scores, atol=1e-5)
    with pytest.raises(KeyError):
        taste_model.score_user("stranger")


def test_fit_matches_lightfm_trained_directly() -> None:
    from lightfm import LightFM

    customers, items, _ = two_taste_events()
    ours = fit(customers, items, hyperparameters=FAST)
    matrix = (
        sp.coo_matrix(
            (
                np.ones(customers.size, dtype=np.float32),
                (ours.users.positions(customers), ours.items.positions(items)),
            ),
            shape=(len(ours.users), len(ours.items)),
        )
        .tocsr()
        .tocoo()
    )
    direct = LightFM(no_components=8, loss="warp", learning_rate=0.05, random_state=0)
    direct.fit(matrix, epochs=FAST.epochs, num_threads=1)
    expected = direct.predict(0, np.arange(len(ours.items), dtype=np.int32))
    assert np.allclose(ours.score_user(str(ours.users.ids[0])), expected, atol=1e-5)


def test_save_and_load_give_identical_scores(taste_model: TrainedModel) -> None:
    loaded = TrainedModel.load(taste_model.save())
    assert loaded.users == taste_model.users and loaded.items == taste_model.items
    for customer in ("u0", "u7", "u39"):
        assert np.array_equal(loaded.score_user(customer), taste_model.score_user(customer))
    preferences = {"likes=crime": 1.0}
    folded, folded_again = loaded.score_preferences(preferences), taste_model.score_preferences(preferences)
    assert folded is not None and folded_again is not None
    assert np.array_equal(folded, folded_again)
    assert loaded.similar_items("crime0", 3) == taste_model.similar_items("crime0", 3)


def test_the_model_keeps_each_customers_chosen_items_whatever_their_weight() -> None:
    customers = np.array(["a", "a", "a", "b", "b"])
    items = np.array(["x", "y", "x", "y", "z"])
    model = fit(customers, items, np.array([1.0, 0.0, 1.0, 1.0, -1.0]), hyperparameters=FAST)
    for customer, chosen in (("a", ["x", "y"]), ("b", ["y", "z"])):
        positions = model.seen_at_training(customer)
        assert positions is not None and model.items.ids[positions].tolist() == chosen
    assert model.seen_at_training("nobody") is None
    loaded = TrainedModel.load(model.save())
    assert np.array_equal(loaded.seen_at_training("b"), model.seen_at_training("b"))


def test_a_version_1_artifact_loads_without_chosen_items(taste_model: TrainedModel) -> None:
    import io

    buffer = io.BytesIO()
    with np.load(io.BytesIO(taste_model.save())) as stored:
        old = {k: v for k, v in stored.items() if not k.startswith("seen_")}
        np.savez(buffer, **{**old, "artifact_version": np.array(1)})
    loaded = TrainedModel.load(buffer.getvalue())
    assert loaded.seen_at_training("u0") is None
    assert np.array_equal(loaded.score_user("u0"), taste_model.score_user("u0"))


def test_load_rejects_unknown_artifact_version(taste_model: TrainedModel) -> None:
    import io

    buffer = io.BytesIO()
    with np.load(io.BytesIO(taste_model.save())) as stored:
        np.savez(buffer, **{**stored, "artifact_version": np.array(99)})
    with pytest.raises(ValueError, match="version 99"):
        TrainedModel.load(buffer.getvalue())


def test_fold_in_ranks_preferred_items_higher(taste_model: TrainedModel) -> None:
    crime = crime_mask(taste_model)
    for taste, wanted in (("likes=crime", crime), ("likes=romance", ~crime)):
        scores = taste_model.score_preferences({taste: 1.0})
        assert scores is not None
        top_five = np.argsort(-scores)[:5]
        assert wanted[top_five].all()


def test_fold_in_is_the_weighted_sum_of_preference_embeddings(taste_model: TrainedModel) -> None:
    vector = taste_model.fold_in({"likes=crime": 3.0, "likes=romance": 1.0, "unknown": 5.0})
    crime = taste_model.preferences.position("likes=crime")
    romance = taste_model.preferences.position("likes=romance")
    expected = (
        0.75 * taste_model.preference_embeddings[crime] + 0.25 * taste_model.preference_embeddings[romance]
    )
    assert vector is not None and np.allclose(vector, expected)
    assert taste_model.fold_in({"unknown": 1.0}) is None
    assert taste_model.score_preferences({}) is None


def test_similar_items_are_cosine_neighbours(taste_model: TrainedModel) -> None:
    neighbours = taste_model.similar_items("crime0", 4)
    assert len(neighbours) == 4
    assert all(item.startswith("crime") and item != "crime0" for item, _ in neighbours)
    similarities = [similarity for _, similarity in neighbours]
    assert similarities == sorted(similarities, reverse=True) and similarities[0] <= 1.0 + 1e-6


def test_similar_items_agree_with_a_full_sort(taste_model: TrainedModel) -> None:
    unit = taste_model.item_embeddings / np.linalg.norm(taste_model.item_embeddings, axis=1, keepdims=True)
    for position, item in enumerate(taste_model.items.ids.tolist()):
        similarity = unit @ unit[position]
        similarity[position] = -np.inf
        expected = taste_model.items.ids[np.argsort(-similarity, kind="stable")[:5]].tolist()
        assert [found for found, _ in taste_model.similar_items(item, 5)] == expected


def test_item_features_let_an_item_without_events_be_scored() -> None:
    customers, items, _ = two_taste_events()
    features = {item: [f"genre={item.rstrip('0123456789')}"] for item in set(items.tolist())}
    features["crime-new"] = ["genre=crime"]
    model = fit(customers, items, item_features=features, hyperparameters=FAST)
    assert "crime-new" in model.items
    neighbours = [item for item, _ in model.similar_items("crime-new", 5)]
    assert all(item.startswith("crime") for item in neighbours)


def test_progress_reports_every_epoch_and_weights_are_accepted() -> None:
    customers, items, _ = two_taste_events()
    reported: list[tuple[int, int]] = []
    model = fit(
        customers,
        items,
        np.linspace(0.5, 3.0, customers.size),
        hyperparameters=Hyperparameters(no_components=4, epochs=3),
        progress=lambda epoch, total: reported.append((epoch, total)),
    )
    assert reported == [(1, 3), (2, 3), (3, 3)]
    assert np.isfinite(model.score_user("u0")).all()


def test_fit_rejects_empty_or_mismatched_events() -> None:
    with pytest.raises(ValueError):
        fit(np.array([], dtype=str), np.array([], dtype=str))
    with pytest.raises(ValueError):
        fit(np.array(["a", "b"]), np.array(["x"]))
    with pytest.raises(ValueError, match="positive weight"):
        fit(np.array(["a"]), np.array(["x"]), np.array([0.0]))


# External ids hold no NUL (the service refuses it; numpy's strings would drop a trailing one).
id_texts = st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(id_texts, unique=True, max_size=30), st.lists(id_texts, min_size=65, max_size=200))
def test_a_long_array_is_looked_up_as_each_id_is(known: list[str], wanted: list[str]) -> None:
    ids = IdMap(known)  # in the order given, not sorted
    array = np.asarray(wanted + known, dtype=object)
    one_by_one = np.array([ids._positions.get(value, -1) for value in array.tolist()], dtype=np.int64)
    assert array.size > ARRAY_LOOKUP
    assert np.array_equal(ids.positions(array), one_by_one)
    assert np.array_equal(ids.positions(array.astype(str)), one_by_one)


def test_ids_of_event_columns_are_their_sorted_distinct_strings() -> None:
    column = np.array([3, 1, 3, 2, 1] * 30, dtype=object)
    assert IdMap.of(column, ["0"]) == IdMap(["0", "1", "2", "3"])
    assert IdMap.of(np.array([], dtype=str)) == IdMap([])
