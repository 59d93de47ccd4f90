"""All queries of recommendations: training data, model versions, catalog state and the serving read."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from select import POLLIN, poll
from typing import Any

import anyio
import numpy as np
import orjson
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from service.batching import BatchLoader
from service.catalog.models import Item, ItemValue
from service.db import UTCDateTime, is_postgres
from service.profiles.models import Customer, Event, Preference
from service.recommendations.models import ModelVersion
from service.recommendations.read_cache import CHANNEL, PROBE, ReadCache

logger = logging.getLogger("tailorwise.serving")

SEGMENT_TRAIT = "segment"
# How often the change listener checks that its own probe comes back, and how long it waits to reconnect.
LISTEN_PING_SECONDS = 5.0
LISTEN_RETRY_SECONDS = 1.0
LISTENER_NAME = "tailorwise-serving-listener"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


@dataclass(frozen=True)
class CatalogState:
    """What serving needs of a tenant's catalog: inactive items and each item's attribute values."""

    inactive: list[str]
    values: list[tuple[str, str, str]]


def catalog_signature(session: Session, tenant_id: int, since: datetime | None) -> tuple[int, Any]:
    """How many items changed after `since` and the latest change (index range on updated_at)."""
    query = sa.select(sa.func.count(), sa.func.max(col(Item.updated_at))).where(
        col(Item.tenant_id) == tenant_id, col(Item.updated_at) > (since or _EPOCH)
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


@dataclass(frozen=True)
class CustomerRead:
    """One customer as serving needs them, and the items deactivated since the cache last looked.

    `seen` holds the items chosen in transactions from `events_from_txid` on (0: all of them).
    """

    found: bool
    consent: bool
    segment: str | None
    seen: frozenset[str]
    preferences: dict[str, float]
    deactivated: frozenset[str]
    events_from_txid: int = 0


# Fragments over a request `r` (tenant_id, external_id, since, events_from) and its customer `c`.
_INACTIVE_SINCE = "i.tenant_id = r.tenant_id AND i.updated_at > r.since AND NOT i.active"
_SEEN = """FROM events e WHERE e.customer_id = c.id AND e.txid >= r.events_from
    AND e.tenant_id = r.tenant_id AND e.item_id IS NOT NULL"""
_STATED = "FROM preferences p WHERE p.customer_id = c.id AND p.tenant_id = r.tenant_id"
# PostgreSQL: a batch of requests in one statement, one row per request in request order (the lateral
# join keeps each customer an index lookup, whatever the batch size): consent, segment, items chosen
# from the request's transaction horizon on, stated preferences, items deactivated since the snapshot.
_POSTGRES_BATCH = f"""
    SELECT c.consent_personalization, c.segment, c.seen, c.stated,
        ARRAY(SELECT i.item_id FROM items i WHERE {_INACTIVE_SINCE})
    FROM unnest(%(tenant_ids)s::bigint[], %(external_ids)s::text[], %(since)s::timestamptz[],
        %(events_from)s::bigint[]) WITH ORDINALITY AS r(tenant_id, external_id, since, events_from, n)
    LEFT JOIN LATERAL (
        SELECT c.consent_personalization, c.traits ->> '{SEGMENT_TRAIT}' AS segment,
            ARRAY(SELECT DISTINCT e.item_id {_SEEN}) AS seen,
            (SELECT json_agg(json_build_array(p.attribute, p.value, p.weight)) {_STATED}) AS stated
        FROM customers c WHERE c.tenant_id = r.tenant_id AND c.external_id = r.external_id
    ) c ON true
    ORDER BY r.n
"""
_ONE_REQUEST = """(SELECT :tenant_id AS tenant_id, :external_id AS external_id, :since AS since,
    :events_from_txid AS events_from) AS r"""
# SQLite: the same row for one request.
_SQLITE_READ = sa.text(f"""
    SELECT c.consent_personalization, json_extract(c.traits, '$.{SEGMENT_TRAIT}'),
        (SELECT json_group_array(DISTINCT e.item_id) {_SEEN}),
        (SELECT json_group_array(json_array(p.attribute, p.value, p.weight)) {_STATED}),
        (SELECT json_group_array(i.item_id) FROM items i WHERE {_INACTIVE_SINCE})
    FROM {_ONE_REQUEST}
    LEFT JOIN customers c ON c.tenant_id = r.tenant_id AND c.external_id = r.external_id
