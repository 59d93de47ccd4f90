"""The in-memory model of every tenant, swapped whole by a background refresher.

Requests only read `ModelCache.get(tenant_id)`: an immutable snapshot of the newest model version
with the catalog as of its last load (inactive items, attribute values). Every
`model_reload_seconds` the refresher asks the database for each tenant's newest version id and for
a cheap signature of the recently changed items; a new version or a changed catalog builds a new
snapshot off the request path and replaces the old one in one assignment. Between loads, serving
learns of deactivations through its own per-request read of items changed after `snapshot.since`.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session
from threadpoolctl import threadpool_limits

from recommender.evaluation import Strategy
from recommender.forget import without_customers
from recommender.model import TrainedModel
from recommender.ranking import PopularityTable, Recommender
from recommender.repeat import RepeatModel
from recommender.repeat_gate import Path
from service.errors import DATABASE_UNAVAILABLE, database_failure
from service.recommendations import reads_repository, repository
from service.serving.change_listener import Hearer

logger = logging.getLogger("tailorwise.models")

# Changes committed up to this long after their updated_at was stamped are still seen.
SETTLE = timedelta(seconds=10)


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One tenant's published model version and its catalog, as served."""

    version_id: int
    strategy: Strategy
    gate_reason: str
    model: TrainedModel
    recommender: Recommender
    inactive: frozenset[str]
    values: Mapping[str, Mapping[str, np.ndarray]]
    since: datetime | None
    signature: tuple[int, Any]
    events_before_txid: int | None = None
    events_snapshot: str | None = None
    path: Path = Path.ONE_TO_ONE
    exclude_seen: bool = True
    memory: RepeatModel | None = None
    inactive_positions: frozenset[int] = frozenset()

    def events_from_txid(self, customer_id: str) -> int:
        """From which transaction on the serving read must fetch a customer's chosen items (0: all).

        The model keeps what each customer chose in its training read; every event of a transaction
        older than the read's horizon was in it, so only younger ones are read per request.
        """
        if self.events_before_txid is None or self.model.seen_at_training(customer_id) is None:
            return 0
        return self.events_before_txid

    def events_since_training(self, customer_id: str) -> tuple[int, str | None]:
        """events_from_txid, and the snapshot whose events the model holds for the customer (None: none)."""
        events_from = self.events_from_txid(customer_id)
        return events_from, self.events_snapshot if events_from else None


def build_snapshot(
    version_id: int,
    gate: Mapping[str, Any],
    model: TrainedModel,
    popularity: PopularityTable,
    catalog: repository.CatalogState,
    since: datetime | None = None,
    signature: tuple[int, Any] = (0, None),
    events_before_txid: int | None = None,
    kept_lists: int = 0,
    memory: RepeatModel | None = None,
    events_snapshot: str | None = None,
) -> Snapshot:
    """A snapshot from a model version's parts and the catalog state read with it.

    A gate from before remembering (no `path`) serves its strategy and hides bought items.
    """
    positions: dict[str, dict[str, list[int]]] = {}
    for item_id, attribute, value in catalog.values:
        if item_id in model.items:
            positions.setdefault(attribute, {}).setdefault(value, []).append(model.items.position(item_id))
    return Snapshot(
        version_id=version_id,
        strategy=Strategy(gate["strategy"]),
        gate_reason=str(gate["reason"]),
        model=model,
        recommender=Recommender(popularity, model, inactive=catalog.inactive, kept_lists=kept_lists),
        inactive=frozenset(catalog.inactive),
        values={
            attribute: {value: np.array(found, dtype=np.int64) for value, found in by_value.items()}
            for attribute, by_value in positions.items()
        },
        since=since,
        signature=signature,
        events_before_txid=events_before_txid,
        events_snapshot=events_snapshot,
        path=Path(gate.get("path", gate["strategy"])),
        exclude_seen=bool(gate.get("exclude_seen", True)),
        memory=memory,
        inactive_positions=frozenset(model.items.known_positions(catalog.inactive)),
    )


def without_erased(snapshot: Snapshot, erased: set[str], kept_lists: int) -> Snapshot:
    """The snapshot with erased customers removed from its model (itself when it knows none of them)."""
    if not any(snapshot.model.knows(external_id) for external_id in erased):
        return snapshot
    model = without_customers(snapshot.model, erased)
    popularity = snapshot.recommender.popularity
    recommender = Recommender(popularity, model, inactive=snapshot.inactive, kept_lists=kept_lists)
    return replace(snapshot, model=model, recommender=recommender)


