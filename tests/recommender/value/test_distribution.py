"""Serving distribution: a customer's most likely values from a stored score."""

from __future__ import annotations

from dataclasses import replace

import pytest

from recommender.value.distribution import personal_distribution
from recommender.value.scorer import score_attribute
from tests.recommender.value.panels import petrol


def test_personal_distribution_by_hand() -> None:
    # Stored shares {0: 0.5, 1: 0.3}; 4 values, so values 2 and 3 get (1 - 0.8) / 2 = 0.1 each.
    # S = 2, lambda = 1, counts {2: 2}, stated {1: 1}: denominator 2 + 1 + 2 = 5;
    # p0 = 2*0.5/5 = 0.2, p1 = (1 + 2*0.3)/5 = 0.32, p2 = (2 + 2*0.1)/5 = 0.44, p3 = 0.04.
    score = replace(
        score_attribute(petrol()),
        n_values=4,
        population_shares={0: 0.5, 1: 0.3},
        shrinkage=2.0,
        stated_weight=1.0,
    )
    top = personal_distribution({2: 2.0}, {1: 1.0}, score, top=3)
    assert [value for value, _ in top] == [2, 1, 0]
    assert [p for _, p in top] == pytest.approx([0.44, 0.32, 0.2])


def test_without_fitted_shrinkage_the_population_shares_are_served() -> None:
    score = replace(score_attribute(petrol()), population_shares={0: 0.7, 1: 0.2, 2: 0.1}, shrinkage=None)
    assert personal_distribution({2: 9.0}, None, score, top=2) == [(0, 0.7), (1, 0.2)]
