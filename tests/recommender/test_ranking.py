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
)
from recommender.topk import top_k

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


@pytest.fixture(scope="module")
def shop() -> tuple[PopularityTable, TrainedModel]:
    rng = np.random.default_rng(3)
    customers = np.array([f"c{n}" for n in rng.integers(0, 30, size=600)])
    items = np.array([f"i{n:02d}" for n in rng.zipf(1.6, size=600) % 60])
    segments = {f"c{n}": f"s{n % 3}" for n in range(30)}
    model = fit(customers, items, hyperparameters=Hyperparameters(no_components=4, epochs=3))
    return build_popularity(model.items, customers, items, customer_segments=segments), model


@pytest.mark.parametrize("depth", [3, 25, 500])
def test_kept_lists_answer_exactly_as_the_full_ranking(
    shop: tuple[PopularityTable, TrainedModel], depth: int
) -> None:
    popularity, model = shop
    inactive = ["i01", "i07"]
    full = Recommender(popularity, model, inactive=inactive)
    kept = Recommender(popularity, model, inactive=inactive, kept_lists=50, list_depth=depth)
    rng = np.random.default_rng(depth)
    catalog = model.items.ids.tolist()
    for _ in range(300):
        customer = f"c{rng.integers(0, 33)}"  # some unknown to the model
        request = {
            "customer_id": customer,
            "segment": f"s{rng.integers(0, 4)}",
            "start": ServingPath(rng.choice(list(ServingPath))),
            "hide_training_choices": bool(rng.random() < 0.7),
            "item_filter": ItemFilter(
                seen=frozenset(rng.choice(catalog, size=rng.integers(0, 8)).tolist()),
                excluded=frozenset(rng.choice(catalog, size=rng.integers(0, 3)).tolist()),
                within=None if rng.random() < 0.8 else rng.random(len(catalog)) < 0.5,
            ),
        }
        k = int(rng.integers(1, 30))
        assert kept.recommend(k, **request) == full.recommend(k, **request)


def test_hiding_training_choices_leaves_out_what_the_customer_chose(recommender: Recommender) -> None:
    chosen = {item for customer, item in zip(CUSTOMERS, ITEMS, strict=True) if customer == "ann"}
    for start in ServingPath:
        served = recommender.recommend(10, customer_id="ann", start=start, hide_training_choices=True)
        assert not chosen & set(served.item_ids)
