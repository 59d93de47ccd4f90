"""The scoring job: aggregate each attribute's events in SQL, score it, publish all results at once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy.engine import Engine
from sqlmodel import Session

from recommender.value.counts import AttributeCounts
from recommender.value.score import AttributeScore
from recommender.value.scorer import ScorerSettings, score_attribute
from service.catalog import repository as catalog
from service.db import session_scope
from service.jobs.models import Run
from service.jobs.runner import Progress
from service.tailoring import repository
from service.tailoring.models import AttributeResult
from service.tailoring.thresholds import effective_settings

logger = logging.getLogger("tailorwise.tailoring")


def counts_from(split: repository.SplitCounts) -> tuple[AttributeCounts, list[str]]:
    """Sparse train/test/stated matrices (customers x values) and the value labels in column order."""
    labels, value_index = np.unique(
        np.asarray(split.value + split.stated_value, dtype=object), return_inverse=True
    )
    customers, customer_index = np.unique(split.customer, return_inverse=True)
    n_rows = len(split.value)
    event_values, stated_values = value_index[:n_rows], value_index[n_rows:]
    shape = (len(customers), len(labels))

    def matrix(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((split.weight[mask], (customer_index[mask], event_values[mask])), shape=shape)

    known = np.searchsorted(customers, split.stated_customer)
    keep = (known < len(customers)) & (
        customers[np.minimum(known, len(customers) - 1)] == split.stated_customer
    )
    stated = sp.csr_matrix((split.stated_weight[keep], (known[keep], stated_values[keep])), shape=shape)
    counts = AttributeCounts(
        train=matrix(~split.held_out), test=matrix(split.held_out), stated=stated if stated.nnz else None
    )
    return counts, [str(label) for label in labels]


def score_tenant(engine: Engine, run: Run, progress: Progress) -> Callable[[Session], dict[str, Any]]:
    """Score every defined attribute (or the one asked for); nothing is written until all succeed."""
    with session_scope(engine) as session:
        repository.refresh_statistics(session)
    with session_scope(engine) as session:
        settings = effective_settings(session, run.tenant_id)
        slots = {a.name: a.slots for a in catalog.list_attributes(session, run.tenant_id)}
    wanted = run.params.get("attribute")
    names = [n for n in slots if wanted is None or n == wanted]
    scorer = ScorerSettings(
        k=settings.k,
        min_customers=settings.min_customers,
        min_events_per_customer=settings.min_events_per_customer,
    )
    results: list[AttributeResult] = []
    skipped: list[dict[str, str]] = []
    for position, name in enumerate(names):
        progress(position / max(len(names), 1), f"scoring {name} ({position + 1}/{len(names)})")
        with session_scope(engine) as session:
            split = repository.split_counts(session, run.tenant_id, name)
        counts, labels = counts_from(split)
        score = _score_or_reason(counts, labels, scorer, slots[name])
        if isinstance(score, str):
            logger.warning("run %s skips attribute %s: %s", run.id, name, score)
            skipped.append({"attribute": name, "reason": score})
            score = unscorable(score, len(labels), scorer.k or 1)
        results.append(
            AttributeResult(
                tenant_id=run.tenant_id,
                run_id=run.id or 0,
                attribute=name,
                score=score.to_dict(),
                value_labels=labels,
            )
        )

    def write(session: Session) -> dict[str, Any]:
        repository.add_results(session, results)
        scored = [r.attribute for r in results if r.attribute not in {s["attribute"] for s in skipped}]
        return {"attributes": scored, "skipped": skipped}

    return write


def _score_or_reason(
    counts: AttributeCounts, labels: list[str], scorer: ScorerSettings, slots: int | None
) -> AttributeScore | str:
    """The attribute's score, or why the scorer cannot score it (a numeric failure skips only it)."""
    if not labels:
        return "no item carries a value of it, so no choice of one is known"
    try:
        return score_attribute(counts, scorer, slots=slots)
    except (ArithmeticError, ValueError) as exc:
        return f"the scorer could not score it ({type(exc).__name__})"


def unscorable(reason: str, n_values: int, k: int) -> AttributeScore:
    """A score that measured nothing and says why: its decision is undetermined with this reason."""
    return AttributeScore(
        k=k,
        n_values=n_values,
        customers=0,
        events=0.0,
        events_per_customer=0.0,
        evaluated_customers=0,
        held_out_events=0.0,
        sufficient_data=False,
        insufficient_reason=reason,
        phi=None,
        lift=None,
        delta_hit=None,
        hit_rate=None,
        population_hit_rate=None,
    )
