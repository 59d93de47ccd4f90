"""Queries of the tailoring domain, including the event-to-count aggregation done in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.catalog.models import Attribute
from service.db import UTCDateTime, is_postgres
from service.tailoring.models import AttributeResult, TailoringSettings

# Each customer's choices of one attribute's values: through the items they chose, and directly.
_CHOICES = """
    SELECT e.id AS event_pk, e.customer_id, iv.value AS value, e.weight, e.occurred_at
    FROM events e
    JOIN item_values iv
      ON iv.tenant_id = e.tenant_id AND iv.item_id = e.item_id AND iv.attribute = :attribute
    WHERE e.tenant_id = :tenant_id AND (e.attribute IS NULL OR e.attribute <> :attribute)
    UNION ALL
    SELECT e.id, e.customer_id, e.value, e.weight, e.occurred_at
    FROM events e
    WHERE e.tenant_id = :tenant_id AND e.attribute = :attribute
"""

# Counts per customer and value, split in time: each customer's latest choice event is held out
# when the customer has at least two. Only customers who consented to profiling are scored.
_SPLIT_COUNTS = sa.text(f"""
    WITH choices AS ({_CHOICES}),
    ranked AS (
        SELECT ch.customer_id, ch.value, ch.weight,
               DENSE_RANK() OVER newest_first AS recency,
               DENSE_RANK() OVER oldest_first + DENSE_RANK() OVER newest_first - 1 AS n_events
        FROM choices ch JOIN customers c ON c.tenant_id = :tenant_id AND c.id = ch.customer_id
        WHERE c.consent_profiling
        WINDOW newest_first AS (PARTITION BY ch.customer_id ORDER BY ch.occurred_at DESC, ch.event_pk DESC),
               oldest_first AS (PARTITION BY ch.customer_id ORDER BY ch.occurred_at, ch.event_pk)
    ),
    split AS (
        SELECT customer_id, value, weight,
               CASE WHEN recency = 1 AND n_events >= 2 THEN 1 ELSE 0 END AS held_out
        FROM ranked
    )
    SELECT customer_id, value, held_out, SUM(weight) AS weight
    FROM split GROUP BY customer_id, value, held_out
""")

_STATED = sa.text("""
    SELECT p.customer_id, p.value, p.weight
    FROM preferences p JOIN customers c ON c.tenant_id = p.tenant_id AND c.id = p.customer_id
    WHERE p.tenant_id = :tenant_id AND p.attribute = :attribute AND c.consent_profiling
""")

# One customer's weighted choices of every attribute (kind 0), then the customer's stated preferences
# (kind 1), in one round trip.
# Per chosen value: summed weight, purchases (positive weight) and the latest of them; stated weights.
# Binds :tenant_id and :customer_id (treatment's serving read puts its own columns in their place).
CUSTOMER_CHOICES_SQL = """
    SELECT 0 AS kind, iv.attribute, iv.value, SUM(e.weight) AS weight,
        SUM(CASE WHEN e.weight > 0 THEN 1 ELSE 0 END) AS times,
        MAX(CASE WHEN e.weight > 0 THEN e.occurred_at END) AS latest
    FROM events e
    JOIN item_values iv ON iv.tenant_id = e.tenant_id AND iv.item_id = e.item_id
    WHERE e.customer_id = :customer_id AND e.tenant_id = :tenant_id
      AND (e.attribute IS NULL OR e.attribute <> iv.attribute)
    GROUP BY iv.attribute, iv.value
    UNION ALL
    SELECT 0, e.attribute, e.value, SUM(e.weight), SUM(CASE WHEN e.weight > 0 THEN 1 ELSE 0 END),
        MAX(CASE WHEN e.weight > 0 THEN e.occurred_at END)
    FROM events e
    WHERE e.customer_id = :customer_id AND e.tenant_id = :tenant_id AND e.attribute IS NOT NULL
    GROUP BY e.attribute, e.value
    UNION ALL
    SELECT 1, p.attribute, p.value, p.weight, 0, NULL
    FROM preferences p
    WHERE p.customer_id = :customer_id AND p.tenant_id = :tenant_id
"""
_CUSTOMER_CHOICES = sa.text(CUSTOMER_CHOICES_SQL).columns(
    sa.column("kind", sa.Integer),
    sa.column("attribute", sa.String),
    sa.column("value", sa.String),
    sa.column("weight", sa.Float),
    sa.column("times", sa.Integer),
    sa.column("latest", UTCDateTime()),
)


@dataclass(frozen=True)
class SplitCounts:
    """Aggregated choices of one attribute as parallel arrays (customer ids are internal ids)."""

    customer: np.ndarray
    value: list[str]
    held_out: np.ndarray
    weight: np.ndarray
    stated_customer: np.ndarray
    stated_value: list[str]
    stated_weight: np.ndarray


def refresh_statistics(session: Session) -> None:
    """On PostgreSQL, ANALYZE what scoring aggregates: a plan made before a bulk load can be very slow."""
    if is_postgres(session):
        session.execute(sa.text("ANALYZE events, item_values, customers, preferences"))


def split_counts(session: Session, tenant_id: int, attribute: str) -> SplitCounts:
    """The attribute's choice counts per customer and value, with the time split, and stated preferences."""
    params = {"tenant_id": tenant_id, "attribute": attribute}
    rows = session.execute(_SPLIT_COUNTS, params).all()
    stated = session.execute(_STATED, params).all()
    return SplitCounts(
        customer=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        value=[r[1] for r in rows],
        held_out=np.fromiter((r[2] for r in rows), dtype=np.int8, count=len(rows)).astype(bool),
        weight=np.fromiter((r[3] for r in rows), dtype=np.float64, count=len(rows)),
        stated_customer=np.fromiter((r[0] for r in stated), dtype=np.int64, count=len(stated)),
        stated_value=[r[1] for r in stated],
        stated_weight=np.fromiter((r[2] for r in stated), dtype=np.float64, count=len(stated)),
    )


