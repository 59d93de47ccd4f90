"""The observed-mode rule and the mode in force: behaviour only ever adds assistance."""

from __future__ import annotations

import pytest

from service.engagement.rules import Counts, mode_in_force, observed_mode
from service.engagement.schemas import EngagementMode

SELF, ASSISTED, FULL = EngagementMode.self_service, EngagementMode.assisted, EngagementMode.full_service


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (None, None),
        (Counts(completed=0, abandoned=0, called=1), None),
        (Counts(completed=2, abandoned=0, called=0), SELF),
        (Counts(completed=3, abandoned=1, called=0), SELF),
        (Counts(completed=1, abandoned=1, called=0), ASSISTED),
        (Counts(completed=0, abandoned=2, called=0), ASSISTED),
        (Counts(completed=1, abandoned=0, called=1), ASSISTED),
        (Counts(completed=0, abandoned=1, called=1), FULL),
        (Counts(completed=0, abandoned=0, called=2), FULL),
    ],
)
def test_observed_mode_is_the_rounded_mean_assistance(
    counts: Counts | None, expected: EngagementMode | None
) -> None:
    assert observed_mode(counts) == expected


@pytest.mark.parametrize("stated", [None, SELF, ASSISTED, FULL])
@pytest.mark.parametrize("observed", [None, SELF, ASSISTED, FULL])
@pytest.mark.parametrize("default", [SELF, ASSISTED])
def test_behaviour_never_lowers_the_assistance(
    stated: EngagementMode | None, observed: EngagementMode | None, default: EngagementMode
) -> None:
    order = [SELF, ASSISTED, FULL]
    mode, reason = mode_in_force("support", stated, observed, default, profiling=True)
    baseline = stated or default
    assert order.index(mode) == max(order.index(baseline), order.index(observed or baseline))
    assert reason.startswith("In support:")


def test_full_service_is_never_pushed_to_self_service() -> None:
    mode, reason = mode_in_force("support", FULL, SELF, SELF, profiling=True)
    assert mode == FULL and "never lowers" in reason


def test_behaviour_is_not_used_without_profiling_consent() -> None:
    mode, reason = mode_in_force("purchase", None, FULL, SELF, profiling=False)
    assert mode == SELF and "profiling consent" in reason
