"""Tests for top-k selection and the ranked lists kept between requests."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.topk import RankedList, RankedListMemo, top_k


@pytest.mark.parametrize("k", [1, 5, 37, 100, 250])
def test_top_k_agrees_with_a_full_sort(k: int) -> None:
    rng = np.random.default_rng(k)
    scores = rng.normal(size=200)
    allowed = rng.random(200) < 0.7
    expected = [i for i in np.argsort(-scores) if allowed[i]][:k]
    assert top_k(scores, k, allowed).tolist() == expected
    assert top_k(scores, k).tolist() == np.argsort(-scores)[:k].tolist()


@pytest.mark.parametrize("seed", range(10))
def test_top_k_breaks_ties_by_position_even_at_the_cut(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, size=300).astype(float)
    allowed = rng.random(300) < 0.9
    k = int(rng.integers(1, 250))
    expected = [i for i in np.argsort(-scores, kind="stable") if allowed[i]][:k]
    assert top_k(scores, k, allowed).tolist() == expected


def test_top_k_edge_cases() -> None:
    scores = np.array([1.0, 3.0, 3.0, 2.0])
    assert top_k(scores, 3).tolist() == [1, 2, 3]
    assert top_k(scores, 0).size == 0
    assert top_k(scores, 2, np.zeros(4, dtype=bool)).size == 0


@pytest.mark.parametrize("seed", range(20))
def test_a_cut_of_a_ranked_list_is_what_top_k_picks_with_the_hidden_items_disallowed(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 5, size=60).astype(float)  # many ties: the order must still agree
    allowed = rng.random(60) < 0.8
    hidden = set(rng.choice(60, size=int(rng.integers(0, 30)), replace=False).tolist())
    k = int(rng.integers(1, 40))
    ranked = RankedList.of(scores, allowed, depth=int(rng.integers(1, 70)))
    cut = ranked.first(k, hidden)
    narrowed = allowed.copy()
    narrowed[list(hidden)] = False
    expected = top_k(scores, k, narrowed).tolist()
    if cut is None:
        assert not ranked.complete and len([p for p in ranked.positions if p not in hidden]) < k
    else:
        assert cut == (expected, scores[expected].tolist())


def test_a_list_holding_every_allowed_item_answers_short_instead_of_giving_up() -> None:
    scores = np.array([3.0, 2.0, 1.0])
    ranked = RankedList.of(scores, np.array([True, True, False]), depth=10)
    assert ranked.complete
    assert ranked.first(5, {0}) == ([1], [2.0])
    assert RankedList.of(scores, np.ones(3, dtype=bool), depth=2).first(2, {0}) is None


def test_the_memo_builds_once_per_key_and_drops_the_oldest_beyond_its_size() -> None:
    built: list[str] = []

    def build(name: str) -> RankedList:
        built.append(name)
        return RankedList.of(np.arange(4.0), np.ones(4, dtype=bool), 2)

    memo = RankedListMemo(size=2, depth=2)
    first = memo.get("a", lambda depth: build("a"))
    assert memo.get("a", lambda depth: build("a")) is first
    memo.get("b", lambda depth: build("b"))
    memo.get("c", lambda depth: build("c"))
    memo.get("a", lambda depth: build("a"))
    assert built == ["a", "b", "c", "a"] and len(memo) == 2


def test_a_memo_of_size_zero_keeps_nothing() -> None:
    memo = RankedListMemo(size=0, depth=3)
    memo.get("a", lambda depth: RankedList.of(np.arange(4.0), np.ones(4, dtype=bool), depth))
    assert len(memo) == 0
