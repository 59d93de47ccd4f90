"""The engagement rules: the mode behaviour shows, and the mode in force (never less than stated).

Observed mode. Events with `attribute: "journey_phase"` and the phase as `value` are signals of
type `self_service_completed` (0), `self_service_abandoned` (1) or `called_support` (2). The latest
20 signals of a customer in a phase are averaged with those weights; the mean, rounded half up,
names the mode (0 self-service, 1 assisted, 2 full-service). Fewer than 2 signals say nothing.
A customer who abandons a self-service flow and then calls support averages 1.5: full service.

Mode in force. The baseline is the stated preference, else the tenant's default. Behaviour can only
move the customer toward more assistance than the baseline, never toward less: a customer who says
"full-service" is never pushed to self-service. Without profiling consent behaviour is not used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from service.engagement.schemas import EngagementMode

JOURNEY_PHASE = "journey_phase"
COMPLETED = "self_service_completed"
ABANDONED = "self_service_abandoned"
CALLED = "called_support"
SIGNAL_TYPES = (COMPLETED, ABANDONED, CALLED)
LATEST_SIGNALS = 20
MIN_SIGNALS = 2
ORDER = (EngagementMode.self_service, EngagementMode.assisted, EngagementMode.full_service)


@dataclass(frozen=True)
class Counts:
    """A customer's latest signals in one phase."""

    completed: int
    abandoned: int
    called: int

    @property
    def total(self) -> int:
        """How many signals were counted."""
        return self.completed + self.abandoned + self.called


def observed_mode(counts: Counts | None) -> EngagementMode | None:
    """The mode the customer's behaviour shows, or None when too little is known."""
    if counts is None or counts.total < MIN_SIGNALS:
        return None
    mean = (counts.abandoned + 2 * counts.called) / counts.total
    return ORDER[min(math.floor(mean + 0.5), 2)]


def mode_in_force(
    phase: str,
    stated: EngagementMode | None,
    observed: EngagementMode | None,
    default: EngagementMode,
    profiling: bool,
) -> tuple[EngagementMode, str]:
    """The mode to use and why: the stated preference or the default, raised (never lowered) by behaviour."""
    baseline = stated or default
    said = (
        f"stated {stated.value}" if stated else f"no stated preference, so the tenant default {default.value}"
    )
    if not profiling:
        return baseline, f"In {phase}: {said}; behaviour is not used without profiling consent."
    if observed is None:
        return baseline, f"In {phase}: {said}; behaviour shows no clear mode yet."
    if ORDER.index(observed) > ORDER.index(baseline):
        return observed, (
            f"In {phase}: {said}, but behaviour shows {observed.value}: more assistance is offered "
            "(behaviour only ever adds assistance)."
        )
    if observed == baseline:
        return baseline, f"In {phase}: {said}; behaviour agrees."
    return baseline, (
        f"In {phase}: {said}; behaviour shows {observed.value}, but behaviour never lowers the assistance."
    )
