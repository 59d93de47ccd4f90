"""The relationship rule: which type a customer is offered in a phase, and why (pure).

Event scheme. A choice event with `attribute: "relationship:<phase>"` and a type as `value` (any
event `type`, e.g. `relationship_chosen`, or `co_creation_accepted` for an accepted co-creation
offer) records that the customer took up that type in that phase; the scorer scores these events
like any attribute's, at one slot. A declined offer is not a choice of any type: an event of type
`co_creation_declined` (or `bottom_up_declined`) with `attribute: "journey_phase"` and the phase as
`value`.

The offer. Co-created and bottom-up are offered only to the willing: customers who stated them, or
(with profiling consent) took them up before in that phase; never because a customer could. A
decline withdraws that type in that phase for the tenant's cool-off, unless the customer stated it
or took it up again after declining. A decline is the customer's own answer to an offer, so it is
honoured even without profiling consent (it can only withdraw an offer, never target one); other
behaviour is used only with profiling consent. In order: the stated type; else, where the scorer
says tailoring the phase's relationship pays, the likeliest type of the customer's own choices; else
the phase's default; and top-down whenever the candidate is withdrawn or not the customer's to take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.relationships.schemas import RelationshipType, Source

PREFIX = "relationship:"
JOURNEY_PHASE = "journey_phase"
DECLINES = {
    "co_creation_declined": RelationshipType.co_created,
    "bottom_up_declined": RelationshipType.bottom_up,
}
WILLING_ONLY = (RelationshipType.co_created, RelationshipType.bottom_up)
TOP_DOWN = RelationshipType.top_down
TYPES = frozenset(kind.value for kind in RelationshipType)


def attribute_of(phase: str) -> str:
    """The scored attribute of a phase's relationship."""
    return f"{PREFIX}{phase}"


@dataclass(frozen=True)
class Verdict:
    """The scorer's judgement of a phase's relationship, and the customer's likeliest types under it."""

    tailor: bool
    level: str
    explanation: str
    ranked: tuple[str, ...] = ()


@dataclass
class History:
    """A customer's relationship events in one phase."""

    chosen: dict[RelationshipType, float] = field(default_factory=dict)
    last_chosen: dict[RelationshipType, datetime] = field(default_factory=dict)
    declined: dict[RelationshipType, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Stated:
    """A stated type and when it was stated."""

    type: RelationshipType
    at: datetime


@dataclass(frozen=True)
class Offer:
    """The type offered, where it comes from, and why."""

    type: RelationshipType
    source: Source
    reason: str

    @property
    def tailored(self) -> bool:
        """Whether the type is the customer's own rather than the phase's."""
        return self.source is not Source.default


@dataclass(frozen=True)
class Context:
    """Everything the rule reads about one customer in one phase."""

    phase: str
    default: RelationshipType
    stated: Stated | None
    history: History
    verdict: Verdict | None
    cooloff_days: int
    profiling: bool
    now: datetime


def withdrawn(context: Context) -> dict[RelationshipType, datetime]:
    """Types declined within the cool-off and not stated or taken up since, with when they return."""
    until = {}
    for kind, declined_at in context.history.declined.items():
        back = declined_at + timedelta(days=context.cooloff_days)
        stated_since = (
            context.stated is not None and context.stated.type is kind and context.stated.at > declined_at
        )
        chosen_at = context.history.last_chosen.get(kind)
        taken_since = context.profiling and chosen_at is not None and chosen_at > declined_at
        if back > context.now and not stated_since and not taken_since:
            until[kind] = back
    return until


def willing(context: Context, kind: RelationshipType) -> bool:
    """Top-down and improvisational are anyone's; co-created and bottom-up only the willing's."""
    if kind not in WILLING_ONLY:
        return True
    stated = context.stated is not None and context.stated.type is kind
    taken = context.profiling and context.history.chosen.get(kind, 0.0) > 0
    return stated or taken


def _scorer_says(verdict: Verdict | None) -> str:
    """The scorer's judgement in words."""
    if verdict is None:
        return "the relationship here is not scored yet"
    if verdict.tailor:
        return f"the scorer says tailoring the relationship here pays ({verdict.level})"
    return f"the scorer says one type serves everyone here ({verdict.level}: {verdict.explanation})"


def offer(context: Context) -> Offer:
    """The stated type, else the scorer-backed likeliest own type, else the default; never imposed."""
    blocked = withdrawn(context)
    notes: list[str] = []

    def allowed(kind: RelationshipType, what: str) -> bool:
        if kind in blocked:
            notes.append(
                f"{what} {kind.value} was declined on {context.history.declined[kind]:%Y-%m-%d} and is not "
                f"offered again before {blocked[kind]:%Y-%m-%d} (cool-off {context.cooloff_days} days)"
            )
            return False
        if not willing(context, kind):
            notes.append(
                f"{what} {kind.value} is offered only to customers who stated it or took it up before"
            )
            return False
        return True

    def said(head: str) -> str:
        return f"In {context.phase}: " + "; ".join([*notes, head]) + "."

    if context.stated is not None and allowed(context.stated.type, "stated"):
        return Offer(context.stated.type, Source.stated, said(f"stated {context.stated.type.value}"))
    verdict = context.verdict
    if not context.profiling:
        notes.append("behaviour is not used without profiling consent")
    elif verdict is not None and verdict.tailor:
        for kind in (RelationshipType(v) for v in verdict.ranked if v in TYPES):
            if allowed(kind, "the likeliest"):
                head = f"{_scorer_says(verdict)}, and this customer's own choices point to {kind.value}"
                return Offer(kind, Source.behaviour, said(head))
        if not verdict.ranked:
            notes.append(f"{_scorer_says(verdict)}, but nothing is known yet of this customer's choices here")
    else:
        notes.append(_scorer_says(verdict))
    if allowed(context.default, "the default"):
        return Offer(context.default, Source.default, said(f"the phase's default {context.default.value}"))
    return Offer(TOP_DOWN, Source.default, said("so the business leads: top-down"))
