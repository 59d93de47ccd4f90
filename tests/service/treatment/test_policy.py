"""The priority rule of a touchpoint: tiers, modes, evidence and consent."""

from __future__ import annotations

import pytest

from service.treatment.policy import priority_for
from service.treatment.schemas import TreatmentMode, TreatmentRule

RULES = [
    TreatmentRule(top_percent=5, priority=1, routing="senior", recognition=True),
    TreatmentRule(top_percent=20, priority=2),
]


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        (0.5, (1, "senior", True)),
        (5.0, (1, "senior", True)),
        (5.1, (2, "standard", False)),
        (20.0, (2, "standard", False)),
        (20.5, (None, "standard", False)),
    ],
)
def test_the_first_tier_holding_the_customer_wins(top: float, expected: tuple) -> None:
    decided = priority_for(RULES, TreatmentMode.always, None, True, top)
    assert (decided.level, decided.routing, decided.recognition) == expected
    assert f"{top:.2f}%" in decided.reason


def test_never_gives_nobody_priority() -> None:
    decided = priority_for(RULES, TreatmentMode.never, True, True, 1.0)
    assert (decided.level, decided.recognition) == (None, False) and "mode never" in decided.reason


def test_auto_applies_the_rules_until_evidence_says_they_do_not_pay() -> None:
    unmeasured = priority_for(RULES, TreatmentMode.auto, None, True, 1.0)
    assert unmeasured.level == 1 and "no measured evidence yet" in unmeasured.reason
    paying = priority_for(RULES, TreatmentMode.auto, True, True, 1.0)
    assert paying.level == 1 and "lifts outcomes" in paying.reason
    refuted = priority_for(RULES, TreatmentMode.auto, False, True, 1.0)
    assert refuted.level is None and "does not lift" in refuted.reason
    assert priority_for(RULES, TreatmentMode.always, False, True, 1.0).level == 1


def test_no_profiling_consent_means_standard_treatment_without_recognition() -> None:
    decided = priority_for(RULES, TreatmentMode.always, None, False, 1.0)
    assert (decided.level, decided.routing, decided.recognition) == (None, "standard", False)
    assert "profiling consent" in decided.reason and "exit ramp" in decided.reason


def test_no_value_yet_or_no_rules_is_standard() -> None:
    assert "No value score" in priority_for(RULES, TreatmentMode.always, None, True, None).reason
    assert "no rules" in priority_for([], TreatmentMode.always, None, True, 1.0).reason
