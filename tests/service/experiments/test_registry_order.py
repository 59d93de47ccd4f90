"""The serving registry of holdouts: a reload that read the database before a change never undoes it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.experiments import service as experiments
from service.holdouts import Holdouts, Measured
from service.tenancy import repository as tenants
from tests.service.experiments.conftest import Headers, define_attribute
from tests.service.experiments.test_attribute import GENRE_EXPERIMENT

PAYS = Measured(1, "attribute", "genre", 7, "pays", False, "pays, measured on 2026-12-03")


def test_a_reload_that_read_before_a_change_does_not_undo_it() -> None:
    """The background reload read no verdict, a request then stored one: the reload's late answer loses."""
    holdouts = Holdouts()
    ticket = holdouts.ticket()  # the background reload starts reading: no verdict yet
    holdouts.replace([], [PAYS], tenant_id=1)  # a request's commit puts the verdict in
    holdouts.replace([], [], ticket=ticket)  # the reload's answer arrives after it
    assert holdouts.measured(1, "attribute", "genre") == PAYS


def test_a_reload_that_read_after_a_change_applies() -> None:
    """A reload that started after the change is the newer word, for every tenant it read."""
    holdouts = Holdouts()
    holdouts.replace([], [PAYS], tenant_id=1)
    holdouts.replace([], [], ticket=holdouts.ticket())
    assert holdouts.measured(1, "attribute", "genre") is None


def test_a_rolled_back_change_never_reaches_serving(client: TestClient, db: Any, admin: Headers) -> None:
    """Stopping an experiment in a transaction that rolls back leaves it running for serving."""
    define_attribute(db, "acme", "genre")
    created = client.post("/v1/experiments", json=GENRE_EXPERIMENT, headers=admin)
    assert created.status_code == 201, created.text
    holdouts = client.app.state.holdouts  # type: ignore[attr-defined]
    with Session(db.engine) as session:
        tenant = tenants.get_tenant_by_name(session, "acme")
        assert tenant is not None and tenant.id is not None
        tenant_id = tenant.id
        experiments.stop(session, None, tenant_id, created.json()["id"])
        session.rollback()
    assert holdouts.arm(tenant_id, "attribute", "genre", "c-1") is not None
