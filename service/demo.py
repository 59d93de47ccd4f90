"""Seed the demo tenants through the same service code the API uses, score and train them, issue keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from service.catalog import service as catalog
from service.catalog.schemas import AttributePut
from service.config import Settings
from service.db import session_scope
from service.demo_data import DemoTenant, bookstore, petrol_station
from service.jobs.runner import ProgressBar
from service.profiles import service as profiles
from service.sync import service as sync
from service.tailoring.schemas import DecisionPublic
from service.tenancy import repository as tenants
from service.tenancy import service as tenancy
from service.tenancy.models import Role
from service.treatment import service as treatment
from service.treatment.schemas import TouchpointPut
from service.workloads import inline

EVENT_CHUNK = 5_000


@dataclass(frozen=True)
class SeededTenant:
    """A demo tenant ready to try: fresh keys per role and the decisions in force."""

    name: str
    keys: dict[str, str]
    decisions: list[DecisionPublic]
    model_version: int
    touchpoints: list[str]


def _seed(engine: Engine, tenant: DemoTenant) -> None:
    """Create the tenant with its catalog, customers and events."""
    with session_scope(engine) as session:
        tenant_id = tenancy.create_tenant(session, tenant.name).id or 0
        for attribute in tenant.attributes:
            body = AttributePut(kind=attribute["kind"], description=attribute["description"])
            catalog.put_attribute(session, tenant_id, attribute["name"], body)
        catalog.sync_items(session, tenant_id, enumerate(tenant.items, 1), len(tenant.items))
        for name, touchpoint in tenant.touchpoints.items():
            treatment.put_touchpoint(session, tenant_id, None, name, TouchpointPut.model_validate(touchpoint))
        sync.sync_customers(session, tenant_id, enumerate(tenant.customers, 1), len(tenant.customers))
    for start in range(0, len(tenant.events), EVENT_CHUNK):
        with session_scope(engine) as session:
            profiles.ingest_events(
                session, tenant_id, tenant.events[start : start + EVENT_CHUNK], EVENT_CHUNK
            )


def _issue_keys(engine: Engine, name: str) -> dict[str, str]:
    """A new key for every role (keys are shown once, so each demo start prints new ones)."""
    with session_scope(engine) as session:
        return {role.value: tenancy.issue_key(session, name, role.value).key for role in Role}


def seed_demo(engine: Engine, settings: Settings, progress: ProgressBar) -> list[SeededTenant]:
    """Seed (once), score and train the bookstore and the petrol station; return keys and decisions."""
    seeded = []
    for make in (bookstore, petrol_station):
        tenant = make()
        with session_scope(engine) as session:
            exists = tenants.get_tenant_by_name(session, tenant.name) is not None
        if not exists:
            _seed(engine, tenant)
        decisions = inline.score_now(engine, tenant.name, None, progress)
        version = inline.train_now(engine, tenant.name, settings, progress)
        keys = _issue_keys(engine, tenant.name)
        seeded.append(SeededTenant(tenant.name, keys, decisions, version.id, list(tenant.touchpoints)))
    return seeded
