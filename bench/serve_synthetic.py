"""A large synthetic catalog for the serving bench: 100,000 items on shelves, customers with a home shelf."""

from __future__ import annotations

import numpy as np

from recommender.datasets import EventLog

_DAY = 86_400.0


def large_catalog(
    items: int = 100_000,
    customers: int = 3_000,
    shelves: int = 200,
    events_per_customer: int = 30,
    seed: int = 0,
) -> EventLog:
    """Each customer buys mostly from a home shelf (Zipf within it), sometimes anything popular."""
    rng = np.random.default_rng(seed)
    per_shelf = items // shelves
    home = rng.integers(shelves, size=customers)
    count = customers * events_per_customer
    customer_index = np.repeat(np.arange(customers), events_per_customer)
    rank_in_shelf = np.minimum(rng.zipf(1.3, size=count) - 1, per_shelf - 1)
    own = home[customer_index] * per_shelf + rank_in_shelf
    anywhere = np.minimum(rng.zipf(1.2, size=count) - 1, items - 1)
    chosen = np.where(rng.random(count) < 0.8, own, anywhere)
    return EventLog(
        customer_ids=np.char.add("c", customer_index.astype(str)),
        item_ids=np.char.add("i", chosen.astype(str)),
        weights=np.ones(count),
        times=np.sort(rng.uniform(0, 365, count).reshape(customers, events_per_customer), axis=1).ravel()
        * _DAY,
        item_features={f"i{j}": [f"shelf=s{j // per_shelf}"] for j in range(items)},
        customer_segments={f"c{c}": f"region-{c % 5}" for c in range(customers)},
    )
