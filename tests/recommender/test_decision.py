"""Judging a score: thresholds, overrides, levels and explanations that compare only what could differ."""

from __future__ import annotations

from dataclasses import replace

import pytest

from recommender.decision import Thresholds, decide
from recommender.value.scorer import score_attribute
from tests.recommender.value.panels import bookstore, petrol


def test_thresholds_change_the_decision_without_rescoring() -> None:
    score = score_attribute(bookstore())
    assert decide(score, Thresholds(tau=0.01)).decision == "tailor"
    strict = decide(score, Thresholds(tau=0.9))
    assert (strict.decision, strict.level) == ("default", "mass")
    costly = decide(score, Thresholds(c=0.5))
    assert costly.decision == "default" and costly.value is not None and costly.value.low < 0


def test_modes_override_the_decision_and_say_so() -> None:
    score = score_attribute(petrol())
    always = decide(score, Thresholds(mode="always"))
    assert (always.decision, always.level, always.override) == ("tailor", "mass", "always")
    assert "'always' override" in always.explanation
    never = decide(score_attribute(bookstore()), Thresholds(mode="never"))
    assert (never.decision, never.level, never.override) == ("default", "one-to-one", "never")
    with pytest.raises(ValueError, match="mode"):
        Thresholds(mode="sometimes")


def test_value_interval_follows_delta_hit() -> None:
    score = score_attribute(bookstore())
    decision = decide(score, Thresholds(f=2.0, u=3.0, c=0.1))
    assert score.delta_hit is not None and decision.value is not None
    assert decision.value.low == pytest.approx(6.0 * score.delta_hit.low - 0.1)
    assert decision.value.estimate == pytest.approx(6.0 * score.delta_hit.estimate - 0.1)


def test_a_stored_score_whose_top_k_held_nearly_every_choice_states_no_comparison() -> None:
    # A score from before slots: petrol judged at hit@3, which the bestseller list wins 100% to 100%.
    stored = replace(score_attribute(petrol()), k=3, slots=None, hit_rate=1.0, population_hit_rate=1.0)
    decision = decide(stored, attribute="octane")
    assert (decision.decision, decision.level) == ("default", "undetermined")
    assert "top 3 already holds 100% of held-out choices" in decision.explanation
    assert "hit@" not in decision.explanation and "vs" not in decision.explanation


def test_an_undetermined_comparison_can_still_be_overridden() -> None:
    stored = replace(score_attribute(petrol()), population_hit_rate=0.99)
    decision = decide(stored, Thresholds(mode="always"), attribute="octane")
    assert (decision.decision, decision.level, decision.override) == ("tailor", "undetermined", "always")
