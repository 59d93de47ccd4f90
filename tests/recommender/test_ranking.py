"""Tests for top-k, item filters, popular lists and the fallback chain."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.model import Hyperparameters, IdMap, TrainedModel, fit
from recommender.ranking import (
    ItemFilter,
    PopularityTable,
    Recommender,
    ServingPath,
    build_popularity,
    top_k,
)

CUSTOMERS = np.array(["ann", "ann", "ann", "bob", "bob", "bob", "cat", "cat"])
ITEMS = np.array(["crime1", "crime2", "crime3", "love1", "love2", "crime1", "crime1", "love1"])
SEGMENTS = {"ann": "north", "bob": "south", "cat": "north"}
PREFERENCES = {"ann": {"likes=crime": 1.0}, "bob": {"likes=love": 1.0}}
CATALOG = sorted(set(ITEMS.tolist()))


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    return fit(
        CUSTOMERS,
        ITEMS,
        user_features=PREFERENCES,
        hyperparameters=Hyperparameters(no_components=4, epochs=5),
    )


@pytest.fixture(scope="module")
def recommender(model: TrainedModel) -> Recommender:
    popularity = build_popularity(model.items, CUSTOMERS, ITEMS, customer_segments=SEGMENTS)
    return Recommender(popularity, model, inactive=["crime3"])


@pytest.mark.parametrize("k", [1, 5, 37, 100, 250])
def test_top_k_agrees_with_a_full_sort(k: int) -> None:
    rng = np.random.default_rng(k)
    scores = rng.normal(size=200)
    allowed = rng.random(200) < 0.7
    expected = [i for i in np.argsort(-scores) if allowed[i]][:k]
    assert top_k(scores, k, allowed).tolist() == expected
    assert top_k(scores, k).tolist() == np.argsort(-scores)[:k].tolist()


def test_top_k_edge_cases() -> None:
    scores = np.array([1.0, 3.0, 3.0, 2.0])
    assert top_k(scores, 3).tolist() == [1, 2, 3]
    assert top_k(scores, 0).size == 0
    assert top_k(scores, 2, np.zeros(4, dtype=bool)).size == 0


def test_item_filter_removes_seen_and_excluded_within_the_allow_list() -> None:
    items = IdMap(["a", "b", "c", "d"])
    assert ItemFilter().mask(items).all()
    mask = ItemFilter(
        seen=frozenset({"a", "zz"}),
        excluded=frozenset({"c"}),
        allowed=frozenset({"a", "b", "c"}),
    ).mask(items)
    assert mask.tolist() == [False, True, False, False]


def test_popularity_overall_and_per_segment() -> None:
    items = IdMap(CATALOG)
    table = build_popularity(items, CUSTOMERS, ITEMS, customer_segments=SEGMENTS)
    overall = dict(zip(CATALOG, table.overall.tolist(), strict=True))
    assert overall == {"crime1": 3, "crime2": 1, "crime3": 1, "love1": 2, "love2": 1}
    south = table.scores("south")
    assert south is not None
    assert items.ids[top_k(south, 2)].tolist() == ["crime1", "love1"]
    north = table.scores("north")
    assert north is not None
    assert items.ids[top_k(north, 1)].tolist() == ["crime1"]
    assert table.scores("west") is None
    loaded = PopularityTable.load(table.save())
    assert loaded.items == items and np.array_equal(loaded.by_segment, table.by_segment)


def test_known_customer_is_served_personally(recommender: Recommender) -> None:
    served = recommender.recommend(3, customer_id="ann", segment="north")
    assert served.path == ServingPath.PERSONAL
    assert "own model ranking" in served.reason
    assert list(served.scores) == sorted(served.scores, reverse=True)


def test_cold_customer_with_stated_preferences_is_folded_in(recommender: Recommender) -> None:
    served = recommender.recommend(2, customer_id="new", preferences={"likes=crime": 1.0})
    assert served.path == ServingPath.PERSONAL
    assert "stated preferences" in served.reason


def test_cold_customer_falls_back_to_segment_then_popular(recommender: Recommender) -> None:
    by_segment = recommender.recommend(2, customer_id="new", segment="south")
    assert by_segment.path == ServingPath.SEGMENT
    assert by_segment.item_ids == ("crime1", "love1")
    assert "cold start" in by_segment.reason
    unknown_segment = recommender.recommend(2, customer_id="new", segment="west")
    assert unknown_segment.path == ServingPath.POPULAR
    assert "'west'" in unknown_segment.reason
    assert unknown_segment.item_ids == ("crime1", "love1")


def test_strategy_start_skips_more_personal_paths(recommender: Recommender) -> None:
    assert (
        recommender.recommend(2, customer_id="ann", segment="north", start=ServingPath.SEGMENT).path
        == ServingPath.SEGMENT
    )
    popular = recommender.recommend(2, customer_id="ann", start=ServingPath.POPULAR)
    assert popular.path == ServingPath.POPULAR
    assert popular.reason == "popular overall, as the strategy requires"


def test_without_a_model_the_chain_starts_at_segment() -> None:
    items = IdMap(CATALOG)
    recommender = Recommender(build_popularity(items, CUSTOMERS, ITEMS))
    served = recommender.recommend(2, customer_id="ann")
    assert served.path == ServingPath.POPULAR
    assert "no trained model" in served.reason


@pytest.mark.parametrize("start", list(ServingPath))
def test_inactive_seen_and_excluded_items_are_never_returned(
    recommender: Recommender, start: ServingPath
) -> None:
    for customer in ("ann", "bob", "cat", "new"):
        served = recommender.recommend(
            10,
            customer_id=customer,
            segment=SEGMENTS.get(customer),
            start=start,
            item_filter=ItemFilter(seen=frozenset({"crime1"}), excluded=frozenset({"love2"})),
        )
        assert set(served.item_ids) == {"crime2", "love1"}
    allowed_only = recommender.recommend(
        10, customer_id="ann", start=start, item_filter=ItemFilter(allowed=frozenset({"love2"}))
    )
    assert allowed_only.item_ids == ("love2",)


def test_model_and_popularity_must_share_a_catalog(model: TrainedModel) -> None:
    other = build_popularity(IdMap(["x"]), ["ann"], ["x"])
    with pytest.raises(ValueError, match="one item catalog"):
        Recommender(other, model)
