"""Per-arm sufficient statistics of an experiment's metric, aggregated in SQL (on PostgreSQL in two halves).

PostgreSQL reads the two halves of the exposed customers (by customer id) on two connections at once,
both in one snapshot, and adds their sums: the same figures as one statement over all of them.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from service.db import is_postgres

Sums = tuple[int, float, float, float, float, float]

# The exposed customers of a range of ids who have not withdrawn personalization consent (the foreign key
# removes exposures of erased customers).
_EXPOSED = """x.experiment_id = :experiment_id AND x.tenant_id = :tenant_id
        AND x.customer_id >= :low AND x.customer_id < :high
        AND NOT EXISTS (
            SELECT 1 FROM customers c
            WHERE c.tenant_id = :tenant_id AND c.id = x.customer_id AND NOT c.consent_personalization
        )"""
# Per arm: n, and the sums of y (the metric over the window after first exposure), y^2, x (over the same
# length of time before it), x^2 and x*y. Customers with no such event in the windows add only to n, so
# the events are an inner join: with the event filters equalities outside an outer join, PostgreSQL reads
# ix_events_tenant_type_customer_time in customer order (index only) and merge-joins it with the
# exposures, which come in (customer, arm) order with their windows' bounds computed once each (OFFSET 0
# keeps PostgreSQL from flattening that subquery), so that each customer's events are grouped unsorted.
_ARM_STATISTICS = f"""
WITH per_customer AS (
    SELECT x.arm AS arm,
        COALESCE({{agg}}(CASE WHEN {{after}} THEN {{value}} END), 0) AS y,
        COALESCE({{agg}}(CASE WHEN {{before}} THEN {{value}} END), 0) AS x
    FROM (
        SELECT x.customer_id, x.arm, x.exposed_at, {{since}} AS since, {{until}} AS until
        FROM experiment_exposures x
        WHERE {_EXPOSED}
        ORDER BY x.customer_id, x.arm {{fence}}
    ) x
    JOIN events e ON e.customer_id = x.customer_id AND {{within}}
    WHERE e.tenant_id = :tenant_id AND e.type = :event_type
        AND e.customer_id >= :low AND e.customer_id < :high
    GROUP BY x.customer_id, x.arm
),
sums AS (
    SELECT arm, SUM(y) AS sy, SUM(y * y) AS syy, SUM(x) AS sx, SUM(x * x) AS sxx, SUM(x * y) AS sxy
    FROM per_customer GROUP BY arm
),
sizes AS (
    SELECT x.arm AS arm, COUNT(*) AS n FROM experiment_exposures x WHERE {_EXPOSED} GROUP BY x.arm
)
SELECT sizes.arm, sizes.n, sums.sy, sums.syy, sums.sx, sums.sxx, sums.sxy
FROM sizes LEFT JOIN sums ON sums.arm = sizes.arm
"""
_WINDOWS = {
    "postgresql": {
        "after": "e.occurred_at >= x.exposed_at",
        "before": "e.occurred_at < x.exposed_at",
        "since": "x.exposed_at - make_interval(days => :days)",
        "until": "x.exposed_at + make_interval(days => :days)",
        "within": "e.occurred_at >= x.since AND e.occurred_at < x.until",
        "fence": "OFFSET 0",
    },
    "sqlite": {
        "after": "julianday(e.occurred_at) >= julianday(x.exposed_at)",
        "before": "julianday(e.occurred_at) < julianday(x.exposed_at)",
        "since": "julianday(x.exposed_at) - :days",
        "until": "julianday(x.exposed_at) + :days",
        "within": "julianday(e.occurred_at) >= x.since AND julianday(e.occurred_at) < x.until",
        "fence": "",
    },
}
# measure -> (aggregate over a customer's events, the value of one event)
MEASURES = {"conversion": ("MAX", "1.0"), "count": ("SUM", "1.0"), "sum": ("SUM", "e.weight")}
# The halves split at the median customer id of the exposures (in the primary key's order), so that
# they hold as many customers each however the ids are spread.
_MIDDLE_CUSTOMER_ID = """
SELECT customer_id FROM experiment_exposures WHERE experiment_id = :experiment_id
ORDER BY experiment_id, customer_id
OFFSET (SELECT COUNT(*) / 2 FROM experiment_exposures WHERE experiment_id = :experiment_id) LIMIT 1
"""
# Each half runs once and reads every event of its customers in the windows: compiling it costs more
# than it saves; the two halves are the parallelism (2 cores), and a hash join of all the tenant's events
# loses to the merge join on the index.
_PLAN_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL max_parallel_workers_per_gather = 0")
_NO_HASH_JOIN = "SET LOCAL enable_hashjoin = off"
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")
_ALL_IDS = (0, 2**62)


def _half(connection: Connection, statement: sa.TextClause, params: dict[str, Any]) -> dict[str, Sums]:
    """One half's per-arm sums."""
    for setting in (*_PLAN_SETTINGS, _NO_HASH_JOIN):
        connection.execute(sa.text(setting))
    return _sums(connection.execute(statement, params))


def _sums(rows: Any) -> dict[str, Sums]:
    """Per-arm sums from the statement's rows."""
    return {
        str(arm): (int(n), float(sy or 0), float(syy or 0), float(sx or 0), float(sxx or 0), float(sxy or 0))
        for arm, n, sy, syy, sx, sxx, sxy in rows
    }


def _added(parts: list[dict[str, Sums]]) -> dict[str, Sums]:
    """The halves' sums added per arm."""
    total: dict[str, Sums] = {}
    for part in parts:
        for arm, sums in part.items():
            before = total.get(arm, (0, 0.0, 0.0, 0.0, 0.0, 0.0))
            n, sy, syy, sx, sxx, sxy = (a + b for a, b in zip(before, sums, strict=True))
            total[arm] = (int(n), sy, syy, sx, sxx, sxy)
    return total


def _in_halves(session: Session, statement: sa.TextClause, params: dict[str, Any]) -> dict[str, Sums]:
    """PostgreSQL: the two halves of the customers on two connections at once, in one snapshot."""
    middle = session.execute(sa.text(_MIDDLE_CUSTOMER_ID), params).scalar()
    if middle is None:
        return {}
    low, high = _ALL_IDS
    halves = [{**params, "low": low, "high": middle}, {**params, "low": middle, "high": high}]
    engine = session.get_bind().engine
    with (
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as first,
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as second,
        ThreadPoolExecutor(max_workers=1) as helper,
    ):
        snapshot = str(first.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one())
        assert _SNAPSHOT_ID.fullmatch(snapshot), "a snapshot id is hex digits and dashes"
        second.execute(sa.text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        other = helper.submit(_half, second, statement, halves[1])
        return _added([_half(first, statement, halves[0]), other.result()])


def arm_statistics(
    session: Session, tenant_id: int, experiment_id: int, event_type: str, measure: str, window_days: int
) -> dict[str, Sums]:
    """Per arm: n and the sums of y, y^2, x, x^2, x*y of one metric, aggregated in the database."""
    agg, value = MEASURES[measure]
    postgres = is_postgres(session)
    windows = _WINDOWS["postgresql" if postgres else "sqlite"]
    statement = sa.text(_ARM_STATISTICS.format(agg=agg, value=value, **windows))
    params = {
        "experiment_id": experiment_id,
        "tenant_id": tenant_id,
        "event_type": event_type,
        "days": window_days,
    }
    if postgres:
        return _in_halves(session, statement, params)
    low, high = _ALL_IDS
    return _sums(session.execute(statement, {**params, "low": low, "high": high}))
