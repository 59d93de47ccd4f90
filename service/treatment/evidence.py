"""Whether priority treatment measurably lifts outcomes at a touchpoint: the seam for holdout experiments.

A touchpoint in `auto` mode applies its rules until this says they do not pay. Today no experiment
has measured a touchpoint, so the answer is None (no evidence) and the rules apply. When holdout
experiments land, the experiment on a touchpoint will answer here: True when the lower bound of the
measured uplift of treated over held-out customers is above 0, False when its upper bound is at or
below 0, None while it runs or when it is inconclusive.
"""

from __future__ import annotations

from service.treatment.models import Touchpoint


def treatment_pays(touchpoint: Touchpoint) -> bool | None:
    """Measured evidence that priority treatment lifts outcomes at the touchpoint; None: not measured yet."""
    return None
