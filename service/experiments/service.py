"""Rules of experiments: create, list, stop (audited), answer a customer's arm, take external exposures."""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import Session

from recommender.experiments.assignment import assign, bucket_of
from service.audit import service as audit
from service.auth import Caller
from service.catalog import repository as catalog
from service.db import utcnow
from service.errors import Conflict, NotFound, Unprocessable, field_error
from service.experiments import registry, repository
from service.experiments.models import RUNNING, STOPPED, Experiment
from service.experiments.schemas import (
    AssignmentPublic,
    ExperimentCreate,
    ExperimentPublic,
    ExposureBatch,
    ExposureBatchResult,
)
from service.holdouts import current
from service.pagination import cursor_id, id_page
from service.schemas import Page
from service.treatment import repository as treatment


def new_salt() -> str:
    """A random salt for an experiment's hash: each experiment splits customers its own way."""
    return secrets.token_hex(8)


def scope_key(kind: str, target: str | None) -> str:
    """One string per scope: `attribute:genre`, `touchpoint:support`, `recommendations`, `global`."""
    return kind if target is None else f"{kind}:{target}"


def to_public(experiment: Experiment) -> ExperimentPublic:
    """An experiment as the marketer sees it."""
    scope: dict[str, Any] = {"kind": experiment.scope_kind}
    if experiment.scope_target is not None:
        scope[experiment.scope_kind] = experiment.scope_target
    return ExperimentPublic(
        id=experiment.id or 0,
        name=experiment.name,
        scope=scope,
        holdout_share=experiment.holdout_share,
        assignment=experiment.assignment,
        goal=experiment.goal,
        guardrails=experiment.guardrails,
        auto_stop=experiment.auto_stop,
        status=experiment.status,
        started_at=experiment.started_at,
        stopped_at=experiment.stopped_at,
        verdict=experiment.verdict,
        verdict_reason=experiment.verdict_reason,
        verdict_note=experiment.verdict_note,
        verdict_at=experiment.verdict_at,
        switched_off_at=experiment.switched_off_at,
    )


def _check_target(session: Session, tenant_id: int, body: ExperimentCreate) -> None:
    """The attribute or touchpoint named exists."""
    scope = body.scope
    if scope.kind == "attribute" and catalog.get_attribute(session, tenant_id, scope.attribute or "") is None:
        raise Unprocessable(
            f"No attribute {scope.attribute!r} is defined.",
            errors=[field_error("body.scope.attribute", "unknown attribute")],
        )
    if (
        scope.kind == "touchpoint"
        and treatment.get_touchpoint(session, tenant_id, scope.touchpoint or "") is None
    ):
        raise Unprocessable(
            f"No touchpoint {scope.touchpoint!r}.",
            errors=[field_error("body.scope.touchpoint", "unknown touchpoint")],
        )


def create(
    session: Session, caller: Caller | None, tenant_id: int, body: ExperimentCreate
) -> ExperimentPublic:
    """Start an experiment (409 when its scope already has a running one); audit-logged."""
    _check_target(session, tenant_id, body)
    key = scope_key(body.scope.kind, body.scope.target)
    running = repository.running_in_scope(session, tenant_id, key)
    if running is not None:
        raise Conflict(f"Experiment {running.id} ({running.name!r}) runs over scope {key!r}: stop it first.")
    experiment = repository.add(
        session,
        Experiment(
            tenant_id=tenant_id,
            name=body.name,
            scope_kind=body.scope.kind,
            scope_target=body.scope.target,
            scope_key=key,
            holdout_share=body.holdout_share,
            assignment=body.assignment,
            salt=new_salt(),
            goal=body.goal.model_dump(mode="json"),
            guardrails=[g.model_dump(mode="json") for g in body.guardrails],
            auto_stop=body.auto_stop,
        ),
    )
    public = to_public(experiment)
    audit.record(
        session,
        tenant_id,
        caller,
        "experiment.started",
        str(experiment.id),
        None,
        public.model_dump(mode="json"),
    )
    registry.refresh_on_commit(session, current(), tenant_id)
    return public


