"""Queries of recommendations: training data, model versions and the catalog's state."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from service.catalog.models import Item, ItemValue
from service.profiles.models import Customer, CustomerChange, Event, Preference
from service.recommendations.models import ModelVersion

SEGMENT_TRAIT = "segment"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TrainingEvents:
    """Item events of customers who consented to profiling, as parallel arrays on external ids."""

    customer_ids: np.ndarray
    item_ids: np.ndarray
    weights: np.ndarray
    times: np.ndarray


def training_events(session: Session, tenant_id: int) -> TrainingEvents:
    """The tenant's item events (oldest first), of customers who consented to profiling."""
    query = (
        select(Customer.external_id, Event.item_id, Event.weight, Event.occurred_at)
        .join(Customer, col(Customer.id) == col(Event.customer_id))
        .where(
            Event.tenant_id == tenant_id,
            Customer.tenant_id == tenant_id,
            col(Event.item_id).is_not(None),
            col(Customer.consent_profiling),
        )
        .order_by(col(Event.occurred_at), col(Event.id))
    )
    rows = session.exec(query).all()
    return TrainingEvents(
        customer_ids=np.array([r[0] for r in rows], dtype=str),
        item_ids=np.array([r[1] for r in rows], dtype=str),
        weights=np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows)),
        times=np.fromiter((r[3].timestamp() for r in rows), dtype=np.float64, count=len(rows)),
    )


def customer_segments(session: Session, tenant_id: int) -> dict[str, str]:
    """The `segment` trait of the tenant's customers who consented to profiling and have one."""
    segment = col(Customer.traits)[SEGMENT_TRAIT].as_string()
    query = sa.select(col(Customer.external_id), segment).where(
        col(Customer.tenant_id) == tenant_id, col(Customer.consent_profiling), segment.is_not(None)
    )
    return {external_id: str(label) for external_id, label in session.execute(query)}


def stated_preferences(session: Session, tenant_id: int) -> dict[str, dict[str, float]]:
    """Stated preferences as LightFM tokens `attribute=value` per customer who consented to profiling."""
    query = (
        select(Customer.external_id, Preference.attribute, Preference.value, Preference.weight)
        .join(Customer, col(Customer.id) == col(Preference.customer_id))
        .where(
            Preference.tenant_id == tenant_id,
            Customer.tenant_id == tenant_id,
            col(Customer.consent_profiling),
        )
    )
    stated: dict[str, dict[str, float]] = {}
    for external_id, attribute, value, weight in session.exec(query):
        stated.setdefault(external_id, {})[feature_token(attribute, value)] = float(weight)
    return stated


def item_features(session: Session, tenant_id: int, attributes: Collection[str]) -> dict[str, list[str]]:
    """LightFM item tokens `attribute=value` of the given attributes, per item."""
    if not attributes:
        return {}
    query = select(ItemValue.item_id, ItemValue.attribute, ItemValue.value).where(
        ItemValue.tenant_id == tenant_id, col(ItemValue.attribute).in_(sorted(attributes))
    )
    features: dict[str, list[str]] = {}
    for item_id, attribute, value in session.exec(query):
        features.setdefault(item_id, []).append(feature_token(attribute, value))
    return features


def feature_token(attribute: str, value: str) -> str:
    """The token naming one attribute value, for items and stated preferences alike."""
    return f"{attribute}={value}"


def add_version(session: Session, version: ModelVersion) -> ModelVersion:
    """Stage a model version and assign its id."""
    session.add(version)
    session.flush()
    return version


_SUMMARY_ONLY = (defer(ModelVersion.artifact), defer(ModelVersion.popularity))  # type: ignore[arg-type]


def get_version(session: Session, tenant_id: int, version_id: int) -> ModelVersion | None:
    """The tenant's model version with this id, without its artifacts."""
    query = select(ModelVersion).options(*_SUMMARY_ONLY)
    query = query.where(ModelVersion.tenant_id == tenant_id, ModelVersion.id == version_id)
    return session.exec(query).first()


