"""The dashboard's overview of the demo bookstore with 200 attributes and 50 scoring runs of history.

Run from the project root: `.venv/bin/python -m bench.dashboard` (options: --attributes, --runs,
--requests, --postgres). It seeds the demo into a throwaway SQLite file (or, with --postgres, a
throwaway PostgreSQL database), defines synthetic attributes up to --attributes, writes --runs scoring
runs whose results cover every attribute straight through the tailoring repository, signs in through
the dashboard's form, then times server-side renders of GET /dashboard in process (the ASGI app, no
network) against the same number of GET /v1/tailoring/attributes (the same decisions as JSON), after
a warm-up of each. The last line is `RESULT overview_ms=... baseline_ms=... ratio=...` (medians).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bench.harness import fresh_postgres
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
from service.tenancy import repository as tenants

TENANT = "demo-bookstore"


@contextmanager
def _silent(_title: str) -> Iterator[Callable[[float, str], None]]:
    """A progress bar that shows nothing."""
    yield lambda _fraction, _message: None


def _score(rng: np.random.Generator) -> dict[str, object]:
    """A synthetic, well-measured score: lift and delta hit@1 drawn around zero or above it."""
    lift, delta = float(rng.normal(0.2, 0.3)), float(rng.normal(0.05, 0.1))
    width_lift, width_delta = float(rng.uniform(0.02, 0.2)), float(rng.uniform(0.01, 0.08))
    return AttributeScore(
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
        lift=Interval(lift, lift - width_lift, lift + width_lift),
        delta_hit=Interval(delta, delta - width_delta, delta + width_delta),
        hit_rate=0.5,
        population_hit_rate=0.45,
        population_shares={0: 0.4, 1: 0.3, 2: 0.2, 3: 0.1},
        slots=1,
    ).to_dict()


def add_history(engine: Engine, attributes: int, runs: int) -> None:
    """Synthetic attributes up to `attributes`, then `runs` succeeded scoring runs covering all of them."""
    rng = np.random.default_rng(7)
    with session_scope(engine) as session:
        tenant = tenants.get_tenant_by_name(session, TENANT)
        assert tenant is not None and tenant.id is not None
        tenant_id = tenant.id
        names = [a.name for a in catalog.list_attributes(session, tenant_id)]
        for index in range(attributes - len(names)):
            name = f"synthetic_{index:03d}"
            catalog.put_attribute(session, tenant_id, name, AttributePut(kind=AttributeKind.categorical))
            names.append(name)
    for _ in range(runs):
        with session_scope(engine) as session:
            run = Run(
                tenant_id=tenant_id, kind="scoring", status="succeeded", progress=1.0, requested_by="cli"
            )
            run_id = jobs.add_run(session, run).id or 0
            results = [
                AttributeResult(
                    tenant_id=tenant_id,
                    run_id=run_id,
                    attribute=name,
                    score=_score(rng),
                    value_labels=["a", "b", "c", "d"],
                )
                for name in names
            ]
            tailoring.add_results(session, results)


def _timed(get: Callable[[], object], requests: int) -> list[float]:
    """Milliseconds per call."""
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        get()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    """Seed, add history, sign in, time the overview against the JSON decisions."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attributes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--postgres", action="store_true")
    options = parser.parse_args()
    with ExitStack() as stack:
        if options.postgres:
            url = stack.enter_context(fresh_postgres())
        else:
            url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/bench.db"
            upgrade(url)
        settings = Settings(database_url=url, runs_in="process")
        engine = create_db_engine(settings)
        seeded = seed_demo(engine, settings, _silent)
        add_history(engine, options.attributes, options.runs)
        key = next(t for t in seeded if t.name == TENANT).keys["marketer"]
        client = stack.enter_context(TestClient(create_app(settings, engine=engine)))
        form = client.get("/dashboard/sign-in").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        client.post("/dashboard/sign-in", data={"csrf_token": token.group(1), "key": key})
        overview = client.get("/dashboard")
        assert overview.status_code == 200 and overview.text.count('class="ci"') == 2 * options.attributes
        bearer = {"Authorization": f"Bearer {key}"}
        assert len(client.get("/v1/tailoring/attributes", headers=bearer).json()) == options.attributes
        page_ms = _timed(lambda: client.get("/dashboard"), options.requests)
        json_ms = _timed(lambda: client.get("/v1/tailoring/attributes", headers=bearer), options.requests)
        engine.dispose()
    backend = "postgresql" if options.postgres else "sqlite"
    page, baseline = statistics.median(page_ms), statistics.median(json_ms)
    print(
        f"{backend}: {options.attributes} attributes, {options.runs} runs of history, "
        f"{len(overview.text)} bytes a page"
    )
    print(f"GET /dashboard                 median {page:.1f} ms, max {max(page_ms):.1f} ms")
    print(f"GET /v1/tailoring/attributes   median {baseline:.1f} ms, max {max(json_ms):.1f} ms")
    print(f"RESULT overview_ms={page:.1f} baseline_ms={baseline:.1f} ratio={page / baseline:.2f}")


if __name__ == "__main__":
    main()
