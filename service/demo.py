"""Seed the demo tenants through the same service code the API uses, score them, issue keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from service.catalog import service as catalog
from service.catalog.schemas import AttributePut
from service.db import session_scope
from service.demo_data import DemoTenant, bookstore, petrol_station
from service.jobs.runner import ProgressBar
from service.profiles import service as profiles
from service.sync import service as sync
from service.tailoring import jobs as tailoring_jobs
from service.tailoring.schemas import DecisionPublic
from service.tenancy import repository as tenants
from service.tenancy import service as tenancy
from service.tenancy.models import Role

EVENT_CHUNK = 5_000


@dataclass(frozen=True)
class SeededTenant:
    """A demo tenant ready to try: fresh keys per role and the decisions in force."""

    name: str
    keys: dict[str, str]
    decisions: list[DecisionPublic]


def _seed(engine: Engine, tenant: DemoTenant) -> None:
    """Create the tenant with its catalog, customers and events."""
    with session_scope(engine) as session:
        tenant_id = tenancy.create_tenant(session, tenant.name).id or 0
        for attribute in tenant.attributes:
            body = AttributePut(kind=attribute["kind"], description=attribute["description"])
            catalog.put_attribute(session, tenant_id, attribute["name"], body)
        catalog.sync_items(session, tenant_id, enumerate(tenant.items, 1), len(tenant.items))
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


def seed_demo(engine: Engine, progress: ProgressBar) -> list[SeededTenant]:
    """Seed (once) and score the bookstore and the petrol station; return their keys and decisions."""
    seeded = []
    for make in (bookstore, petrol_station):
        tenant = make()
        with session_scope(engine) as session:
            exists = tenants.get_tenant_by_name(session, tenant.name) is not None
        if not exists:
            _seed(engine, tenant)
        decisions = tailoring_jobs.score_now(engine, tenant.name, None, progress)
        seeded.append(SeededTenant(tenant.name, _issue_keys(engine, tenant.name), decisions))
    return seeded
