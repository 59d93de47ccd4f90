"""Tenants seeded from the synthetic generators straight into the tables, trained through the API."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import col

from recommender.datasets import EventLog, bookstore_like
from service.catalog.models import Item, ItemValue
from service.config import Settings
from service.db import session_scope, utcnow
from service.profiles.models import Customer, Event, Preference
from service.tenancy import repository as tenants
from tests import snapshots

START = datetime(2026, 1, 1, tzinfo=UTC)
Headers = dict[str, str]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small, quick models, picked up by the serving cache within a few hundredths of a second."""
    return settings.model_copy(
        update={
            "model_reload_seconds": 0.05,
            "lightfm_epochs": 20,
            "lightfm_components": 16,
            "gate_bootstrap_rounds": 100,
        }
    )


def tenant_id(db: Any, name: str) -> int:
    """The id of a tenant created by make_key."""
    with session_scope(db.engine) as session:
        tenant = tenants.get_tenant_by_name(session, name)
        assert tenant is not None and tenant.id is not None
        return tenant.id


def seed(
    db: Any,
    tenant: str,
    log: EventLog,
    *,
    no_consent: frozenset[str] = frozenset(),
    preferences: Mapping[str, Mapping[str, float]] | None = None,
) -> None:
    """Customers (segment trait), events, items and item values of a synthetic log, written directly."""
    tid = tenant_id(db, tenant)
    customers = sorted(set(log.customer_ids.tolist()) | set(preferences or {}))
    with session_scope(db.engine) as session:
        session.execute(
            sa.insert(Customer),
            [
                {
                    "tenant_id": tid,
                    "external_id": c,
                    "traits": {"segment": log.customer_segments[c]} if c in log.customer_segments else {},
                    "consent_personalization": c not in no_consent,
                    "consent_profiling": True,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
                for c in customers
            ],
        )
        ids: dict[str, int] = dict(
            session.execute(
                sa.select(col(Customer.external_id), col(Customer.id)).where(col(Customer.tenant_id) == tid)
            ).all()
        )
        session.execute(
            sa.insert(Event),
            [
                {
                    "tenant_id": tid,
                    "customer_id": ids[c],
                    "event_id": f"e{n}",
                    "type": "purchase",
                    "item_id": i,
                    "weight": float(w),
                    "occurred_at": START + timedelta(seconds=float(t)),
                }
                for n, (c, i, w, t) in enumerate(
                    zip(log.customer_ids.tolist(), log.item_ids.tolist(), log.weights, log.times, strict=True)
                )
            ],
        )
        items = sorted(set(log.item_features) | set(log.item_ids.tolist()))
        session.execute(
            sa.insert(Item),
            [
                {
                    "tenant_id": tid,
                    "item_id": i,
                    "attributes": dict(t.split("=", 1) for t in log.item_features.get(i, [])),
                    "active": True,
                    "updated_at": utcnow(),
                }
                for i in items
            ],
        )
        values = [
            {"tenant_id": tid, "item_id": i, "attribute": a, "value": v}
            for i, tokens in log.item_features.items()
            for a, v in (t.split("=", 1) for t in set(tokens))
        ]
        if values:
            session.execute(sa.insert(ItemValue), values)
        stated = [
            {
                "tenant_id": tid,
                "customer_id": ids[c],
                "attribute": a,
                "value": v,
                "weight": w,
                "source": "stated",
            }
            for c, prefs in (preferences or {}).items()
            for (a, v), w in ((token.split("=", 1), w) for token, w in prefs.items())
        ]
        if stated:
            session.execute(sa.insert(Preference), stated)


@dataclass
class Shop:
    """A seeded tenant under test, with its keys and the HTTP calls tests make."""

    client: TestClient
    db: Any
    tenant: str
    log: EventLog
    marketer: Headers
    storefront: Headers
    version: int | None = None

    def get(self, path: str, role: str = "storefront", **params: Any) -> Any:
        """GET with the key of a role."""
        return self.client.get(path, params=params, headers=getattr(self, role))

    def recommend(self, customer: str, **params: Any) -> dict[str, Any]:
        """A 200 answer of the recommendations endpoint."""
        response = self.get(f"/v1/customers/{customer}/recommendations", **params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def train(self, seconds: float = 120) -> dict[str, Any]:
        """Start a training run through the API and poll it until it finishes."""
        started = self.client.post("/v1/models/runs", headers=self.marketer)
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            run = self.get(f"/v1/models/runs/{started.json()['id']}", "marketer").json()
            if run["status"] in ("succeeded", "failed"):
                return dict(run)
            time.sleep(0.05)
        raise AssertionError("the training run did not finish")

    def publish(self) -> int:
        """Train, then wait until the serving cache answers with the new version."""
        run = self.train()
        assert run["status"] == "succeeded", run
        return self.served(int(run["summary"]["model_version"]))

    def served(self, version: int) -> int:
        """Wait until the serving cache answers with a model version."""
        self.version = version
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            response = self.get("/v1/customers/anyone/recommendations")
            if response.status_code == 200 and response.json()["model_version"] == self.version:
                return self.version
            time.sleep(0.02)
        raise AssertionError(f"model version {self.version} was not served within 10 s")

    def share_with(self, items: list[dict[str, Any]], token: str) -> float:
        """The share of recommended items having a feature token."""
        if not items:
            return 0.0
        return float(np.mean([token in self.log.item_features[i["item_id"]] for i in items]))

    def deactivate(self, item_ids: list[str]) -> None:
        """Mark items inactive, as a catalog sync would."""
        tid = tenant_id(self.db, self.tenant)
        with session_scope(self.db.engine) as session:
            session.execute(
                sa.update(Item)
                .where(col(Item.tenant_id) == tid, col(Item.item_id).in_(item_ids))
                .values(active=False, updated_at=utcnow())
            )


ShopMaker = Callable[..., Shop]


@pytest.fixture
def open_shop(client: TestClient, make_key: Callable[..., Headers], db: Any) -> ShopMaker:
    """Seed a tenant from a log, and (unless told not to) train it and wait until it is served."""

    def _open(log: EventLog, tenant: str = "acme", publish: bool = True, **seeding: Any) -> Shop:
        shop = Shop(client, db, tenant, log, make_key("marketer", tenant), make_key("storefront", tenant))
        seed(db, tenant, log, **seeding)
        if publish:
            shop.publish()
        return shop

    return _open


@pytest.fixture
def bookstore(open_shop: ShopMaker, client: TestClient, db: Any, settings: Settings) -> Shop:
    """A bookstore-like tenant, trained and served (one-to-one); customer c1 opted out.

    The first test of a process trains it through the API; later ones get its database contents back.
    """
    log = bookstore_like(seed=3)

    def train() -> tuple[Headers, Headers, int | None]:
        shop = open_shop(log, no_consent=frozenset({"c1"}))
        return shop.marketer, shop.storefront, shop.version

    marketer, storefront, version = snapshots.built_once("bookstore", db, settings, train)
    shop = Shop(client, db, "acme", log, marketer, storefront)
    shop.served(version or 0)
    return shop


@contextmanager
def transaction_held_open(db: Any) -> Iterator[None]:
    """PostgreSQL: a writing transaction open throughout (as a long bulk sync's), rolled back after."""
    with db.engine.connect() as connection:
        connection.execute(sa.text("SELECT pg_current_xact_id()"))
        try:
            yield
        finally:
            connection.rollback()
