"""The query of an experiment's history: per arm and day, what each day adds to the sufficient statistics."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

from service.db import is_postgres
from service.experiments.statistics_repository import MEASURES

# Where an event falls against a customer's exposure, by dialect.
_WINDOWS = {
    "postgresql": {
        "after": "e.occurred_at >= x.exposed_at",
        "before": "e.occurred_at < x.exposed_at",
        "within": "e.occurred_at >= x.exposed_at - make_interval(days => :days)"
        " AND e.occurred_at < x.exposed_at + make_interval(days => :days)",
    },
    "sqlite": {
        "after": "julianday(e.occurred_at) >= julianday(x.exposed_at)",
        "before": "julianday(e.occurred_at) < julianday(x.exposed_at)",
        "within": "julianday(e.occurred_at) >= julianday(x.exposed_at) - :days"
        " AND julianday(e.occurred_at) < julianday(x.exposed_at) + :days",
    },
}

# One pass over the exposed, consenting customers and their events in the windows (as the results read
# them). per_day: a customer's metric per day of the experiment after exposure (day NULL: the pre-period,
# the CUPED covariate). running: the customer's outcome up to each such day (y) and before it (y_before).
# Then per arm and day: the customers exposed that day add n, x and x^2; each day with events adds the
# change of y, y^2 and x*y. Days count from the experiment's first day (UTC dates).
_DAILY_INCREMENTS = """
WITH per_day AS (
    SELECT x.customer_id AS customer_id, x.arm AS arm, {exposed_day} AS exposed_day,
        CASE WHEN {after} THEN {event_day} END AS day,
        {agg}(CASE WHEN e.customer_id IS NOT NULL THEN {value} END) AS v
    FROM experiment_exposures x
    LEFT JOIN events e ON e.tenant_id = :tenant_id AND e.type = :event_type AND e.customer_id = x.customer_id
        AND {within}
    WHERE x.experiment_id = :experiment_id AND x.tenant_id = :tenant_id
        AND NOT EXISTS (
            SELECT 1 FROM customers c
            WHERE c.tenant_id = :tenant_id AND c.id = x.customer_id AND NOT c.consent_personalization
        )
    GROUP BY x.tenant_id, x.experiment_id, x.customer_id, 4
),
running AS (
    SELECT arm, exposed_day, day,
        COALESCE(MAX(CASE WHEN day IS NULL THEN v END) OVER (PARTITION BY customer_id), 0) AS x,
        COALESCE({agg}(CASE WHEN day IS NOT NULL THEN v END) OVER (
            PARTITION BY customer_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 0) AS y,
        COALESCE({agg}(CASE WHEN day IS NOT NULL THEN v END) OVER (
            PARTITION BY customer_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
            AS y_before,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY day) AS nth
    FROM per_day
)
SELECT arm, exposed_day, COUNT(*), 0, 0, SUM(x), SUM(x * x), 0 FROM running WHERE nth = 1
GROUP BY arm, exposed_day
UNION ALL
SELECT arm, day, 0, SUM(y - y_before), SUM(y * y - y_before * y_before), 0, 0, SUM(x * (y - y_before))
FROM running WHERE day IS NOT NULL GROUP BY arm, day
"""
_DAYS = {
    "postgresql": {
        "exposed_day": "((x.exposed_at AT TIME ZONE 'UTC')::date - CAST(:first_day AS date))",
        "event_day": "((e.occurred_at AT TIME ZONE 'UTC')::date - CAST(:first_day AS date))",
    },
    "sqlite": {
        "exposed_day": "CAST(julianday(date(x.exposed_at)) - julianday(:first_day) AS INTEGER)",
        "event_day": "CAST(julianday(date(e.occurred_at)) - julianday(:first_day) AS INTEGER)",
    },
}

DayRow = tuple[int, tuple[float, float, float, float, float, float]]


def daily_increments(
    session: Session,
    tenant_id: int,
    experiment_id: int,
    event_type: str,
    measure: str,
    window_days: int,
    first_day: date,
) -> dict[str, list[DayRow]]:
    """Per arm, (day, increments of n, sum y, y^2, x, x^2, x*y) rows of one metric, in one query."""
    agg, value = MEASURES[measure]
    dialect = "postgresql" if is_postgres(session) else "sqlite"
    if dialect == "postgresql":
        session.execute(sa.text("SET LOCAL jit = off"))
    query = sa.text(_DAILY_INCREMENTS.format(agg=agg, value=value, **_WINDOWS[dialect], **_DAYS[dialect]))
    params = {
        "experiment_id": experiment_id,
        "tenant_id": tenant_id,
        "event_type": event_type,
        "days": window_days,
        "first_day": first_day.isoformat(),
    }
    found: dict[str, list[DayRow]] = {}
    for arm, day, n, sy, syy, sx, sxx, sxy in session.execute(query, params):
        sums = (float(n), float(sy or 0), float(syy or 0), float(sx or 0), float(sxx or 0), float(sxy or 0))
        found.setdefault(str(arm), []).append((int(day), sums))
    return found
