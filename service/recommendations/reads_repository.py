"""The per-request serving read: one statement per batch of customers, over held-open connections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import anyio
import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service.batching import BatchLoader
from service.db import UTCDateTime, is_postgres
from service.recommendations.repository import EPOCH, SEGMENT_TRAIT, feature_token
from service.serving.change_listener import Hearer
from service.serving.connections import ServingConnections
from service.serving.read_cache import ReadCache


@dataclass(frozen=True)
class CustomerRead:
    """One customer as serving needs them, and the items deactivated since the cache last looked.

    `seen` holds the items chosen in transactions from `events_from_txid` on (0: all of them) that the
    training read's snapshot, where one is given, did not see.
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
# PostgreSQL: not an event the training read saw (a transaction at or past its horizon may have been).
_UNSEEN_BY_TRAINING = """AND (r.events_snapshot IS NULL
    OR NOT pg_visible_in_snapshot(e.txid::text::xid8, r.events_snapshot::pg_snapshot))"""
_STATED = "FROM preferences p WHERE p.customer_id = c.id AND p.tenant_id = r.tenant_id"
# PostgreSQL: a batch of requests in one statement, one row per request in request order (the lateral
# join keeps each customer an index lookup, whatever the batch size): consent, segment, items chosen
# from the request's transaction horizon on, stated preferences, items deactivated since the snapshot.
_POSTGRES_BATCH = f"""
    SELECT c.consent_personalization, c.segment, c.seen, c.stated,
        ARRAY(SELECT i.item_id FROM items i WHERE {_INACTIVE_SINCE})
    FROM unnest(%(tenant_ids)s::bigint[], %(external_ids)s::text[], %(since)s::timestamptz[],
        %(events_from)s::bigint[], %(events_snapshots)s::text[])
        WITH ORDINALITY AS r(tenant_id, external_id, since, events_from, events_snapshot, n)
    LEFT JOIN LATERAL (
        SELECT c.consent_personalization, c.traits ->> '{SEGMENT_TRAIT}' AS segment,
            ARRAY(SELECT DISTINCT e.item_id {_SEEN} {_UNSEEN_BY_TRAINING}) AS seen,
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
    events_snapshot: str | None = None


class ServingReads:
    """The per-request reads: on PostgreSQL batched over held-open async connections, else in a thread.

    On PostgreSQL, customer reads that arrive while another is in flight share the next round trip
    (one statement for the batch, each customer an index lookup); connections run in autocommit, so
    there is no pool checkout ping and no transaction, and psycopg prepares the statements. With
    `kept_reads` above zero, once `start` has run, each customer's read is kept until a change
    notification drops it (see read_cache), so a returning customer costs no round trip at all.
    """

    def __init__(self, engine: Engine, size: int, kept_reads: int = 0, also: Sequence[Hearer] = ()) -> None:
        self._engine = engine
        self.postgres = is_postgres(engine)
        self.customers = BatchLoader(self._customer_rows, concurrency=size)
        self._deactivated_sql = str(_DEACTIVATED_READ.compile(dialect=engine.dialect))
        self.kept: ReadCache[CustomerKey, CustomerRead] | None = None
        if self.postgres and kept_reads > 0:
            self.kept = ReadCache(kept_reads)
        # The listener also tells `also` (the key cache, kept treatment answers) of every notification.
        hearers: list[Hearer] = [*([] if self.kept is None else [self.kept]), *also]
        self.connections = ServingConnections(engine, size, hearers if self.postgres else ())

    def start(self) -> None:
        """Start listening for change notifications (on the running loop), on PostgreSQL."""
        self.connections.start()

    async def customer(self, key: CustomerKey) -> CustomerRead:
        """One customer's serving read: the kept one, or a batched round trip."""
        kept = self.kept
        if kept is None or self.connections.listener is None:
            return _customer_read(key, await self.customers.load(key))
        found = kept.get(key.tenant_id, key.external_id, key)
        # A notification already on the listener's socket but not yet handled may concern this read.
        if found is not None and not self.connections.pending():
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
        return [row[0] for row in await self.connections.rows(self._deactivated_sql, params)]

    async def close(self) -> None:
        """Stop listening and close the idle connections."""
        await self.connections.close()

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
            "events_snapshots": [k.events_snapshot for k in keys],
        }
        return await self.connections.rows(_POSTGRES_BATCH, params)

    def _sqlite_rows(self, statement: sa.TextClause, each: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """The rows of a statement run once per parameter set, on one connection."""
        with self._engine.connect() as connection:
            return [tuple(row) for params in each for row in connection.execute(statement, params)]


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
    reads: ServingReads,
    tenant_id: int,
    external_id: str,
    since: datetime | None,
    events_from_txid: int = 0,
    events_snapshot: str | None = None,
) -> CustomerRead:
    """The serving read: the customer, items chosen since training, preferences, new inactives."""
    key = CustomerKey(tenant_id, external_id, since or EPOCH, events_from_txid, events_snapshot)
    return await reads.customer(key)


async def deactivated_items(reads: ServingReads, tenant_id: int, since: datetime | None) -> frozenset[str]:
    """Items deactivated after `since`: one indexed read."""
    return frozenset(await reads.deactivated(tenant_id, since or EPOCH))
