"""Whether priority treatment measurably lifts outcomes at a touchpoint: the touchpoint's holdout experiment.

A touchpoint in `auto` mode applies its rules until this says they do not pay. The experiments domain
keeps each touchpoint's latest measured verdict in the serving registry (service/holdouts): True when
the always-valid lower bound of the uplift of treated over held-out customers is above 0 (`pays`),
False when the upper bound is below 0 or a guardrail was harmed (`harms`), None while nothing has been
measured or the result is inconclusive.
"""

from __future__ import annotations

from service.holdouts import TOUCHPOINT, Measured, current
from service.treatment.plain_rows import TouchpointFields


def measured_at(touchpoint: TouchpointFields) -> Measured | None:
    """The touchpoint's latest measured verdict, with the sentence explaining it."""
    return current().measured(touchpoint.tenant_id, TOUCHPOINT, touchpoint.name)


def treatment_pays(touchpoint: TouchpointFields) -> bool | None:
    """Measured evidence that priority treatment lifts outcomes at the touchpoint; None: not measured."""
    measured = measured_at(touchpoint)
    return None if measured is None else measured.verdict == "pays"
