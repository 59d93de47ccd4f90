"""Treatment decisions: GET /v1/customers/{id}/treatment against a bare authenticated endpoint.

Run from the project root: `.venv/bin/python -m bench.treatment` (options: --customers,
--seconds, --connections; wrk must be installed). It creates a throwaway PostgreSQL database, serves
the app (2 workers, as the recommendations benchmark does) on 127.0.0.1, loads a shop through the API
(attributes, customers, choice, purchase and self-service events, some stated engagement
preferences), runs a scoring run (attribute decisions, customer values, observed engagement),
defines two touchpoints (support with two attributes, queue with none), then drives wrk (64
connections by default; after a warm-up of each, 3 s for the bare endpoint, 20 s for each touchpoint,
so that both workers have kept nearly every answer): the bare endpoint, then the treatment of 4,000
random known customers at each touchpoint (printing the share of answers found kept), and the
support touchpoint once more over a single connection for the unloaded latency. The bare endpoint
is `GET /v1/ping` when the server has it; otherwise the cheapest authenticated endpoint of
treatment, `GET /v1/treatment/settings` (auth plus one primary-key read), stands in, and the output
says which. The last line is
`RESULT treatment_rps=... bare_rps=... ratio=... p99_ms=... one_connection_p50_ms=...` (the support
touchpoint, loaded; then over one connection).
"""

from __future__ import annotations

import argparse
import http.client
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bench.harness import create_tenant_key, fresh_postgres, post_json, running_server
from bench.serve import SERVER_ENV, call, kept_reads, wrk

START = datetime(2026, 1, 1, tzinfo=UTC)
CHANNELS = ["chat", "phone", "email", "video", "callback", "store"]
SUPPORT = {
    "journey_phase": "support",
    "attributes": ["support_channel", "packaging"],
    "mode": "auto",
    "rules": [
        {"top_percent": 5, "priority": 1, "routing": "senior", "recognition": True},
        {"top_percent": 20, "priority": 2, "routing": "standard"},
    ],
}
QUEUE = {"journey_phase": "support", "rules": SUPPORT["rules"]}


