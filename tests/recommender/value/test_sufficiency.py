"""Data sufficiency: each reason names the shortfall."""

from __future__ import annotations

from recommender.value.sufficiency import insufficiency


def test_each_shortfall_is_named_and_enough_data_has_none() -> None:
    assert insufficiency(10, 5, 10, 30, 3) == "only 10 customers chose a value (need 30)"
    assert "fewer than 3 events (median 1.5)" in (insufficiency(100, 1.5, 100, 30, 3) or "")
    assert insufficiency(100, 5, 20, 30, 3) == "only 20 customers have a held-out event (need 30)"
    assert insufficiency(100, 5, 100, 30, 3) is None
