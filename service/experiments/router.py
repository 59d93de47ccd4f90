"""HTTP endpoints of experiments: create, list, stop, assignment, exposures and results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.auth import AnyRole, CrmOrStorefront, Marketer
from service.db import SessionDep
from service.experiments import history, results, service
from service.experiments.schemas import (
    AssignmentPublic,
    ExperimentCreate,
    ExperimentPublic,
    ExposureBatch,
    ExposureBatchResult,
)
from service.schemas import ExternalId, Page

router = APIRouter(tags=["experiments"])


@router.post("/v1/experiments", response_model=ExperimentPublic, status_code=201)
def create(body: ExperimentCreate, caller: Marketer, session: SessionDep) -> ExperimentPublic:
    """Start a holdout experiment over a scope (409 naming the running one if the scope has one)."""
    return service.create(session, caller, caller.tenant_id, body)


@router.get("/v1/experiments", response_model=Page[ExperimentPublic])
def list_experiments(
    caller: Marketer,
    session: SessionDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ExperimentPublic]:
    """The tenant's experiments, newest first."""
    return service.page(session, caller.tenant_id, cursor, limit)


@router.get("/v1/experiments/{experiment_id}", response_model=ExperimentPublic)
def get(experiment_id: int, caller: Marketer, session: SessionDep) -> ExperimentPublic:
    """One experiment with its latest verdict."""
    return service.get(session, caller.tenant_id, experiment_id)


@router.post("/v1/experiments/{experiment_id}/stop", response_model=ExperimentPublic)
def stop(experiment_id: int, caller: Marketer, session: SessionDep) -> ExperimentPublic:
    """Stop a running experiment: every customer gets the scope's usual answer again."""
    return service.stop(session, caller, caller.tenant_id, experiment_id)


@router.get("/v1/experiments/{experiment_id}/assignment", response_model=AssignmentPublic)
def assignment(
    experiment_id: int, customer_id: Annotated[ExternalId, Query()], caller: AnyRole, session: SessionDep
) -> AssignmentPublic:
    """A customer's arm in a hash experiment ("is this customer held out?"), computed, nothing stored."""
    return service.assignment(session, caller.tenant_id, experiment_id, customer_id)


@router.post("/v1/experiments/{experiment_id}/exposures", response_model=ExposureBatchResult)
def exposures(
    experiment_id: int, body: ExposureBatch, caller: CrmOrStorefront, session: SessionDep
) -> ExposureBatchResult:
    """Report up to 10,000 exposures (first kept; an arm against the hash is a 422 naming the row)."""
    return service.record_exposures(session, caller.tenant_id, experiment_id, body)


@router.get("/v1/experiments/{experiment_id}/results")
def get_results(experiment_id: int, caller: Marketer, session: SessionDep) -> dict[str, Any]:
    """Analyse now: per metric arm sizes, means, uplifts (Welch and always-valid), CUPED, SRM, power, verdict.

    The verdict is stored; with auto_stop, `harms` on a scope in mode auto switches it to its default.
    """
    return results.results(session, caller, caller.tenant_id, experiment_id)


@router.get("/v1/experiments/{experiment_id}/results/history")
def get_results_history(
    experiment_id: int,
    caller: Marketer,
    session: SessionDep,
    points: Annotated[int, Query(ge=1, le=history.MOST_POINTS)] = history.DEFAULT_POINTS,
) -> dict[str, Any]:
    """Per metric, the uplift with its always-valid and fixed-horizon CIs as of the end of each day.

    Days count from the start to now (or the stop), thinned evenly to at most `points`; the last point
    equals the results now. Read only: no verdict is stored.
    """
    return history.history(session, caller.tenant_id, experiment_id, points)
