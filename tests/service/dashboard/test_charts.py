"""The SVG charts: bars split in colour at zero and said in words, one axis shared, a band over runs."""

from __future__ import annotations

from service.dashboard.charts import (
    ABOVE,
    BELOW,
    Span,
    band_over_time,
    ci_bar,
    count_bars,
    shared_domain,
    side_of_zero,
)


def test_side_of_zero_in_words() -> None:
    assert side_of_zero(Span(0.2, 0.1, 0.3)) == "above 0"
    assert side_of_zero(Span(-0.2, -0.3, -0.1)) == "below 0"
    assert side_of_zero(Span(0.0, -0.1, 0.1)) == "spans 0"
    assert side_of_zero(None) == "not measured"


def test_a_shared_axis_holds_every_interval_and_zero() -> None:
    low, high = shared_domain([Span(0.5, 0.4, 0.6), None, Span(2.0, 1.5, 2.5)])
    assert low < 0 < 0.4 and high > 2.5
    assert shared_domain([]) == (-1.0, 1.0)


def test_a_bar_is_red_below_zero_green_above_and_labelled() -> None:
    domain = (-1.0, 1.0)
    spanning = ci_bar(Span(0.1, -0.5, 0.5), domain, "lift")
    assert BELOW in spanning and ABOVE in spanning
    assert 'aria-label="lift 0.1, 95% CI -0.5 to 0.5: spans 0"' in spanning
    above = ci_bar(Span(0.5, 0.2, 0.8), domain, "lift")
    assert ABOVE in above and BELOW not in above
    assert "not measured" in ci_bar(None, domain, "lift")
    assert "&lt;b&gt;" in ci_bar(None, domain, "<b>")


def test_a_band_draws_every_run_and_counts_are_labelled() -> None:
    spans = [Span(0.1 * i, 0.1 * i - 0.05, 0.1 * i + 0.05) for i in range(5)]
    chart = band_over_time([f"run {i}" for i in range(5)], spans, "Lift")
    assert chart.count("<circle") == 5 and "run 0" in chart and "run 4" in chart
    assert band_over_time([], [], "Lift") == ""
    bars = count_bars([("top 1%", 4), ("rest", 396)], "Tiers")
    assert ">396<" in bars and "top 1%" in bars


def test_a_band_names_its_axes_and_draws_zero_dashed() -> None:
    spans = [Span(0.1, -0.2 + 0.02 * i, 0.4 - 0.02 * i) for i in range(10)]
    chart = band_over_time([f"day {i}" for i in range(10)], spans, "Goal", "end of day", "relative uplift")
    assert ">end of day</text>" in chart and ">relative uplift</text>" in chart and "rotate(-90" in chart
    assert 'stroke-dasharray="4 3"' in chart and "<polygon" in chart and "<polyline" in chart
    assert "&lt;x&gt;" in band_over_time(["a"], spans[:1], "Goal", "<x>", "y")