def page_versions(
    session: Session, tenant_id: int, before_id: int | None, limit: int
) -> Sequence[ModelVersion]:
    """The tenant's model versions newest first, without their artifacts."""
    query = select(ModelVersion).options(*_SUMMARY_ONLY).where(ModelVersion.tenant_id == tenant_id)
    if before_id is not None:
        query = query.where(col(ModelVersion.id) < before_id)
    return session.exec(query.order_by(col(ModelVersion.id).desc()).limit(limit)).all()


def latest_version_id(session: Session, tenant_id: int) -> int | None:
    """The id of the tenant's newest model version (the one serving)."""
    query = sa.select(sa.func.max(col(ModelVersion.id))).where(col(ModelVersion.tenant_id) == tenant_id)
    return session.execute(query).scalar()


def latest_versions(session: Session) -> dict[int, int]:
    """The newest model version id of every tenant that has one (for the serving cache)."""
    query = sa.select(col(ModelVersion.tenant_id), sa.func.max(col(ModelVersion.id))).group_by(
        col(ModelVersion.tenant_id)
    )
    return {tenant_id: version_id for tenant_id, version_id in session.execute(query)}


def load_version(session: Session, tenant_id: int, version_id: int) -> ModelVersion | None:
    """The tenant's model version with its artifacts."""
    query = select(ModelVersion).where(ModelVersion.tenant_id == tenant_id, ModelVersion.id == version_id)
    return session.exec(query).first()


def version_ids(session: Session, tenant_id: int) -> list[int]:
    """The ids of every stored model version of the tenant, oldest first."""
    query = sa.select(col(ModelVersion.id)).where(col(ModelVersion.tenant_id) == tenant_id)
    return [int(version_id) for version_id in session.execute(query.order_by(col(ModelVersion.id))).scalars()]


def replace_artifact(session: Session, tenant_id: int, version_id: int, artifact: bytes) -> None:
    """Store a model version's rewritten model artifact."""
    version = col(ModelVersion.tenant_id) == tenant_id, col(ModelVersion.id) == version_id
    session.execute(sa.update(ModelVersion).where(*version).values(artifact=artifact))


def erased_since(session: Session, since: datetime, tenant_id: int | None = None) -> dict[int, set[str]]:
    """External ids erased (tombstoned) after a time, by tenant (one tenant's, or every tenant's)."""
    query = sa.select(col(CustomerChange.tenant_id), col(CustomerChange.external_id)).where(
        col(CustomerChange.deleted), col(CustomerChange.changed_at) > since
    )
    if tenant_id is not None:
        query = query.where(col(CustomerChange.tenant_id) == tenant_id)
    erased: dict[int, set[str]] = {}
    for tenant, external_id in session.execute(query):
        erased.setdefault(tenant, set()).add(external_id)
    return erased


@dataclass(frozen=True)
class CatalogState:
    """What serving needs of a tenant's catalog: inactive items and each item's attribute values."""

    inactive: list[str]
    values: list[tuple[str, str, str]]


def catalog_signature(session: Session, tenant_id: int, since: datetime | None) -> tuple[int, Any]:
    """How many items changed after `since` and the latest change (index range on updated_at)."""
    query = sa.select(sa.func.count(), sa.func.max(col(Item.updated_at))).where(
        col(Item.tenant_id) == tenant_id, col(Item.updated_at) > (since or EPOCH)
    )
    count, latest = session.execute(query).one()
    return int(count), latest


def catalog_state(session: Session, tenant_id: int) -> CatalogState:
    """The tenant's inactive items and all item attribute values."""
    inactive = sa.select(col(Item.item_id)).where(col(Item.tenant_id) == tenant_id, ~col(Item.active))
    values = sa.select(col(ItemValue.item_id), col(ItemValue.attribute), col(ItemValue.value)).where(
        col(ItemValue.tenant_id) == tenant_id
    )
    return CatalogState(
        inactive=list(session.execute(inactive).scalars()),
        values=[(item_id, attribute, value) for item_id, attribute, value in session.execute(values)],
    )
