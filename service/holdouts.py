"""Which arm of a running holdout experiment a customer is in, per scope: an in-memory registry serving asks.

The experiments domain fills it (from the database at start, every few seconds after, and at once on a
change made in this process) and drains the first exposures it buffers; recommendations, tailoring and
treatment, below experiments, only ask it, so serving needs no database round trip to know an arm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any

from recommender.experiments.assignment import Arm, assign
from service.db import utcnow

ATTRIBUTE = "attribute"
RECOMMENDATIONS = "recommendations"
TOUCHPOINT = "touchpoint"
GLOBAL = "global"
ScopeKey = tuple[str, str | None]
GLOBAL_SCOPE: ScopeKey = (GLOBAL, None)


@dataclass(frozen=True)
class RunningExperiment:
    """A running hash experiment as serving needs it: its scope, salt and holdout share."""

    id: int
    tenant_id: int
    tenant_key: str
    kind: str
    target: str | None
    salt: str
    holdout_share: float

    @property
    def scope(self) -> ScopeKey:
        """(kind, attribute or touchpoint name)."""
        return (self.kind, self.target)


@dataclass(frozen=True)
class Measured:
    """A scope's latest measured verdict (pays or harms), whether it switched the scope off, and the words."""

    tenant_id: int
    kind: str
    target: str | None
    experiment_id: int
    verdict: str
    switched_off: bool
    note: str


@dataclass(frozen=True)
class ArmOf:
    """The experiment deciding what a customer gets in a scope, and the customer's arm in it."""

    experiment_id: int
    arm: Arm

    @property
    def held_out(self) -> bool:
        """True for the holdout arm, which gets the scorer's default."""
        return self.arm == "holdout"

    def public(self) -> dict[str, Any]:
        """The `experiment` member of an answer."""
        return {"id": self.experiment_id, "arm": self.arm}

    def reason(self) -> str:
        """A sentence for the explanations."""
        if self.held_out:
            return f"Held out by experiment {self.experiment_id}: the default, as if not personalized."
        return f"Experiment {self.experiment_id} is running: this customer is in its treatment arm."


@dataclass(frozen=True)
class FirstExposure:
    """A customer first served under an experiment's arm, waiting to be written."""

    experiment_id: int
    tenant_id: int
    external_id: str
    arm: Arm
    exposed_at: datetime


class Holdouts:
    """Running experiments and measured verdicts per tenant, and a buffer of first exposures (thread-safe)."""

    def __init__(self, remembered: int = 1_000_000) -> None:
        self._running: dict[int, dict[ScopeKey, RunningExperiment]] = {}
        self._measured: dict[int, dict[ScopeKey, Measured]] = {}
        self._pending: list[FirstExposure] = []
        self._seen: set[tuple[int, str]] = set()
        self._remembered = remembered
        self._generations: dict[int, int] = {}
        self._tickets = 0
        self._read_at: dict[int, int] = {}
        self._lock = Lock()

    def generation(self, tenant_id: int) -> int:
        """How many times the tenant's running experiments or verdicts changed: answers kept under an
        older generation may have been decided by experiments no longer in force."""
        return self._generations.get(tenant_id, 0)

    def ticket(self) -> int:
        """A number for a database read about to start: its answer never undoes one that read later."""
        with self._lock:
            self._tickets += 1
            return self._tickets

    def replace(
        self,
        running: Iterable[RunningExperiment],
        measured: Iterable[Measured],
        tenant_id: int | None = None,
        ticket: int | None = None,
    ) -> None:
        """Put in what the database says, for every tenant or only `tenant_id`, read after `ticket` was taken.

        A tenant already given an answer read later (a larger ticket) keeps it; without a ticket the
        answer counts as read now (a change committed by this process).
        """
        by_tenant: dict[int, dict[ScopeKey, RunningExperiment]] = {}
        for experiment in running:
            by_tenant.setdefault(experiment.tenant_id, {})[experiment.scope] = experiment
        verdicts: dict[int, dict[ScopeKey, Measured]] = {}
        for found in measured:
            verdicts.setdefault(found.tenant_id, {})[(found.kind, found.target)] = found
        with self._lock:
            if ticket is None:
                self._tickets += 1
                ticket = self._tickets
            everyone = {*by_tenant, *verdicts, *self._running, *self._measured, *self._read_at}
            for tenant in everyone if tenant_id is None else {tenant_id}:
                if self._read_at.get(tenant, 0) > ticket:
                    continue
                self._read_at[tenant] = ticket
                scopes, scope_verdicts = by_tenant.get(tenant, {}), verdicts.get(tenant, {})
                if (
                    self._running.get(tenant, {}) != scopes
                    or self._measured.get(tenant, {}) != scope_verdicts
                ):
                    self._generations[tenant] = self._generations.get(tenant, 0) + 1
                self._running[tenant], self._measured[tenant] = scopes, scope_verdicts

    def arm(self, tenant_id: int, kind: str, target: str | None, external_id: str) -> ArmOf | None:
        """The customer's arm in the scope's running experiment (a global holdout first); exposes them."""
        scopes = self._running.get(tenant_id)
        if not scopes:
            return None
        everything = scopes.get(GLOBAL_SCOPE)
        own = scopes.get((kind, target)) if kind != GLOBAL else None
        answer = None
        for experiment in (everything, own):
            if experiment is None:
                continue
            arm = assign(experiment.tenant_key, experiment.salt, external_id, experiment.holdout_share)
            self._expose(experiment, external_id, arm)
            answer = ArmOf(experiment.id, arm)
            if arm == "holdout":
                break
        return answer

    def measured(self, tenant_id: int, kind: str, target: str | None) -> Measured | None:
        """The verdict in force for a scope: a switched-off global one first, then the scope's own."""
        verdicts = self._measured.get(tenant_id)
        if not verdicts:
            return None
        everything = verdicts.get(GLOBAL_SCOPE)
        if everything is not None and everything.switched_off:
            return everything
        return verdicts.get((kind, target)) or everything

    def _expose(self, experiment: RunningExperiment, external_id: str, arm: Arm) -> None:
        """Buffer a first exposure, once per experiment and customer while remembered."""
        key = (experiment.id, external_id)
        if key in self._seen:
            return
        with self._lock:
            if len(self._seen) >= self._remembered:
                self._seen.clear()
            self._seen.add(key)
            self._pending.append(
                FirstExposure(experiment.id, experiment.tenant_id, external_id, arm, utcnow())
            )

    def drain(self) -> list[FirstExposure]:
        """Take every buffered exposure (the writer puts them back if it cannot write them)."""
        with self._lock:
            pending, self._pending = self._pending, []
        return pending

    def requeue(self, exposures: list[FirstExposure]) -> None:
        """Put back exposures a failed write did not store."""
        with self._lock:
            self._pending[:0] = exposures

    def pending(self) -> int:
        """How many exposures wait to be written."""
        return len(self._pending)


_current = Holdouts()


def install(holdouts: Holdouts) -> Holdouts:
    """Make a registry the process's own (main.py installs one per app at start)."""
    global _current
    _current = holdouts
    return holdouts


def current() -> Holdouts:
    """The process's registry."""
    return _current