Weights = dict[str, dict[str, float]]


@dataclass(frozen=True)
class CustomerChoices:
    """One customer's weighted choices and stated preferences (attribute -> value -> weight), and
    how often and when last each value was bought (attribute -> value -> (times, latest))."""

    counts: Weights
    stated: Weights
    bought: dict[str, dict[str, tuple[int, datetime]]]


def customer_choices(session: Session, tenant_id: int, customer_id: int) -> CustomerChoices:
    """One customer's choices, stated preferences and purchase memory per attribute value."""
    params = {"tenant_id": tenant_id, "customer_id": customer_id}
    return choices_from(session.execute(_CUSTOMER_CHOICES, params))


def choices_from(rows: Iterable[Sequence[Any]]) -> CustomerChoices:
    """CustomerChoices from (kind, attribute, value, weight, times, latest) rows of CUSTOMER_CHOICES_SQL."""
    found = CustomerChoices({}, {}, {})
    for kind, attribute, value, weight, times, latest in rows:
        if kind:
            found.stated.setdefault(attribute, {})[value] = float(weight)
            continue
        by_value = found.counts.setdefault(attribute, {})
        by_value[value] = by_value.get(value, 0.0) + float(weight)
        if times and latest is not None:
            before = found.bought.setdefault(attribute, {}).get(value)
            if before is not None:
                times, latest = times + before[0], max(latest, before[1])
            found.bought[attribute][value] = (int(times), latest)
    return found


def get_settings(session: Session, tenant_id: int) -> TailoringSettings | None:
    """The tenant's stored tailoring settings."""
    return session.get(TailoringSettings, tenant_id)


def save_settings(session: Session, settings: TailoringSettings) -> None:
    """Insert or update the tenant's tailoring settings."""
    session.add(settings)
    session.flush()


def add_results(session: Session, results: Sequence[AttributeResult]) -> None:
    """Stage the results of a run."""
    session.add_all(results)
    session.flush()


Heads = list[tuple[Attribute, int, datetime]]


def _result_heads(by_name: bool) -> sa.Select:
    """The statement behind result_heads, built once; binds tenant_id (and name when by_name)."""
    newest = (
        sa.select(sa.func.max(AttributeResult.id))
        .where(
            col(AttributeResult.tenant_id) == col(Attribute.tenant_id),
            col(AttributeResult.attribute) == col(Attribute.name),
        )
        .correlate(Attribute)
        .scalar_subquery()
    )
    query = (
        sa.select(Attribute, col(AttributeResult.id), col(AttributeResult.computed_at), TailoringSettings)
        .join(AttributeResult, col(AttributeResult.id) == newest)
        .outerjoin(TailoringSettings, col(TailoringSettings.tenant_id) == col(Attribute.tenant_id))
        .where(col(Attribute.tenant_id) == sa.bindparam("tenant_id"))
        .order_by(col(Attribute.name))
    )
    return query.where(col(Attribute.name) == sa.bindparam("name")) if by_name else query


_RESULT_HEADS = {by_name: _result_heads(by_name) for by_name in (False, True)}


def result_heads(
    session: Session, tenant_id: int, attribute: str | None = None
) -> tuple[TailoringSettings | None, Heads]:
    """The stored settings, and each scored attribute with its newest result's id and time: one read."""
    params = {"tenant_id": tenant_id} if attribute is None else {"tenant_id": tenant_id, "name": attribute}
    rows = session.execute(_RESULT_HEADS[attribute is not None], params).all()
    heads = [(row, result_id or 0, computed_at) for row, result_id, computed_at, _ in rows]
    return (rows[0][3] if rows else None), heads


def results_by_id(session: Session, ids: Sequence[int]) -> Sequence[AttributeResult]:
    """Stored results by id."""
    if not ids:
        return []
    return session.exec(select(AttributeResult).where(col(AttributeResult.id).in_(ids))).all()


def results_of_run(session: Session, tenant_id: int, run_id: int) -> Sequence[AttributeResult]:
    """The results one run wrote."""
    query = select(AttributeResult).where(
        AttributeResult.tenant_id == tenant_id, AttributeResult.run_id == run_id
    )
    return session.exec(query.order_by(col(AttributeResult.attribute))).all()


def results_of_attribute(
    session: Session, tenant_id: int, attribute: str, limit: int
) -> Sequence[AttributeResult]:
    """An attribute's newest results across runs, newest first."""
    query = select(AttributeResult).where(
        AttributeResult.tenant_id == tenant_id, AttributeResult.attribute == attribute
    )
    return session.exec(query.order_by(col(AttributeResult.id).desc()).limit(limit)).all()
