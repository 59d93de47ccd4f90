"""The scorer's verdict on a phase's relationship attribute, as the relationships domain reads it."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session

from recommender.value.distribution import personal_distribution
from service.relationships.rules import TYPES, Verdict
from service.tailoring.in_force import Judged, current_decisions


def relationship_verdict(
    session: Session, tenant_id: int, attribute: str, chosen: Mapping[str, float]
) -> Verdict | None:
    """The decision in force, and the types the customer chose, ranked by the scorer's model (none else)."""
    return verdict_from(current_decisions(session, tenant_id, attribute), chosen)


def verdict_from(found: list[Judged], chosen: Mapping[str, float]) -> Verdict | None:
    """The verdict of the first of an attribute's decisions in force (None: not scored)."""
    if not found:
        return None
    public, decision, parsed = found[0]
    tailor = decision.decision == "tailor"
    own = {parsed.index[v]: w for v, w in chosen.items() if v in parsed.index and w > 0}
    ranked: tuple[str, ...] = ()
    if tailor and own:
        best = personal_distribution(own, None, parsed.score, top=len(TYPES))
        ranked = tuple(parsed.labels[i] for i, _ in best if i in own and parsed.labels[i] in TYPES)
    return Verdict(tailor=tailor, level=public.level, explanation=decision.explanation, ranked=ranked)
