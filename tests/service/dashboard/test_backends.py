"""Sign-in and a threshold saved in the form, on SQLite and PostgreSQL, against a synthetic tenant."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from service.config import Settings
from tests.conftest import Database
from tests.service.dashboard.conftest import seed_synthetic, serving, sign_in


def test_sign_in_and_a_saved_threshold_on_each_backend(db: Database, browser: Browser) -> None:
    keys = seed_synthetic(db.engine, "acme", {"colour": (0.3, 0.2), "size": (0.01, 0.0)})
    settings = Settings(database_url=db.url, environment="test", runs_in="process", key_cache_seconds=0)
    bearer = {"Authorization": f"Bearer {keys['marketer']}"}
    with serving(settings, db.engine) as base:
        context = browser.new_context()
        context.set_default_timeout(5_000)
        page = context.new_page()
        sign_in(page, base, keys["marketer"])
        expect(page.get_by_role("row").filter(has_text="colour")).to_contain_text("tailor")
        assert (
            page.request.get(f"{base}/v1/tailoring/attributes/colour", headers=bearer).json()["decision"]
            == "tailor"
        )
        page.get_by_role("link", name="colour").click()
        page.get_by_label("c (cost per customer)").fill("0.5")
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#preview")).to_contain_text("would be default")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text("Saved")
        decision = page.request.get(f"{base}/v1/tailoring/attributes/colour", headers=bearer).json()
        assert decision["decision"] == "default" and decision["thresholds"]["c"] == 0.5
        audit = page.request.get(f"{base}/v1/audit?action=attribute.tailoring.updated", headers=bearer)
        assert audit.json()["items"][0]["after"]["c"] == 0.5
        page.get_by_role("link", name="Audit log").click()
        expect(page.get_by_role("row").filter(has_text="colour")).to_contain_text('"c": 0.5')
        with serving(settings, db.engine) as other:  # another app instance knows the session
            page.goto(f"{other}/dashboard/runs")
            expect(page.get_by_role("heading", level=1)).to_have_text("Runs and models")
        context.close()
