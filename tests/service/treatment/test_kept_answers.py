"""Kept treatment answers on PostgreSQL: reused until a notified change, an experiment change or the clock."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.db import session_scope
from service.holdouts import TOUCHPOINT, RunningExperiment, current
from service.tailoring.repository import CustomerChoices
from service.tenancy import repository as tenants
from service.treatment.kept_answers import TreatmentServing, changes_at
from service.treatment.plain_rows import (
    DecisionRead,
    PlainCustomer,
    PlainRelationshipSettings,
    PlainTouchpoint,
)
from tests.notifications import caught_up
from tests.service.treatment.conftest import START, SUPPORT, event, post_events


def live_serving(client: TestClient, db: Any) -> TreatmentServing:
    """The app's treatment serving once its listener is connected (PostgreSQL only)."""
    serving: TreatmentServing | None = client.app.state.treatment_serving  # type: ignore[attr-defined]
    if db.backend != "postgres":
        assert serving is None  # no notifications: every request decides from a fresh read
        pytest.skip("answers are kept only on PostgreSQL, which notifies changes")
    assert serving is not None
    deadline = time.monotonic() + 5
    while not serving.answers.live:
        assert time.monotonic() < deadline, "the change listener did not connect"
        time.sleep(0.01)
    return serving


@contextmanager
def unnotified(db: Any, table: str) -> Iterator[None]:
    """Writes to a table that serving is not told of (its notifying triggers disabled)."""
    with session_scope(db.engine) as session:
        session.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    try:
        yield
    finally:
        with session_scope(db.engine) as session:
            session.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def acme_id(db: Any) -> int:
    with session_scope(db.engine) as session:
        tenant = tenants.get_tenant_by_name(session, "acme")
        assert tenant is not None and tenant.id is not None
        return tenant.id


def kept_priority(serving: TreatmentServing, tenant_id: int, customer: str) -> Any:
    """The priority in the customer's kept answer at support ("none kept" if there is none)."""
    kept = serving.answers.get(tenant_id, customer, current().generation(tenant_id), "support")
    return "none kept" if kept is None else orjson.loads(kept.body)["priority"]


def test_an_answer_is_kept_until_a_policy_edit_is_notified(
    client: TestClient, scored, treatment, db, support_policy
) -> None:
    serving, tenant_id = live_serving(client, db), acme_id(db)
    never = {**copy.deepcopy(SUPPORT), "mode": "never"}
    # A notification the listener cannot read (another test session's, on the shared test database)
    # drops everything kept: then the round is tried again.
    for _ in range(10):
        assert client.put(
            "/v1/touchpoints/support", json=support_policy, headers=scored["marketer"]
        ).is_success
        assert treatment("c-39")["priority"] == 1
        if kept_priority(serving, tenant_id, "c-39") != 1:
            continue
        with unnotified(db, "touchpoints"):
            assert client.put("/v1/touchpoints/support", json=never, headers=scored["marketer"]).is_success
        caught_up(client, db)
        if kept_priority(serving, tenant_id, "c-39") == 1:
            break  # serving was not told: the answer from before the edit is still kept
    else:
        pytest.fail("the answer was never kept through an unnotified edit")
    assert client.put("/v1/touchpoints/support", json=never, headers=scored["marketer"]).is_success
    caught_up(client, db)
    assert kept_priority(serving, tenant_id, "c-39") == "none kept"
    assert treatment("c-39")["priority"] is None  # the next request after a notified edit


def test_new_choices_and_a_new_scoring_run_reach_the_next_answer(
    client: TestClient, scored, treatment, db, rescore: Callable[[], None]
) -> None:
    live_serving(client, db)
    first = treatment("c-0")
    channel = first["attributes"][0]
    assert channel["attribute"] == "support_channel" and channel["values"][0]["value"] == "chat"
    assert treatment("c-0") == first  # kept
    late = START + timedelta(days=30)
    choices = [
        event(f"late-{n}", "0", late, type="choice", attribute="support_channel", value="store")
        for n in range(20)
    ]
    post_events(client, scored["storefront"], choices)
    assert treatment("c-0")["attributes"][0]["values"][0]["value"] == "store"
    assert first["priority"] is None
    big = [event("big", "0", late, type="purchase", item_id="sku-1", weight=100_000)]
    post_events(client, scored["storefront"], big)
    rescore()  # customer values are rewritten: every answer of the tenant is dropped
    assert treatment("c-0")["priority"] == 1


def test_a_change_of_running_experiments_ends_kept_answers(client: TestClient, scored, treatment, db) -> None:
    live_serving(client, db)
    assert treatment("c-39")["experiment"] is None
    tenant_id = acme_id(db)
    running = RunningExperiment(9, tenant_id, "acme", TOUCHPOINT, "support", "salt", 0.5)
    client.app.state.holdouts.replace([running], [], tenant_id)  # type: ignore[attr-defined]
    assert treatment("c-39")["experiment"]["id"] == 9


def read_of(bought: datetime | None, declined: datetime | None) -> DecisionRead:
    """A decision read with, at most, one usual choice and one declined relationship type."""
    return DecisionRead(
        touchpoint=PlainTouchpoint(1, "support", "support", [], "auto", [], None),
        settings=None,
        customer=PlainCustomer(1, "c-1", True, True),
        value=None,
        stated=None,
        observed=None,
        relationship_settings=PlainRelationshipSettings([], 30, "Back"),
        relationship_stated=None,
        choices=CustomerChoices({}, {}, {} if bought is None else {"packaging": {"box": (3, bought)}}),
        relationship_events=(
            [] if declined is None else [("journey_phase", "support", "co_creation_declined", 1.0, declined)]
        ),
    )


def test_an_answer_is_kept_until_the_clock_changes_it() -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert changes_at(read_of(None, None), now) == float("inf")
    bought = now - timedelta(days=2, hours=5)  # "2 days ago" until 3 days have passed
    assert changes_at(read_of(bought, None), now) == (bought + timedelta(days=3)).timestamp()
    declined = now - timedelta(days=29)  # offered again when the 30-day cool-off ends
    assert changes_at(read_of(None, declined), now) == (declined + timedelta(days=30)).timestamp()
    assert (
        changes_at(read_of(bought, now - timedelta(days=31)), now) == (bought + timedelta(days=3)).timestamp()
    )
