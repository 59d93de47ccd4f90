"""Whether an attribute's data suffice for a verdict: enough customers, events and held-out choices."""

from __future__ import annotations


def insufficiency(
    customers: int,
    events_per_customer: float,
    evaluated_customers: int,
    min_customers: int,
    min_events_per_customer: float,
) -> str | None:
    """Why the data are too thin for a verdict, or None when they suffice."""
    if customers < min_customers:
        return f"only {customers} customers chose a value (need {min_customers})"
    if events_per_customer < min_events_per_customer:
        return (
            f"most customers have fewer than {min_events_per_customer:g} events "
            f"(median {events_per_customer:g})"
        )
    if evaluated_customers < min_customers:
        return f"only {evaluated_customers} customers have a held-out event (need {min_customers})"
    return None
