"""Treatment answers a worker keeps until PostgreSQL notifies it that what they were decided from changed.

On PostgreSQL with kept reads on (`TAILORWISE_SERVING_KEPT_READS` above 0), each answer is kept per
tenant, customer and touchpoint, as the JSON sent, until a change notification names the customer
(`c`) or its tenant (`t`, `i`, or `s`: touchpoints, settings, decisions in force or customer values;
migration 0020), until the tenant's holdout experiments change, or until a part of it that depends on
the clock would change (a usual choice's "days ago", a declined relationship type's cool-off). A
miss reads plain rows in one statement shared by the requests waiting meanwhile (serving_repository)
and decides from them and the tenant's decisions in force, which are kept per tenant the same way.
No request leaves the event loop except the rare one that reads a tenant's decisions in force.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.batching import BatchLoader
from service.db import utcnow
from service.errors import NotFound
from service.holdouts import current
from service.relationships.rules import DECLINES
from service.serving.connections import ServingConnections
from service.serving.read_cache import TENANT_KINDS, ReadCache
from service.tailoring.in_force import Judged, current_decisions
from service.treatment.customer_treatment import NO_RELATIONSHIP_SETTINGS, decide_from
from service.treatment.plain_rows import DecisionRead
from service.treatment.schemas import TreatmentDecision
from service.treatment.serving_repository import DECISIONS_SQL, DecisionKey, batch_params, decision_read

_DECISION_JSON = TreatmentDecision.__pydantic_serializer__
# Decisions in force are kept under one entry per tenant.
_TENANT = ""


@dataclass(frozen=True)
class KeptAnswer:
    """An answer as sent, and when (epoch seconds) a part of it that depends on the clock changes."""

    body: bytes
    until: float


def changes_at(read: DecisionRead, now: datetime) -> float:
    """The earliest time a clock-dependent part of the answer may change (inf: never).

    A usual choice says how many days ago it was last chosen; a declined relationship type is offered
    again when its cool-off ends. Every such time of the customer counts, used by the answer or not.
    """
    times = []
    for by_value in read.choices.bought.values():
        for _, latest in by_value.values():
            times.append(latest + timedelta(days=max(0, (now - latest).days) + 1))
    settings = read.relationship_settings or NO_RELATIONSHIP_SETTINGS
    cooloff = timedelta(days=settings.decline_cooloff_days)
    for _, _, kind, _, at in read.relationship_events:
        if kind in DECLINES and at + cooloff > now:
            times.append(at + cooloff)
    return min(times).timestamp() if times else math.inf


class TreatmentServing:
    """Treatment decisions from kept answers, else from one batched plain read (PostgreSQL only)."""

    def __init__(self, engine: Engine, connections: ServingConnections, capacity: int) -> None:
        self._engine = engine
        self._connections = connections
        self.answers: ReadCache[int, KeptAnswer] = ReadCache(capacity, drops=TENANT_KINDS)
        self.decisions: ReadCache[int, list[Judged]] = ReadCache(1, drops=TENANT_KINDS, counted=False)
        self._reads: BatchLoader[DecisionKey, tuple[Any, ...]] = BatchLoader(self._rows, concurrency=2)
        self._in_force: BatchLoader[int, list[Judged]] = BatchLoader(self._decisions_of, concurrency=1)
        connections.tell(self.answers)
        connections.tell(self.decisions)

    async def decision(self, tenant_id: int, external_id: str, touchpoint: str) -> bytes:
        """The JSON of a customer's treatment at a touchpoint: the kept answer, or decided now."""
        experiments = current().generation(tenant_id)
        found = self.answers.get(tenant_id, external_id, experiments, touchpoint)
        # A notification already on the listener's socket but not yet handled may concern this answer.
        if found is not None and found.until > time.time() and not self._connections.pending():
            return found.body
        token = self.answers.token(tenant_id)
        key = (tenant_id, touchpoint, external_id)
        read = decision_read(key, await self._reads.load(key))
        if isinstance(read, str):
            missing = f"touchpoint {touchpoint!r}" if read == "touchpoint" else f"customer {external_id!r}"
            raise NotFound(f"No {missing}.")
        decisions = await self._decisions(tenant_id)
        now = utcnow()
        experiments = current().generation(tenant_id)
        body = _DECISION_JSON.to_json(decide_from(read, decisions, now))
        answer = KeptAnswer(body, changes_at(read, now))
        self.answers.keep(tenant_id, external_id, experiments, answer, token, touchpoint)
        return body

    async def _decisions(self, tenant_id: int) -> list[Judged]:
        """The tenant's decisions in force: kept, or read (off the loop, through the tailoring domain)."""
        found = self.decisions.get(tenant_id, _TENANT, 0)
        if found is not None and not self._connections.pending():
            return found
        token = self.decisions.token(tenant_id)
        decisions = await self._in_force.load(tenant_id)
        self.decisions.keep(tenant_id, _TENANT, 0, decisions, token)
        return decisions

    async def _rows(self, keys: list[DecisionKey]) -> list[tuple[Any, ...]]:
        """One row per decision, in order."""
        return await self._connections.rows(DECISIONS_SQL, batch_params(keys))

    async def _decisions_of(self, tenants: list[int]) -> list[list[Judged]]:
        """Each tenant's decisions in force, read in a worker thread."""
        return await anyio.to_thread.run_sync(self._read_decisions, tenants)

    def _read_decisions(self, tenants: list[int]) -> list[list[Judged]]:
        with Session(self._engine) as session:
            return [current_decisions(session, tenant_id) for tenant_id in tenants]
