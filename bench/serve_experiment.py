"""Serving throughput under a running holdout experiment: recommendations with one against without one.

Run: bench/serve.sh is the plain serving bench; this one is `.venv/bin/python bench/serve_experiment.py`
(wrk must be installed). Creates a throwaway PostgreSQL database, serves the app with uvicorn
(2 workers, runs in the server's processes), loads MovieLens-100k twice through the API as two tenants,
trains both, starts a hash experiment over recommendations (holdout share 0.1) in one of them, then
drives /v1/ping, the plain tenant's and the experimenting tenant's /recommendations with wrk in
interleaved rounds, the best of each kept.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import create_tenant_key, fresh_postgres, running_server
from bench.serve import SERVER_ENV, Load, Tenant, analyze, call, load_tenant, reco_paths, score_and_train, wrk
from recommender.datasets import load_movielens_100k

KINDS = {"genre": "multi-valued", "decade": "categorical"}
EXPERIMENT = {
    "name": "recommendations-holdout",
    "scope": {"kind": "recommendations"},
    "holdout_share": 0.1,
    "assignment": "hash",
    "goal": {"event_type": "purchase", "measure": "sum", "window_days": 14},
}


def start_experiment(port: int, tenant: Tenant) -> int:
    """Start the experiment and wait until both workers serve it (20 answers in a row carry it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    created = call(connection, "POST", "/v1/experiments", tenant.keys["marketer"], EXPERIMENT)
    experiment_id = int(created["id"])
    deadline, in_a_row, n = time.monotonic() + 60, 0, 0
    while in_a_row < 20:
        if time.monotonic() > deadline:
            raise RuntimeError("the experiment was not served within 60 s")
        path = f"/v1/customers/{tenant.customers[n % len(tenant.customers)]}/recommendations"
        answer = call(connection, "GET", path, tenant.keys["storefront"])
        in_a_row = in_a_row + 1 if (answer.get("experiment") or {}).get("id") == experiment_id else 0
        n += 1
        time.sleep(0.05)
    return experiment_id


def measure(port: int, plain: Tenant, experimenting: Tenant, options: argparse.Namespace) -> dict[str, Load]:
    """Each endpoint in interleaved rounds, the best of each kept (other load on the host only slows)."""
    cases = {
        "bare GET /v1/ping": (plain.keys["storefront"], ["/v1/ping"]),
        "recommendations, no experiment": (plain.keys["storefront"], reco_paths(plain)),
        "recommendations, running experiment": (experimenting.keys["storefront"], reco_paths(experimenting)),
    }
    for key, paths in cases.values():
        wrk(port, key, paths, options.connections, 3)  # warm up both workers
    runs: dict[str, list[Load]] = {label: [] for label in cases}
    for _ in range(options.rounds):
        for label, (key, paths) in cases.items():
            runs[label].append(wrk(port, key, paths, options.connections, options.seconds))
    return {label: max(loads, key=lambda load: load.rps) for label, loads in runs.items()}


def main() -> None:
    """Load both tenants, train, start the experiment, measure, print the table and the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="Interleaved rounds; the best of each is kept.")
    options = parser.parse_args()

    log = load_movielens_100k().events()
    customers = sorted(set(log.customer_ids.tolist()))
    env = {**SERVER_ENV, "TAILORWISE_RUNS_IN": "process"}
    with fresh_postgres() as url, running_server(url, workers=2, env=env) as port:
        tenants = {}
        for name in ("plain", "experimenting"):
            keys = {role: create_tenant_key(url, name, role) for role in ("crm", "marketer", "storefront")}
            tenants[name] = Tenant(name, keys, customers)
            load_tenant(port, tenants[name], log, KINDS)
        analyze(url)
        for tenant in tenants.values():
            score_and_train(port, tenant, score=False)
        experiment_id = start_experiment(port, tenants["experimenting"])
        print(f"experiment {experiment_id} serving: hash, recommendations, holdout share 0.1")
        results = measure(port, tenants["plain"], tenants["experimenting"], options)
    print(
        f"\n{options.connections} connections, {options.seconds:g} s a run, 2 workers,"
        f" best of {options.rounds}"
    )
    print(f"{'endpoint':42}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for label, load in results.items():
        print(f"{label:42}{load.rps:10.0f}{load.p50_ms:9.2f}{load.p99_ms:9.2f}{load.errors:8d}")
    bare = results["bare GET /v1/ping"]
    plain = results["recommendations, no experiment"]
    held = results["recommendations, running experiment"]
    print(
        f"RESULT experiment_rps={held.rps:.0f} plain_rps={plain.rps:.0f} bare_rps={bare.rps:.0f}"
        f" vs_plain={held.rps / plain.rps:.2f} vs_bare={held.rps / bare.rps:.2f}"
    )


if __name__ == "__main__":
    main()
