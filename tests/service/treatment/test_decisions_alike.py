"""Decisions from the plain serving read are the very answers the ORM path gives, on thousands of cases."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.db import utcnow
from service.errors import NotFound
from service.holdouts import ATTRIBUTE, TOUCHPOINT, Holdouts, Measured, RunningExperiment, current, install
from service.serving.connections import ServingConnections
from service.tenancy import repository as tenants
from service.treatment import customer_treatment
from service.treatment.kept_answers import TreatmentServing
from service.treatment.schemas import TreatmentDecision
from tests.service.treatment.conftest import CHANNELS, START, define_attributes, event, post_events, score

pytestmark = pytest.mark.postgres
CUSTOMERS = 700
TYPES = ["top-down", "co-created", "improvisational", "bottom-up"]
RULES = [
    {"top_percent": 5, "priority": 1, "routing": "senior", "recognition": True},
    {"top_percent": 20, "priority": 2, "routing": "standard"},
]
TOUCHPOINTS = {
    "support": {"journey_phase": "support", "attributes": ["support_channel", "packaging"], "rules": RULES},
    "queue": {"journey_phase": "support", "rules": RULES},
    "desk": {
        "journey_phase": "support",
        "attributes": ["packaging", "gift_wrap", "relationship:support"],
        "mode": "always",
        "rules": [{"top_percent": 50, "priority": 3, "routing": "desk"}],
        "exit_ramp": {"channel": "chat", "label": "Chat with us", "contact": "https://example.com"},
    },
    "till": {"journey_phase": "checkout", "attributes": ["support_channel"], "mode": "never", "rules": RULES},
}


def varied_events(rng: np.random.Generator) -> list[dict[str, Any]]:
    """Choices, purchases, engagement signals, relationship choices and declines, customer by customer."""
    events: list[dict[str, Any]] = []
    recent = utcnow() - timedelta(days=3)
    for c in range(CUSTOMERS):
        name = str(c)
        for k in range(int(rng.integers(2, 8))):
            when = START + timedelta(days=k, hours=c % 24)
            channel = CHANNELS[c % 6] if rng.random() < 0.85 else CHANNELS[int(rng.integers(6))]
            events.append(
                event(f"ch{c}-{k}", name, when, type="choice", attribute="support_channel", value=channel)
            )
            packaging = "box" if rng.random() < 0.75 else "bag"
            events.append(
                event(f"pk{c}-{k}", name, when, type="choice", attribute="packaging", value=packaging)
            )
        for k in range(int(rng.integers(0, 4))):
            weight = round(float(rng.lognormal(3, 1)), 2)
            when = START + timedelta(days=int(rng.integers(60)))
            events.append(
                event(f"buy{c}-{k}", name, when, type="purchase", item_id=f"sku-{k}", weight=weight)
            )
        if c % 5 == 0:
            for k, kind in enumerate(("self_service_abandoned", "called_support", "self_service_completed")):
                when = START + timedelta(hours=k)
                events.append(
                    event(f"sig{c}-{k}", name, when, type=kind, attribute="journey_phase", value="support")
                )
        if c % 3 == 0:
            for k in range(int(rng.integers(2, 7))):
                kind = TYPES[c % 4] if rng.random() < 0.9 else TYPES[int(rng.integers(4))]
                when = START + timedelta(days=10 + k)
                events.append(
                    event(
                        f"rel{c}-{k}", name, when, type="choice", attribute="relationship:support", value=kind
                    )
                )
        if c % 12 == 9 or c % 7 == 0:  # some prefer co-creation: declined lately, or long ago
            when = recent if c % 24 == 9 or c % 14 == 0 else START
            events.append(
                event(
                    f"no{c}",
                    name,
                    when,
                    type="co_creation_declined",
                    attribute="journey_phase",
                    value="support",
                )
            )
    return events


def load(client: TestClient, keys: dict[str, dict[str, str]], db: Any) -> None:
    """Settings, customers with varied consents and statements, a scoring run, and four touchpoints."""
    define_attributes(db, "acme", ["support_channel", "packaging", "gift_wrap"])
    marketer, crm = keys["marketer"], keys["crm"]
    phases = {"phases": [{"journey_phase": "support", "default": "top-down"}], "decline_cooloff_days": 30}
    assert client.put("/v1/relationships/settings", json=phases, headers=marketer).is_success
    post_events(client, crm, varied_events(np.random.default_rng(3)))
    for c in range(0, CUSTOMERS, 11):
        consent = {"personalization": c % 22 != 0, "profiling": c % 33 != 0}
        body = {"traits": {}, "consent": consent}
        assert client.put(f"/v1/customers/c-{c}", json=body, headers=crm).is_success
    for c in range(0, CUSTOMERS, 9):
        mode = ["self-service", "assisted", "full-service"][c % 3]
        stated = {"preferences": [{"journey_phase": "support", "mode": mode}]}
        assert client.put(f"/v1/customers/c-{c}/engagement", json=stated, headers=crm).is_success
    for c in range(0, CUSTOMERS, 13):
        stated = {"preferences": [{"journey_phase": "support", "type": TYPES[c % 4]}]}
        assert client.put(f"/v1/customers/c-{c}/relationships", json=stated, headers=crm).is_success
    score(db)
    for name, body in TOUCHPOINTS.items():
        assert client.put(f"/v1/touchpoints/{name}", json=body, headers=marketer).is_success
    ramp = {"default_engagement_mode": "assisted", "exit_ramp": {"channel": "store", "label": "Visit us"}}
    assert client.put("/v1/treatment/settings", json=ramp, headers=marketer).is_success


def experiments(tenant_id: int) -> Holdouts:
    """A registry with running experiments on the support touchpoint and an attribute, and a verdict."""
    holdouts = Holdouts()
    running = [
        RunningExperiment(1, tenant_id, "acme", TOUCHPOINT, "support", "salt-1", 0.3),
        RunningExperiment(2, tenant_id, "acme", ATTRIBUTE, "packaging", "salt-2", 0.5),
    ]
    verdict = Measured(tenant_id, TOUCHPOINT, "queue", 3, "harms", True, "harmed the guardrail")
    holdouts.replace(running, [verdict])
    return holdouts


def readable(answer: bytes | str) -> str:
    """An answer as text, for a failure's message."""
    return answer.decode() if isinstance(answer, bytes) else answer


