"""Slots: the default rule and the k at which hit@k can still discriminate."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.value.slots import default_slots, judged_k, population_hit_by_k


def test_small_attributes_default_to_one_slot_and_larger_ones_to_a_shelf() -> None:
    assert [default_slots(n) for n in (1, 2, 3, 4, 5)] == [1, 1, 1, 1, 1]
    assert [default_slots(n) for n in (6, 7, 30, 5000)] == [3, 3, 3, 3]
    assert default_slots(8, shelf=10) == 4
    assert default_slots(4, shelf=10) == 1


def test_population_hit_by_k_by_hand() -> None:
    # Shares rank the values 2, 0, 1. Held-out choices (weights): value 2 (2), value 0 (1), value 1 (1).
    shares = np.array([0.3, 0.1, 0.6])
    hit = population_hit_by_k(np.array([2, 0, 1]), np.array([2.0, 1.0, 1.0]), shares, 4)
    assert hit.tolist() == pytest.approx([0.5, 0.75, 1.0, 1.0])
    assert population_hit_by_k(np.zeros(0, dtype=np.int64), np.zeros(0), shares, 3).size == 0


def test_judged_k_keeps_the_slots_while_they_discriminate() -> None:
    judged = judged_k(np.array([0.6, 0.8, 0.94]), 3)
    assert (judged.k, judged.reason, judged.discriminates) == (3, None, True)


def test_judged_k_steps_down_to_the_largest_k_that_discriminates() -> None:
    judged = judged_k(np.array([0.7, 0.96, 1.0]), 3)
    assert (judged.k, judged.discriminates) == (1, True)
    assert judged.reason is not None and "hit@1" in judged.reason and "100%" in judged.reason


def test_judged_k_gives_no_verdict_when_the_bestseller_alone_covers_nearly_all() -> None:
    judged = judged_k(np.array([0.97, 1.0]), 2)
    assert (judged.k, judged.discriminates) == (1, False)
    assert judged.reason is not None and "97%" in judged.reason


def test_judged_k_without_held_out_choices_keeps_the_slots() -> None:
    assert judged_k(np.zeros(0), 3).k == 3
