"""Every dashboard page passes axe-core without a serious or critical violation; each is screenshotted."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from tests.service.dashboard.conftest import SCREENSHOTS, Site, axe_check, sign_in


def test_every_page_is_axe_clean(demo_site: Site, browser: Browser, axe_script: Path) -> None:
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5_000)
    page = context.new_page()
    base = f"{demo_site.base}/dashboard"
    page.goto(f"{base}/sign-in")
    violations = axe_check(page, axe_script, "sign-in")
    sign_in(page, demo_site.base, demo_site.keys["demo-bookstore"]["marketer"])
    pages = {
        "overview": "",
        "attribute": "/attributes/genre",
        "runs": "/runs",
        "touchpoints": "/touchpoints",
        "audit": "/audit",
        "experiments": "/experiments",
        "not-found": "/attributes/octane",
    }
    for name, path in pages.items():
        page.goto(f"{base}{path}")
        violations += axe_check(page, axe_script, name)
    page.goto(f"{base}/attributes/author")
    page.get_by_label("Mode").select_option("never")
    page.get_by_role("button", name="Preview").click()
    violations += axe_check(page, axe_script, "attribute-preview")
    page.goto(f"{base}/experiments")
    page.get_by_label("Scope").select_option("attribute")
    page.get_by_label("Attribute or touchpoint").fill("format")
    page.get_by_role("button", name="Start").click()
    violations += axe_check(page, axe_script, "experiment")
    page.get_by_role("button", name="Stop this experiment").click()
    page.set_content('<html><body><input type="text"><img src="x.png"></body></html>')
    assert axe_check(page, axe_script, "broken-on-purpose"), "axe must catch an unlabelled input"
    (SCREENSHOTS / "broken-on-purpose.png").unlink()
    context.close()
    assert not violations, "\n".join(violations)
    assert {p.stem for p in SCREENSHOTS.glob("*.png")} >= {
        *pages,
        "sign-in",
        "attribute-preview",
        "experiment",
    }
