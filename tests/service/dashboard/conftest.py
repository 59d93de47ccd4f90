"""Fixtures of the browser tests: Chromium through Playwright, the app served by uvicorn, seeded tenants."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.engine import Engine

from recommender.stats import Interval
from recommender.value.score import AttributeScore
from service.catalog import service as catalog
from service.catalog.schemas import AttributeKind, AttributePut
from service.config import Settings
from service.db import create_db_engine, session_scope
from service.demo import seed_demo
from service.jobs import service as jobs
from service.jobs.models import Run
from service.main import create_app
from service.migrate import upgrade
from service.tailoring import repository as tailoring
from service.tailoring.models import AttributeResult
from service.tenancy import service as tenancy

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("TAILORWISE_CHROMIUM", "/usr/bin/chromium")
AXE = Path(os.environ.get("TAILORWISE_AXE", ROOT / ".cache/axe/node_modules/axe-core/axe.min.js"))
SCREENSHOTS = ROOT / "var" / "screenshots"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(what: str) -> None:
    """Fail in CI (REQUIRE_BROWSER=1), else skip, when a browser-test tool is absent."""
    message = f"{what} is missing: `make browser` installs Chromium and axe-core"
    if REQUIRE_BROWSER:
        pytest.fail(message)
    pytest.skip(message)


# Per module: Playwright's event loop must not outlive the browser tests, or later tests' asyncio.run fails.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        _missing(CHROMIUM)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's browser bundle, installed into an ignored folder by the project's setup."""
    if not AXE.exists():
        _missing(str(AXE.relative_to(ROOT)) if AXE.is_relative_to(ROOT) else str(AXE))
    return AXE


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(settings: Settings, engine: Engine) -> Iterator[str]:
    """The app served by uvicorn on a background thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, engine=engine),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def _silent(_title: str) -> Iterator[Callable[[float, str], None]]:
    """A progress bar that shows nothing."""
    yield lambda _fraction, _message: None


@dataclass
class Site:
    """A served app with its engine and keys by tenant and role."""

    base: str
    engine: Engine
    keys: dict[str, dict[str, str]]


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo bookstore and petrol station, scored and trained, served from an SQLite file."""
    if not Path(CHROMIUM).exists():
        _missing(CHROMIUM)
    path = tmp_path_factory.mktemp("dashboard") / "demo.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    settings = Settings(database_url=url, environment="test", runs_in="process", key_cache_seconds=0)
    engine = create_db_engine(settings)
    seeded = seed_demo(engine, settings, _silent)
    with serving(settings, engine) as base:
        yield Site(base, engine, {tenant.name: tenant.keys for tenant in seeded})
    engine.dispose()


def sign_in(page: Page, base: str, key: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto(f"{base}/dashboard/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def synthetic_score(lift: float, delta_hit: float) -> dict[str, Any]:
    """A stored score of a well-measured attribute with the given lift and delta hit@1."""
    score = AttributeScore(
        k=1,
        n_values=4,
        customers=400,
        events=4000.0,
        events_per_customer=10.0,
        evaluated_customers=380,
        held_out_events=380.0,
        sufficient_data=True,
        insufficient_reason=None,
        phi=Interval(0.3, 0.25, 0.35),
        lift=Interval(lift, lift - 0.05, lift + 0.05),
        delta_hit=Interval(delta_hit, delta_hit - 0.04, delta_hit + 0.04),
        hit_rate=0.5,
        population_hit_rate=0.5 - delta_hit,
        population_shares={0: 0.4, 1: 0.3, 2: 0.2, 3: 0.1},
        slots=1,
    )
    return score.to_dict()


def seed_synthetic(engine: Engine, tenant: str, attributes: dict[str, tuple[float, float]]) -> dict[str, str]:
    """A tenant with attributes scored once (lift, delta hit@1 each); returns a key per role."""
    with session_scope(engine) as session:
        tenant_id = tenancy.create_tenant(session, tenant).id or 0
        run = jobs.add_run(
            session,
            Run(tenant_id=tenant_id, kind="scoring", status="succeeded", progress=1.0, requested_by="cli"),
        )
        for name, (lift, delta_hit) in attributes.items():
            catalog.put_attribute(session, tenant_id, name, AttributePut(kind=AttributeKind.categorical))
            labels = ["a", "b", "c", "d"]
            result = AttributeResult(
                tenant_id=tenant_id,
                run_id=run.id or 0,
                attribute=name,
                score=synthetic_score(lift, delta_hit),
                value_labels=labels,
            )
            tailoring.add_results(session, [result])
    with session_scope(engine) as session:
        return {role: tenancy.issue_key(session, tenant, role).key for role in ("marketer", "storefront")}


# An axe run's serious and critical violations, each as its rule, impact, help and first few nodes.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ${v.help} at ` +
      v.nodes.slice(0, 3).map(n => n.target.join(" ")).join("; "));
}"""


def axe_check(page: Page, axe_script: Path, name: str) -> list[str]:
    """Run axe on the page as it is and save its screenshot; the violations found."""
    page.add_script_tag(path=str(axe_script))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    return [f"{name}: {v}" for v in page.evaluate(AXE_RUN)]
