"""Recommendations under a holdout experiment: the holdout gets the popular list, each answer its arm."""

from __future__ import annotations

from tests.service.recommendations.conftest import Shop

EXPERIMENT = {
    "name": "personal-recs",
    "scope": {"kind": "recommendations"},
    "holdout_share": 0.5,
    "goal": {"event_type": "purchase", "measure": "count", "window_days": 14},
}


def test_held_out_customers_get_the_popular_list(bookstore: Shop) -> None:
    """Each consenting customer's answer carries its arm; held out: popular, said so; no consent: no arm."""
    created = bookstore.client.post("/v1/experiments", json=EXPERIMENT, headers=bookstore.marketer)
    assert created.status_code == 201, created.text
    popular = bookstore.recommend("c1")
    assert "experiment" not in popular  # c1 did not consent: never exposed
    arms = {}
    # Forty customers: with eight, a random salt put them all in one arm once in 128 runs.
    for customer in (f"c{n}" for n in range(2, 42)):
        answer = bookstore.recommend(customer)
        arms[customer] = answer["experiment"]["arm"]
        assert answer["experiment"]["id"] == created.json()["id"]
        if arms[customer] == "holdout":
            assert answer["strategy"] == "popular" and "Held out by experiment" in answer["reason"]
        else:
            assert answer["strategy"] != "popular" and "treatment arm" in answer["reason"]
    assert set(arms.values()) == {"treatment", "holdout"}