def shop_events(customers: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Channel and packaging choices, purchases of varied amounts, and self-service signals."""
    events: list[dict[str, Any]] = []

    def add(customer: int, when: datetime, **fields: Any) -> None:
        events.append(
            {
                "event_id": f"e{len(events)}",
                "customer_id": f"c-{customer}",
                "occurred_at": when.isoformat(),
                **fields,
            }
        )

    for c in range(customers):
        for k in range(4):
            when = START + timedelta(days=7 * k, minutes=c)
            channel = CHANNELS[c % 6] if rng.random() < 0.85 else CHANNELS[int(rng.integers(6))]
            add(c, when, type="choice", attribute="support_channel", value=channel)
            add(c, when, type="choice", attribute="packaging", value="box" if rng.random() < 0.8 else "bag")
        for k in range(int(rng.integers(1, 6))):
            add(
                c,
                START + timedelta(days=int(rng.integers(90))),
                type="purchase",
                item_id=f"sku-{k}",
                weight=round(float(rng.lognormal(3, 1)), 2),
            )
        if c % 10 == 0:
            for kind in ("self_service_abandoned", "called_support"):
                add(c, START + timedelta(days=60), type=kind, attribute="journey_phase", value="support")
    return events


def load_shop(port: int, keys: dict[str, str], customers: int) -> None:
    """Attributes, customers, events and stated engagement, all through the API; then a scoring run."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    for name in ("support_channel", "packaging"):
        call(connection, "PUT", f"/v1/attributes/{name}", keys["marketer"], {"kind": "categorical"})
    rows = [{"external_id": f"c-{c}", "traits": {}} for c in range(customers)]
    post_json(connection, "/v1/sync/customers", rows, keys["crm"])
    events = shop_events(customers, np.random.default_rng(7))
    for start in range(0, len(events), 10_000):
        post_json(connection, "/v1/events", {"events": events[start : start + 10_000]}, keys["crm"])
    full = {"preferences": [{"journey_phase": "support", "mode": "full-service"}]}
    for c in range(0, customers, 20):
        call(connection, "PUT", f"/v1/customers/c-{c}/engagement", keys["crm"], full)
    started = time.perf_counter()
    run = call(connection, "POST", "/v1/tailoring/runs", keys["marketer"], {})
    while run["status"] in ("queued", "running"):
        time.sleep(0.2)
        run = call(connection, "GET", f"/v1/tailoring/runs/{run['id']}", keys["marketer"])
    if run["status"] != "succeeded":
        raise RuntimeError(f"scoring failed: {run['error']}")
    elapsed = time.perf_counter() - started
    print(f"{len(events):,} events of {customers:,} customers loaded; scored in {elapsed:.1f} s")
    for decision in call(connection, "GET", "/v1/tailoring/attributes", keys["marketer"]):
        print(f"  {decision['attribute']}: {decision['decision']} ({decision['level']})")
    call(connection, "PUT", "/v1/touchpoints/support", keys["marketer"], SUPPORT)
    call(connection, "PUT", "/v1/touchpoints/queue", keys["marketer"], QUEUE)


def bare_endpoint(port: int, keys: dict[str, str]) -> tuple[str, str]:
    """`GET /v1/ping` with the storefront key when the server has it, else the treatment settings."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/v1/ping", headers={"Authorization": f"Bearer {keys['storefront']}"})
    response = connection.getresponse()
    response.read()
    if response.status == 200:
        return "/v1/ping", keys["storefront"]
    return "/v1/treatment/settings", keys["marketer"]


def main() -> None:
    """Load the shop, measure both endpoints and print the table and the RESULT line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="Seconds of wrk per endpoint.")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--warmup", type=float, default=20.0, help="Seconds of wrk on each touchpoint before measuring."
    )
    options = parser.parse_args()
    rng = np.random.default_rng(11)
    with fresh_postgres() as url, running_server(url, workers=2, env=SERVER_ENV) as port:
        keys = {role: create_tenant_key(url, "shop", role) for role in ("crm", "marketer", "storefront")}
        load_shop(port, keys, options.customers)
        bare_path, bare_key = bare_endpoint(port, keys)
        customers = rng.integers(options.customers, size=4_000)
        endpoints = {
            f"bare GET {bare_path}": (bare_key, [bare_path]),
            "treatment at support (2 attributes)": (
                keys["storefront"],
                [f"/v1/customers/c-{c}/treatment?touchpoint=support" for c in customers],
            ),
            "treatment at queue (no attributes)": (
                keys["storefront"],
                [f"/v1/customers/c-{c}/treatment?touchpoint=queue" for c in customers],
            ),
        }
        for label, (key, paths) in endpoints.items():
            # Warm up both workers: each keeps the answers of the customers it has served.
            wrk(port, key, paths, options.connections, 3 if label.startswith("bare") else options.warmup)
        results = {}
        for label, (key, paths) in endpoints.items():
            before = kept_reads(port)
            results[label] = wrk(port, key, paths, options.connections, options.seconds)
            hits, misses = (now - then for now, then in zip(kept_reads(port), before, strict=True))
            if hits + misses:
                print(f"{label}: {hits / (hits + misses):.1%} of {hits + misses:,.0f} answers were kept")
        support_key, support_paths = endpoints["treatment at support (2 attributes)"]
        results["  the same, one connection"] = wrk(port, support_key, support_paths, 1, options.seconds)
    print(f"\n{options.connections} connections (wrk), {options.seconds:g} s each, 2 workers, 127.0.0.1")
    print(f"{'endpoint':40}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for label, load in results.items():
        print(f"{label:40}{load.rps:9.0f}{load.p50_ms:9.2f}{load.p99_ms:9.2f}{load.errors:8d}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bare, treatment = results[f"bare GET {bare_path}"], results["treatment at support (2 attributes)"]
    single = results["  the same, one connection"]
    print(
        f"RESULT treatment_rps={treatment.rps:.0f} bare_rps={bare.rps:.0f} "
        f"ratio={treatment.rps / bare.rps:.2f} p99_ms={treatment.p99_ms:.1f} "
        f"one_connection_p50_ms={single.p50_ms:.2f}"
    )


if __name__ == "__main__":
    main()
