"""The dashboard in Chromium on the demo: sign-in, roles, thresholds with preview, CSRF, tenants, progress."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from service.db import session_scope
from service.jobs import repository as runs
from service.jobs.models import Run
from service.tenancy import repository as tenants
from tests.service.dashboard.conftest import Site, sign_in

BOOKS, PETROL = "demo-bookstore", "demo-petrol"


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile: no cookies."""
    opened = browser.new_context()
    opened.set_default_timeout(5_000)
    yield opened
    opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab of the fresh profile."""
    return context.new_page()


def _api(page: Page, site: Site, path: str) -> dict:
    """GET an API path with the bookstore's marketer key."""
    bearer = {"Authorization": f"Bearer {site.keys[BOOKS]['marketer']}"}
    answer = page.request.get(f"{site.base}{path}", headers=bearer)
    assert answer.ok, answer.text()
    return answer.json()


def test_sign_in_and_sign_out(demo_site: Site, context: BrowserContext, page: Page) -> None:
    key = demo_site.keys[BOOKS]["marketer"]
    sign_in(page, demo_site.base, key)
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    assert page.url == f"{demo_site.base}/dashboard"
    assert key not in page.content() and key not in page.url
    (cookie,) = [c for c in context.cookies() if c["name"] == "tw_dashboard"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/dashboard"
    assert cookie["expires"] > 0 and not cookie["secure"]  # plain http on loopback
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert not [c for c in context.cookies() if c["name"] == "tw_dashboard"]
    page.goto(f"{demo_site.base}/dashboard/runs")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    sign_in(page, demo_site.base, demo_site.keys[BOOKS]["admin"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")


@pytest.mark.parametrize("role", ["storefront", "crm"])
def test_other_roles_and_unknown_keys_are_refused(
    demo_site: Site, context: BrowserContext, page: Page, role: str
) -> None:
    sign_in(page, demo_site.base, demo_site.keys[BOOKS][role])
    expect(page.get_by_role("alert")).to_have_text("That key is not a marketer or admin key.")
    assert not [c for c in context.cookies() if c["name"] == "tw_dashboard"]
    sign_in(page, demo_site.base, "tw_not-a-key")
    expect(page.get_by_role("alert")).to_have_text("That key is unknown or revoked.")
    page.goto(f"{demo_site.base}/dashboard/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_a_threshold_previewed_then_saved_changes_the_api_decision_and_is_audited(
    demo_site: Site, page: Page
) -> None:
    assert _api(page, demo_site, "/v1/tailoring/attributes/genre")["decision"] == "tailor"
    sign_in(page, demo_site.base, demo_site.keys[BOOKS]["marketer"])
    page.get_by_role("link", name="genre", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Attribute genre")
    page.get_by_label("tau").fill("1000")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("the decision would be default")
    expect(preview).to_contain_text("This changes the decision from tailor")
    assert _api(page, demo_site, "/v1/tailoring/attributes/genre")["decision"] == "tailor"  # not saved
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    decision = _api(page, demo_site, "/v1/tailoring/attributes/genre")
    assert decision["decision"] == "default" and decision["thresholds"]["tau"] == 1000
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").fill("attribute.tailoring.updated")
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row").filter(has_text="genre").first
    expect(row).to_contain_text('"tau": 1000')
    audit = _api(page, demo_site, "/v1/audit?action=attribute.tailoring.updated")["items"][0]
    assert audit["target"] == "genre" and audit["after"]["tau"] == 1000
    page.goto(f"{demo_site.base}/dashboard/attributes/genre")
    page.get_by_label("tau").fill("")
    page.get_by_role("button", name="Save").click()
    assert _api(page, demo_site, "/v1/tailoring/attributes/genre")["decision"] == "tailor"


def test_a_form_without_its_csrf_token_is_refused(demo_site: Site, page: Page) -> None:
    sign_in(page, demo_site.base, demo_site.keys[BOOKS]["marketer"])
    form = {"f": "1", "u": "1", "c": "0", "tau": "1000", "mode": "never", "slots": "", "save": "1"}
    for token in ({}, {"csrf_token": "forged"}):
        answer = page.request.post(f"{demo_site.base}/dashboard/attributes/genre", form={**form, **token})
        assert answer.status == 403 and "security token" in answer.text()
    assert _api(page, demo_site, "/v1/tailoring/attributes/genre")["override"] is None
    answer = page.request.post(f"{demo_site.base}/dashboard/sign-out", form={})
    assert answer.status == 403
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")  # still signed in
    key = demo_site.keys[BOOKS]["marketer"]
    fresh = page.context.browser.new_context()  # type: ignore[union-attr]
    answer = fresh.request.post(f"{demo_site.base}/dashboard/sign-in", form={"key": key})
    assert answer.status == 403 and key not in answer.text()
    fresh.close()


def test_another_tenants_attribute_is_not_reachable_by_url(demo_site: Site, page: Page) -> None:
    sign_in(page, demo_site.base, demo_site.keys[BOOKS]["marketer"])
    answer = page.goto(f"{demo_site.base}/dashboard/attributes/octane")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("alert")).to_contain_text("No attribute 'octane'")
    page.goto(f"{demo_site.base}/dashboard")
    assert "octane" not in page.content()
    sign_in(page, demo_site.base, demo_site.keys[PETROL]["marketer"])
    answer = page.goto(f"{demo_site.base}/dashboard/attributes/octane")
    assert answer is not None and answer.status == 200


def test_run_progress_is_visible_and_follows_the_run(demo_site: Site, page: Page) -> None:
    with session_scope(demo_site.engine) as session:
        tenant = tenants.get_tenant_by_name(session, BOOKS)
        assert tenant is not None
        run = runs.add(
            session,
            Run(
                tenant_id=tenant.id or 0,
                kind="training",
                status="running",
                progress=0.42,
                message="fitting LightFM",
                requested_by="cli",
            ),
        )
        assert run is not None
        run_id = run.id or 0
    try:
        sign_in(page, demo_site.base, demo_site.keys[BOOKS]["marketer"])
        live = page.locator("#live-runs")
        expect(live).to_contain_text("42%")
        expect(live).to_contain_text("fitting LightFM")
        with session_scope(demo_site.engine) as session:
            runs.update(session, run_id, progress=0.9, message="writing the model")
        expect(live).to_contain_text("90%", timeout=8_000)  # the page polls while a run is active
        page.get_by_role("link", name="Runs and models").click()
        expect(page.get_by_label(f"Training runs: run {run_id} progress")).to_have_attribute("value", "0.9")
    finally:
        with session_scope(demo_site.engine) as session:
            runs.update(session, run_id, status="succeeded", progress=1.0)


def test_a_touchpoint_policy_edited_in_the_form_is_audited(demo_site: Site, page: Page) -> None:
    sign_in(page, demo_site.base, demo_site.keys[BOOKS]["marketer"])
    page.get_by_role("link", name="Touchpoints").click()
    first = page.locator("section.box").first
    name = first.get_by_role("heading", level=3).inner_text()
    first.get_by_label("Mode").select_option("never")
    first.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.get_by_role("status")).to_contain_text(f"Saved touchpoint {name}")
    touchpoint = _api(page, demo_site, f"/v1/touchpoints/{name}")
    assert touchpoint["mode"] == "never"
    record = _api(page, demo_site, "/v1/audit?action=touchpoint.updated")["items"][0]
    assert record["target"] == name and record["after"]["mode"] == "never"


def test_an_experiment_started_and_stopped_in_the_forms_is_audited(demo_site: Site, page: Page) -> None:
    sign_in(page, demo_site.base, demo_site.keys[BOOKS]["marketer"])
    page.get_by_role("link", name="Experiments").click()
    page.get_by_label("Name").fill("author-holdout")
    page.get_by_label("Scope").select_option("attribute")
    page.get_by_label("Attribute or touchpoint").fill("author")
    page.get_by_label("Holdout share").fill("0.2")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Experiment \d+$"))
    experiment_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("tr", has=page.locator("th", has_text=re.compile("^holdout$")))).to_contain_text(
        "20%"
    )
    expect(page.get_by_text("Sample ratio check")).to_contain_text("passed")
    expect(page.get_by_role("row").filter(has_text="goal: purchase")).to_contain_text("not measured")
    started = _api(page, demo_site, f"/v1/experiments/{experiment_id}")
    assert started["status"] == "running" and started["scope"]["attribute"] == "author"
    page.get_by_role("button", name="Stop this experiment").click()
    assert _api(page, demo_site, f"/v1/experiments/{experiment_id}")["status"] == "stopped"
    expect(page.get_by_role("button", name="Stop this experiment")).to_have_count(0)
    actions = [r["action"] for r in _api(page, demo_site, "/v1/audit?limit=5")["items"]]
    assert actions[:2] == ["experiment.stopped", "experiment.started"]
    page.goto(f"{demo_site.base}/dashboard")
    expect(page.get_by_role("link", name="author-holdout")).to_be_visible()