""").bindparams(sa.bindparam("since", type_=UTCDateTime()))
_DEACTIVATED_READ = sa.text(
    f"SELECT i.item_id FROM (SELECT :tenant_id AS tenant_id, :since AS since) AS r"
    f" JOIN items i ON {_INACTIVE_SINCE}"
).bindparams(sa.bindparam("since", type_=UTCDateTime()))


def _listed(value: Any) -> list[Any]:
    """An aggregate as a list: PostgreSQL gives arrays and parsed JSON, SQLite JSON text or NULL."""
    if value is None:
        return []
    return orjson.loads(value) if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class CustomerKey:
    """What one serving read asks for: a tenant's customer, and changes after the snapshot's time."""

    tenant_id: int
    external_id: str
    since: datetime
    events_from_txid: int = 0


class ServingReads:
    """The per-request reads: on PostgreSQL batched over held-open async connections, else in a thread.

    On PostgreSQL, customer reads that arrive while another is in flight share the next round trip
    (one statement for the batch, each customer an index lookup); connections run in autocommit, so
    there is no pool checkout ping and no transaction, and psycopg prepares the statements. With
    `kept_reads` above zero, once `start` has run, each customer's read is kept until a change
    notification drops it (see read_cache), so a returning customer costs no round trip at all.
    """

    def __init__(self, engine: Engine, size: int, kept_reads: int = 0) -> None:
        self._engine = engine
        self.postgres = is_postgres(engine)
        self._idle: list[psycopg.AsyncConnection[tuple[Any, ...]]] = []
        self._slots = asyncio.Semaphore(size)
        self.customers = BatchLoader(self._customer_rows, concurrency=size)
        self._deactivated_sql = str(_DEACTIVATED_READ.compile(dialect=engine.dialect))
        self.kept: ReadCache[CustomerKey, CustomerRead] | None = None
        if self.postgres and kept_reads > 0:
            self.kept = ReadCache(kept_reads)
        self._listener: asyncio.Task[None] | None = None
        self._unheard = poll()

    def start(self) -> None:
        """Start listening for change notifications (on the running loop), if reads are kept."""
        if self.kept is not None and self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen(self.kept))

    async def customer(self, key: CustomerKey) -> CustomerRead:
        """One customer's serving read: the kept one, or a batched round trip."""
        kept = self.kept
        if kept is None:
            return _customer_read(key, await self.customers.load(key))
        found = kept.get(key.tenant_id, key.external_id, key)
        # A notification already on the listener's socket but not yet handled may concern this read.
        if found is not None and not self._unheard.poll(0):
            return found
        token = kept.token(key.tenant_id)
        read = _customer_read(key, await self.customers.load(key))
        kept.keep(key.tenant_id, key.external_id, key, read, token)
        return read

    async def deactivated(self, tenant_id: int, since: datetime) -> list[str]:
        """Items of a tenant deactivated after `since`."""
        params = {"tenant_id": tenant_id, "since": since}
        if not self.postgres:
            rows = await anyio.to_thread.run_sync(self._sqlite_rows, _DEACTIVATED_READ, [params])
            return [row[0] for row in rows]
        return [row[0] for row in await self._postgres_rows(self._deactivated_sql, params)]

    async def close(self) -> None:
        """Stop listening and close the idle connections."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        while self._idle:
            await self._idle.pop().close()

    async def _customer_rows(self, keys: list[CustomerKey]) -> list[tuple[Any, ...]]:
        """One row per key, in order."""
        if not self.postgres:
            each = [asdict(k) for k in keys]
            return await anyio.to_thread.run_sync(self._sqlite_rows, _SQLITE_READ, each)
        params = {
            "tenant_ids": [k.tenant_id for k in keys],
            "external_ids": [k.external_id for k in keys],
            "since": [k.since for k in keys],
            "events_from": [k.events_from_txid for k in keys],
        }
        return await self._postgres_rows(_POSTGRES_BATCH, params)

    async def _postgres_rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                cursor = await connection.execute(sql, params)
                rows = await cursor.fetchall()
            except BaseException:
                await connection.close()
                raise
            self._idle.append(connection)
            return rows

    def _sqlite_rows(self, statement: sa.TextClause, each: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """The rows of a statement run once per parameter set, on one connection."""
        with self._engine.connect() as connection:
            return [tuple(row) for params in each for row in connection.execute(statement, params)]

    async def _connect(self, application_name: str | None = None) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        arguments, options = self._engine.dialect.create_connect_args(self._engine.url)
        if application_name is not None:
            options = {**options, "application_name": application_name}
        return await psycopg.AsyncConnection.connect(*arguments, **options, autocommit=True)

    async def _listen(self, kept: ReadCache[CustomerKey, CustomerRead]) -> None:
        """Tell `kept` of every change notification, checking delivery all along; after a loss, retry.

        While disconnected nothing is kept (every request reads), so a notification missed then
        cannot leave a stale read behind.
        """
        while True:
            try:
                async with await self._connect(LISTENER_NAME) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self._unheard.register(connection.fileno(), POLLIN)
                    while True:
                        await self._hear_for_a_while(connection, kept)
            except Exception as error:  # whatever ends the listening, nothing is kept without it
                if kept.live:
                    logger.warning("lost change notifications (%s): every request reads until back", error)
            finally:
                kept.reset(live=False)
                self._unheard = poll()
            await asyncio.sleep(LISTEN_RETRY_SECONDS)

    async def _hear_for_a_while(
        self, connection: psycopg.AsyncConnection[tuple[Any, ...]], kept: ReadCache[CustomerKey, CustomerRead]
    ) -> None:
        """Pass on notifications for LISTEN_PING_SECONDS, checking that a probe sent first comes back.

        The probe proves delivery end to end, and reads are kept only once the first one is back: a
        connection that died silently, or a pooler in transaction mode that lets LISTEN succeed but
        never delivers, fails the check instead of leaving kept reads that nothing drops.
        """
        probe = f"{PROBE} {secrets.token_hex(8)}"
        async with asyncio.timeout(LISTEN_PING_SECONDS):
            await connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, probe))
        heard = False
        async for notice in connection.notifies(timeout=LISTEN_PING_SECONDS):
            if notice.payload == probe:
                heard = True
                if not kept.live:
                    kept.reset(live=True)
            kept.notified(notice.payload)
        if not heard:
            raise TimeoutError(f"the probe sent on {CHANNEL} did not come back")


def _customer_read(key: CustomerKey, row: tuple[Any, ...]) -> CustomerRead:
    consent, segment, seen, stated, deactivated = row
    return CustomerRead(
        found=consent is not None,
        consent=bool(consent),
        segment=None if segment is None else str(segment),
        seen=frozenset(_listed(seen)),
        preferences={feature_token(a, v): float(w) for a, v, w in _listed(stated)},
        deactivated=frozenset(_listed(deactivated)),
        events_from_txid=key.events_from_txid,
    )


async def read_customer(
    reads: ServingReads, tenant_id: int, external_id: str, since: datetime | None, events_from_txid: int = 0
) -> CustomerRead:
    """The serving read: the customer, items chosen from a transaction on, preferences, new inactives."""
    return await reads.customer(CustomerKey(tenant_id, external_id, since or _EPOCH, events_from_txid))


async def deactivated_items(reads: ServingReads, tenant_id: int, since: datetime | None) -> frozenset[str]:
    """Items deactivated after `since`: one indexed read."""
    return frozenset(await reads.deactivated(tenant_id, since or _EPOCH))
