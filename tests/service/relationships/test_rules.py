"""The relationship rule alone: stated first, the scorer's ranking next, the default last; never imposed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.relationships.rules import Context, History, Stated, Verdict, offer
from service.relationships.schemas import RelationshipType, Source

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CO = RelationshipType.co_created
TOP = RelationshipType.top_down
IMPRO = RelationshipType.improvisational
TAILOR = Verdict(tailor=True, level="one-to-one", explanation="", ranked=("co-created", "improvisational"))
ONLY_CO = Verdict(tailor=True, level="one-to-one", explanation="", ranked=("co-created",))


def context(**changes: object) -> Context:
    """A customer in the trip phase with nothing stated or known, the default top-down, profiling allowed."""
    fields: dict[str, object] = {
        "phase": "trip",
        "default": TOP,
        "stated": None,
        "history": History(),
        "verdict": None,
        "cooloff_days": 30,
        "profiling": True,
        "now": NOW,
    }
    return Context(**{**fields, **changes})  # type: ignore[arg-type]


def took_up(kind: RelationshipType, days_ago: float) -> History:
    """A history with one take-up of a type."""
    return History(chosen={kind: 1.0}, last_chosen={kind: NOW - timedelta(days=days_ago)})


def test_a_ranked_type_the_customer_never_took_up_is_skipped() -> None:
    made = offer(context(history=took_up(IMPRO, 50), verdict=TAILOR))
    assert (made.type, made.source) == (IMPRO, Source.behaviour)
    assert "co-created is offered only to customers who stated it or took it up before" in made.reason


def test_a_take_up_after_a_decline_ends_the_cool_off() -> None:
    history = took_up(CO, 1)
    history.declined[CO] = NOW - timedelta(days=5)
    assert offer(context(history=history, verdict=TAILOR)).type is CO
    history.last_chosen[CO] = NOW - timedelta(days=9)
    assert offer(context(history=history, verdict=TAILOR)).type is IMPRO
    assert offer(context(history=history, verdict=ONLY_CO)).type is TOP


def test_the_cool_off_ends_on_its_day() -> None:
    history = took_up(CO, 100)
    history.declined[CO] = NOW - timedelta(days=30, seconds=1)
    assert offer(context(history=history, verdict=ONLY_CO)).type is CO
    history.declined[CO] = NOW - timedelta(days=29, hours=23)
    made = offer(context(history=history, verdict=ONLY_CO))
    assert made.type is TOP and "not offered again before 2026-12-01" in made.reason


def test_without_profiling_only_a_stated_type_counts_but_a_decline_still_withdraws() -> None:
    history = took_up(CO, 10)
    assert offer(context(history=history, verdict=TAILOR, profiling=False)).type is TOP
    stated = Stated(CO, NOW - timedelta(days=20))
    assert offer(context(stated=stated, profiling=False)).type is CO
    history.declined[CO] = NOW - timedelta(days=2)
    made = offer(context(stated=stated, history=history, profiling=False))
    assert made.type is TOP and not made.tailored


def test_a_mass_verdict_keeps_the_default_even_for_a_loyal_customer() -> None:
    mass = Verdict(tailor=False, level="mass", explanation="alike", ranked=())
    made = offer(context(history=took_up(IMPRO, 3), verdict=mass))
    assert (made.type, made.tailored) == (TOP, False) and "(mass: alike)" in made.reason