class ModelCache:
    """Snapshots by tenant kept current by a daemon thread, and the connections serving reads use."""

    def __init__(
        self,
        engine: Engine,
        interval_seconds: float,
        read_connections: int,
        kept_lists: int = 0,
        kept_reads: int = 0,
        hearers: Sequence[Hearer] = (),
    ) -> None:
        self._engine = engine
        self._kept_lists = kept_lists
        self.reads = reads_repository.ServingReads(engine, read_connections, kept_reads, hearers)
        self._interval = interval_seconds
        self._snapshots: dict[int, Snapshot] = {}
        self._erasures_read: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self, tenant_id: int) -> Snapshot | None:
        """The tenant's current snapshot, if a model version was published."""
        return self._snapshots.get(tenant_id)

    def start(self) -> None:
        """Load every tenant's newest version now (later if the database is down), refresh in background."""
        # One BLAS thread per process: workers scale by processes, and a matrix-vector product per
        # request is faster on one thread than handed to a pool that other workers compete for.
        threadpool_limits(limits=1, user_api="blas")
        try:
            self.refresh()
        except DATABASE_UNAVAILABLE as exc:
            logger.warning("no models loaded at start, database unavailable: %s", database_failure(exc))
        gc.collect()
        gc.freeze()
        self._thread = threading.Thread(target=self._loop, name="tailorwise-models", daemon=True)
        self._thread.start()
        self.reads.start()

    async def stop(self) -> None:
        """Stop refreshing and close the serving connections."""
        self._stop.set()
        if self._thread is not None:
            await anyio.to_thread.run_sync(self._thread.join, 30)
        await self.reads.close()

    def refresh(self) -> None:
        """Pick up new versions and catalog changes of every tenant; drop tenants without versions.

        After a swap, everything alive is frozen out of the cyclic collector's view (gc.freeze): a
        snapshot lives until the next swap, and full collections walking the app's and the models'
        objects paused a busy worker for 115 to 170 ms at a time (with the freeze: about 3 ms).
        Replaced snapshots are still freed, by reference counting. Customers erased since the last
        refresh leave the served models too (the stored artifacts were rewritten by the erasure).
        """
        before = dict(self._snapshots)
        with Session(self._engine) as session:
            erased = self._erased_since_last_refresh(session)
            latest = repository.latest_versions(session)
            for tenant_id, version_id in latest.items():
                try:
                    self._refresh_tenant(session, tenant_id, version_id)
                except Exception:
                    logger.exception("could not refresh the model of tenant %s", tenant_id)
                    session.rollback()
        for tenant_id in set(self._snapshots) - set(latest):
            self._snapshots.pop(tenant_id, None)
        for tenant_id, external_ids in erased.items():
            snapshot = self._snapshots.get(tenant_id)
            if snapshot is not None:
                self._snapshots[tenant_id] = without_erased(snapshot, external_ids, self._kept_lists)
        if self._snapshots != before:
            gc.freeze()

    def _erased_since_last_refresh(self, session: Session) -> dict[int, set[str]]:
        """Customers erased (by tenant) since shortly before the previous refresh read them."""
        since, self._erasures_read = self._erasures_read, datetime.now(UTC)
        return {} if since is None else repository.erased_since(session, since - SETTLE)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.refresh()
            except DATABASE_UNAVAILABLE as exc:
                logger.warning("model refresh skipped, the models in memory kept: %s", database_failure(exc))
            except Exception:
                logger.exception("model refresh failed")

    def _refresh_tenant(self, session: Session, tenant_id: int, version_id: int) -> None:
        current = self._snapshots.get(tenant_id)
        if current is not None and current.version_id == version_id:
            if repository.catalog_signature(session, tenant_id, current.since) == current.signature:
                return
            model, popularity, memory = current.model, current.recommender.popularity, current.memory
            gate: Mapping[str, Any] = {
                "strategy": current.strategy.value,
                "reason": current.gate_reason,
                "path": current.path.value,
                "exclude_seen": current.exclude_seen,
            }
            horizon, training_read = current.events_before_txid, current.events_snapshot
        else:
            row = repository.load_version(session, tenant_id, version_id)
            if row is None:
                return
            model, popularity = TrainedModel.load(row.artifact), PopularityTable.load(row.popularity)
            memory = None if row.memory is None else RepeatModel.load(row.memory)
            gate, horizon, training_read = row.gate, row.events_before_txid, row.events_snapshot
        _, latest_change = repository.catalog_signature(session, tenant_id, None)
        since = None if latest_change is None else latest_change - SETTLE
        signature = repository.catalog_signature(session, tenant_id, since)
        catalog = repository.catalog_state(session, tenant_id)
        self._snapshots[tenant_id] = build_snapshot(
            version_id,
            gate,
            model,
            popularity,
            catalog,
            since,
            signature,
            horizon,
            self._kept_lists,
            memory,
            training_read,
        )
