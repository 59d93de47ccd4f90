"""The score record: JSON round trip, undefined numbers, scores stored before slots existed."""

from __future__ import annotations

import json

from recommender.value.score import SCORE_SCHEMA, AttributeScore
from recommender.value.scorer import score_attribute
from tests.recommender.value.panels import tiny_counts, two_segments


def test_score_round_trips_through_json() -> None:
    score = score_attribute(two_segments())
    stored = json.loads(json.dumps(score.to_dict(), allow_nan=False))
    assert stored["schema"] == SCORE_SCHEMA
    assert AttributeScore.from_dict(stored) == score


def test_undefined_numbers_become_null_in_json() -> None:
    counts = tiny_counts([[1, 0], [0, 1]], [[0, 0], [0, 0]])
    score = score_attribute(counts)
    stored = json.loads(json.dumps(score.to_dict(), allow_nan=False))
    assert stored["phi"] is None and stored["lift"] is None
    assert AttributeScore.from_dict(stored).phi is None


def test_a_score_stored_before_slots_reads_back_without_them() -> None:
    stored = score_attribute(two_segments()).to_dict()
    for name in ("slots", "k_reason", "discriminates", "schema"):
        del stored[name]
    score = AttributeScore.from_dict(stored)
    assert (score.slots, score.k_reason, score.discriminates) == (None, None, True)