def old_way(db: Any, tenant_id: int, cases: list[tuple[str, str]]) -> list[bytes | str]:
    """Each decision through the ORM path, as JSON, or the problem's words."""
    answers: list[bytes | str] = []
    with Session(db.engine) as session:
        for external_id, touchpoint in cases:
            try:
                decision = customer_treatment.decide(session, tenant_id, external_id, touchpoint)
                answers.append(TreatmentDecision.__pydantic_serializer__.to_json(decision))
            except NotFound as missing:
                answers.append(str(missing))
    return answers


async def new_way(db: Any, tenant_id: int, cases: list[tuple[str, str]]) -> list[bytes | str]:
    """Each decision from the plain batched read, 64 at a time (so reads share statements)."""
    connections = ServingConnections(db.engine, 2)
    serving = TreatmentServing(db.engine, connections, 100)

    async def one(external_id: str, touchpoint: str) -> bytes | str:
        try:
            return await serving.decision(tenant_id, external_id, touchpoint)
        except NotFound as missing:
            return str(missing)

    answers: list[bytes | str] = []
    try:
        for start in range(0, len(cases), 64):
            answers += await asyncio.gather(*(one(*case) for case in cases[start : start + 64]))
    finally:
        await connections.close()
    return answers


@pytest.mark.slow
def test_thousands_of_decisions_are_the_same_either_way(client: TestClient, make_key, db) -> None:
    if db.backend != "postgres":
        pytest.skip("the plain serving read is PostgreSQL's")
    keys = {role: make_key(role) for role in ("marketer", "crm")}
    load(client, keys, db)
    with Session(db.engine) as session:
        tenant = tenants.get_tenant_by_name(session, "acme")
        assert tenant is not None and tenant.id is not None
        tenant_id = tenant.id
    cases = [(f"c-{c}", name) for c in range(CUSTOMERS) for name in TOUCHPOINTS]
    cases += [("nobody", "support"), ("c-1", "nowhere")]
    before = current()
    registry = install(experiments(tenant_id))
    try:
        old, new = old_way(db, tenant_id, cases), asyncio.run(new_way(db, tenant_id, cases))
        assert current() is registry, "another registry was installed while the decisions were made"
    finally:
        install(before)
    assert len(old) == len(new) == CUSTOMERS * len(TOUCHPOINTS) + 2
    differing = [(case, a, b) for case, a, b in zip(cases, old, new, strict=True) if a != b]
    assert not differing, (len(differing), [(case, readable(a), readable(b)) for case, a, b in differing[:3]])
    decided = [answer for answer in old if isinstance(answer, bytes)]
    # The cases cover what decisions turn on: tiers, experiments, tailoring, declines, consent.
    for needle in (b'"priority":1', b'"arm":"holdout"', b'"tailored":true', b"cool-off", b'"value":null'):
        assert any(needle in answer for answer in decided), needle