def require(session: Session, tenant_id: int, experiment_id: int) -> Experiment:
    """The tenant's experiment, or a 404."""
    experiment = repository.get(session, tenant_id, experiment_id)
    if experiment is None:
        raise NotFound(f"No experiment {experiment_id}.")
    return experiment


def get(session: Session, tenant_id: int, experiment_id: int) -> ExperimentPublic:
    """One experiment."""
    return to_public(require(session, tenant_id, experiment_id))


def page(session: Session, tenant_id: int, cursor: str | None, limit: int) -> Page[ExperimentPublic]:
    """The tenant's experiments, newest first."""
    rows = repository.page(session, tenant_id, cursor_id(cursor), limit)
    return id_page(rows, limit, lambda found: [to_public(e) for e in found])


def stop(
    session: Session, caller: Caller | None, tenant_id: int, experiment_id: int, why: str = "stopped"
) -> ExperimentPublic:
    """Stop a running experiment (its verdict stays); audit-logged."""
    experiment = require(session, tenant_id, experiment_id)
    if experiment.status != RUNNING:
        raise Conflict(f"Experiment {experiment_id} is not running.")
    experiment.status, experiment.stopped_at = STOPPED, utcnow()
    repository.add(session, experiment)
    audit.record(
        session,
        tenant_id,
        caller,
        "experiment.stopped",
        str(experiment_id),
        {"status": RUNNING},
        {"status": STOPPED, "why": why},
    )
    registry.refresh_on_commit(session, current(), tenant_id)
    return to_public(experiment)


def assignment(session: Session, tenant_id: int, experiment_id: int, customer_id: str) -> AssignmentPublic:
    """A customer's arm in a hash experiment, computed (nothing stored per customer)."""
    experiment = require(session, tenant_id, experiment_id)
    if experiment.assignment != "hash":
        raise Conflict(f"Experiment {experiment_id} takes its arms from outside (assignment external).")
    tenant_key = repository.tenant_name(session, tenant_id)
    return AssignmentPublic(
        experiment_id=experiment_id,
        customer_id=customer_id,
        arm=assign(tenant_key, experiment.salt, customer_id, experiment.holdout_share),
        bucket=bucket_of(tenant_key, experiment.salt, customer_id),
    )


def record_exposures(
    session: Session, tenant_id: int, experiment_id: int, body: ExposureBatch
) -> ExposureBatchResult:
    """Store first exposures (idempotent); a row contradicting the hash is a 422 naming it."""
    experiment = require(session, tenant_id, experiment_id)
    if experiment.status != RUNNING:
        raise Conflict(f"Experiment {experiment_id} is not running.")
    if experiment.assignment == "hash":
        tenant_key = repository.tenant_name(session, tenant_id)
        for index, row in enumerate(body.exposures):
            arm = assign(tenant_key, experiment.salt, row.customer_id, experiment.holdout_share)
            if row.arm != arm:
                raise Unprocessable(
                    f"Customer {row.customer_id!r} is in the {arm} arm of hash experiment {experiment_id}.",
                    errors=[field_error(f"body.exposures[{index}].arm", f"the hash assigns {arm!r}")],
                )
    known = repository.customers_by_external_id(session, tenant_id, [r.customer_id for r in body.exposures])
    firsts: dict[int, dict[str, Any]] = {}
    unknown = without_consent = 0
    for row in sorted(body.exposures, key=lambda r: r.exposed_at):
        customer = known.get(row.customer_id)
        if customer is None:
            unknown += 1
        elif not customer.consent:
            without_consent += 1
        elif customer.id not in firsts:
            firsts[customer.id] = {
                "experiment_id": experiment_id,
                "customer_id": customer.id,
                "tenant_id": tenant_id,
                "arm": row.arm,
                "exposed_at": row.exposed_at,
            }
    existing = repository.exposed_customer_ids(session, experiment_id, list(firsts))
    repository.insert_exposures(session, [row for cid, row in firsts.items() if cid not in existing])
    recorded = len(firsts) - len(existing)
    return ExposureBatchResult(
        recorded=recorded,
        duplicates=len(body.exposures) - recorded - unknown - without_consent,
        unknown_customers=unknown,
        without_consent=without_consent,
    )
