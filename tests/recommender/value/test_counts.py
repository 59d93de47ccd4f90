"""Choice counts: summing events and the time split per customer."""

from __future__ import annotations

import numpy as np

from recommender.value.counts import count_matrix, split_latest


def test_count_matrix_sums_weights_of_repeated_choices() -> None:
    counts = count_matrix(np.array([0, 0, 1]), np.array([2, 2, 0]), np.array([1.0, 0.5, 2.0]), 2, 3)
    assert counts.toarray().tolist() == [[0, 0, 1.5], [2.0, 0, 0]]


def test_split_latest_holds_out_latest_event_of_customers_with_two_or_more() -> None:
    customer = np.array([0, 0, 0, 1, 2, 2])
    value = np.array([0, 1, 2, 1, 0, 0])
    time = np.array([3.0, 1.0, 2.0, 5.0, 1.0, 1.0])
    counts = split_latest(customer, value, np.ones(6), time, 3, 3)
    assert counts.train.toarray().tolist() == [[0, 1, 1], [0, 1, 0], [1, 0, 0]]
    assert counts.test.toarray().tolist() == [[1, 0, 0], [0, 0, 0], [1, 0, 0]]


def test_split_latest_holds_out_several_but_keeps_one_for_training() -> None:
    customer = np.array([0, 0, 0, 1, 1])
    value = np.array([0, 1, 2, 0, 1])
    time = np.array([1.0, 2.0, 3.0, 1.0, 2.0])
    counts = split_latest(customer, value, np.ones(5), time, 2, 3, holdout=2)
    assert counts.train.toarray().tolist() == [[1, 0, 0], [1, 0, 0]]
    assert counts.test.toarray().tolist() == [[0, 1, 1], [0, 1, 0]]
