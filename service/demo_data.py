"""Generated demo tenants: a bookstore where tailoring pays and a petrol station where it mostly does not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

START = datetime(2026, 6, 1, tzinfo=UTC)
GENRES = [
    "crime",
    "fantasy",
    "romance",
    "poetry",
    "history",
    "biography",
    "science",
    "travel",
    "cooking",
    "horror",
    "thriller",
    "classics",
    "comics",
    "philosophy",
    "politics",
    "economics",
    "art",
    "music",
    "sport",
    "nature",
    "children",
    "young-adult",
    "religion",
    "psychology",
    "health",
    "business",
    "humour",
    "drama",
    "western",
    "science-fiction",
]


@dataclass
class DemoTenant:
    """Everything a demo tenant is seeded with."""

    name: str
    attributes: list[dict[str, Any]]
    items: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    touchpoints: dict[str, dict[str, Any]] = field(default_factory=dict)


def _customer(rng: np.random.Generator, n: int, segment: str) -> dict[str, Any]:
    """A customer row with traits and consent."""
    return {
        "external_id": f"c-{n}",
        "traits": {"segment": segment, "lifetime_value": round(float(rng.lognormal(5, 1)), 2)},
        "consent": {"personalization": True, "profiling": True},
        "source_updated_at": START.isoformat(),
    }


def _event(n: int, customer: str, when: datetime, **choice: Any) -> dict[str, Any]:
    """A purchase or choice event."""
    return {
        "event_id": f"e-{n}",
        "customer_id": customer,
        "weight": 1.0,
        "occurred_at": when.isoformat(),
        "type": "purchase" if "item_id" in choice else "choice",
        **choice,
    }


def bookstore(customers: int = 400, seed: int = 7) -> DemoTenant:
    """Readers concentrated on a few of 30 genres and a few authors; formats chosen alike by everyone."""
    rng = np.random.default_rng(seed)
    genres = GENRES
    authors_by_genre = {g: [f"{g.title()} Writer {chr(65 + a)}." for a in range(5)] for g in genres}
    formats, format_share = ["paperback", "hardcover", "ebook"], [0.6, 0.3, 0.1]
    items: list[dict[str, Any]] = []
    for n in range(900):
        genre = genres[n % 30]
        author = authors_by_genre[genre][(n // 30) % 5]
        items.append(
            {
                "item_id": f"b-{n}",
                "active": True,
                "attributes": {
                    "genre": genre,
                    "author": author,
                    "format": formats[rng.choice(3, p=format_share)],
                },
            }
        )
    by_genre_author: dict[tuple[str, str], list[str]] = {}
    for item in items:
        key = (item["attributes"]["genre"], item["attributes"]["author"])
        by_genre_author.setdefault(key, []).append(item["item_id"])
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for c in range(customers):
        favourites = rng.choice(30, size=2, replace=False)
        rows.append(_customer(rng, c, "reader"))
        for k in range(int(rng.integers(5, 12))):
            genre = genres[
                favourites[0]
                if rng.random() < 0.6
                else favourites[1]
                if rng.random() < 0.7
                else rng.integers(30)
            ]
            author = authors_by_genre[genre][0 if rng.random() < 0.6 else int(rng.integers(5))]
            book = rng.choice(by_genre_author[(genre, author)])
            events.append(
                _event(len(events), f"c-{c}", START + timedelta(days=3 * k, hours=c % 24), item_id=str(book))
            )
    attributes = [
        {"name": "genre", "kind": "categorical", "description": "The book's genre."},
        {"name": "author", "kind": "categorical", "description": "The book's author."},
        {"name": "format", "kind": "categorical", "description": "Paperback, hardcover or ebook."},
    ]
    checkout = {
        "journey_phase": "purchase",
        "attributes": ["genre", "format"],
        "rules": [{"top_percent": 5, "priority": 1, "routing": "senior", "recognition": True}],
    }
    return DemoTenant("demo-bookstore", attributes, items, rows, events, {"checkout": checkout})


def petrol_station(customers: int = 400, seed: int = 11) -> DemoTenant:
    """Everyone buys 95 octane; fleet customers pay by monthly invoice; car wash taken alike by all."""
    rng = np.random.default_rng(seed)
    grades = ["91", "95", "98"]
    items = [{"item_id": f"fuel-{g}", "active": True, "attributes": {"octane": g}} for g in grades]
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for c in range(customers):
        fleet = rng.random() < 0.15
        rows.append(_customer(rng, c, "fleet" if fleet else "driver"))
        for k in range(int(rng.integers(5, 12))):
            when = START + timedelta(days=4 * k, hours=c % 24)
            grade = grades[rng.choice(3, p=[0.1, 0.85, 0.05])]
            events.append(_event(len(events), f"c-{c}", when, item_id=f"fuel-{grade}"))
            terms = "monthly-invoice" if fleet else ["card", "cash", "app"][rng.choice(3, p=[0.7, 0.2, 0.1])]
            events.append(
                _event(
                    len(events), f"c-{c}", when + timedelta(minutes=1), attribute="payment_terms", value=terms
                )
            )
            wash = "yes" if rng.random() < 0.2 else "no"
            events.append(
                _event(len(events), f"c-{c}", when + timedelta(minutes=2), attribute="car_wash", value=wash)
            )
    attributes = [
        {"name": "octane", "kind": "categorical", "description": "Fuel grade."},
        {"name": "payment_terms", "kind": "categorical", "description": "How the customer pays."},
        {"name": "car_wash", "kind": "categorical", "description": "Car-wash add-on taken."},
    ]
    support = {
        "journey_phase": "support",
        "attributes": ["payment_terms"],
        "rules": [{"top_percent": 10, "priority": 1, "routing": "senior"}],
    }
    return DemoTenant("demo-petrol", attributes, items, rows, events, {"support": support})
