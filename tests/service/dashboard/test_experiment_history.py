"""The experiment page draws each metric's always-valid CI over time, with the same numbers in a table."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx
from playwright.sync_api import Browser, expect

from service.db import session_scope
from service.tenancy import service as tenancy
from tests.service.dashboard.conftest import Site, axe_check, sign_in
from tests.service.experiments.test_history import gradual_storefront


def test_the_uplift_over_time_is_a_chart_and_a_table(
    demo_site: Site, browser: Browser, axe_script: Path
) -> None:
    with session_scope(demo_site.engine) as session:
        tenancy.create_tenant(session, "history-shop")
        keys = {role: tenancy.issue_key(session, "history-shop", role).key for role in ("admin", "marketer")}
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    with httpx.Client(base_url=demo_site.base, timeout=30) as api:
        experiment_id, _, _ = gradual_storefront(api, SimpleNamespace(engine=demo_site.engine), admin)
        history = api.get(f"/v1/experiments/{experiment_id}/results/history", headers=admin).json()
    days = len(history["goal"]["points"])
    context = browser.new_context(
        bypass_csp=True, java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(5_000)
    page = context.new_page()
    sign_in(page, demo_site.base, keys["marketer"])
    page.goto(f"{demo_site.base}/dashboard/experiments/{experiment_id}")
    expect(page.get_by_role("heading", name="Uplift over time")).to_be_visible()
    charts = page.locator("svg.band")
    expect(charts).to_have_count(2)
    expect(charts.first).to_be_visible()
    assert "goal: relative uplift and its always-valid 95% CI by day" in charts.first.get_attribute(
        "aria-label"
    )
    expect(charts.first.locator("text", has_text="relative uplift")).to_have_count(1)
    goal_table = page.locator("table", has=page.locator("caption", has_text="goal: relative uplift by day"))
    expect(goal_table).to_be_visible()
    expect(goal_table.locator("tbody tr")).to_have_count(days)
    last = history["goal"]["points"][-1]
    last_row = goal_table.locator("tbody tr").last
    expect(last_row.locator("th")).to_have_text(f"{last['date']} (day {last['day']})")
    expect(last_row).to_contain_text(f"{last['relative']['always_valid_low']:.3g} to ")
    expect(last_row).to_contain_text("above 0")
    guardrail = page.locator("table", has=page.locator("caption", has_text="guardrail:called_support"))
    expect(guardrail.locator("tbody tr")).to_have_count(days)
    context.close()
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5_000)
    page = context.new_page()
    sign_in(page, demo_site.base, keys["marketer"])
    page.goto(f"{demo_site.base}/dashboard/experiments/{experiment_id}")
    violations = axe_check(page, axe_script, "experiment-history")
    context.close()
    assert not violations, "\n".join(violations)
