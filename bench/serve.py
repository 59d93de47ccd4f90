"""Serving throughput: GET /recommendations against a bare authenticated endpoint, under wrk.

Run: bench/serve.sh [--seconds 10] [--connections 64] (installs wrk if missing), or
.venv/bin/python bench/serve.py. Creates a throwaway PostgreSQL database, serves the app with
uvicorn (2 workers, one BLAS thread each), loads MovieLens-100k and a 100,000-item synthetic catalog
through the API (attributes, item and customer sync, events), scores and trains both tenants with
training runs, then drives /v1/ping and /recommendations of random known customers with wrk.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import create_tenant_key, fresh_postgres, post_json, running_server, server_cpu_seconds
from bench.serve_synthetic import large_catalog
from recommender.datasets import EventLog, load_movielens_100k

START = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 10_000
SERVER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
WRK_SCRIPT = """
local paths = {%s}
math.randomseed(7)
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%d %%d %%.1f %%.1f\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Tenant:
    """A tenant loaded into the bench database and the keys to call it."""

    name: str
    keys: dict[str, str]
    customers: list[str]


@dataclass(frozen=True)
class Load:
    """What wrk measured for one endpoint."""

    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def call(connection: http.client.HTTPConnection, method: str, path: str, key: str, body: Any = None) -> Any:
    """One JSON call on a kept-alive connection; raises on a non-2xx answer."""
    payload = None if body is None else orjson.dumps(body)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    connection.request(method, path, body=payload, headers=headers)
    response = connection.getresponse()
    data = response.read()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path} answered {response.status}: {data[:300]!r}")
    return orjson.loads(data) if data else None


def batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Rows in request-sized batches."""
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def load_tenant(port: int, tenant: Tenant, log: EventLog, kinds: dict[str, str]) -> None:
    """Attributes, items, customers (segment trait) and events, all through the API."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    crm = tenant.keys["crm"]
    for name, kind in kinds.items():
        call(connection, "PUT", f"/v1/attributes/{name}", tenant.keys["marketer"], {"kind": kind})
    items = []
    for item_id, tokens in log.item_features.items():
        values: dict[str, Any] = {}
        for name, value in (token.split("=", 1) for token in tokens):
            values[name] = [*values.get(name, []), value] if kinds[name] == "multi-valued" else value
        items.append({"item_id": item_id, "attributes": values, "active": True})
    customers = [
        {
            "external_id": customer,
            "traits": {"segment": log.customer_segments.get(customer, "none")},
            "consent": {"personalization": True, "profiling": True},
            "source_updated_at": START.isoformat(),
        }
        for customer in tenant.customers
    ]
    for rows, path in ((items, "/v1/sync/items"), (customers, "/v1/sync/customers")):
        for batch in batches(rows):
            post_json(connection, path, orjson.dumps(batch), crm)
    events = [
        {
            "event_id": f"e{n}",
            "customer_id": customer,
            "type": "rating",
            "item_id": item,
            "weight": float(weight),
            "occurred_at": (START + timedelta(seconds=float(at))).isoformat(),
        }
        for n, (customer, item, weight, at) in enumerate(
            zip(log.customer_ids.tolist(), log.item_ids.tolist(), log.weights, log.times, strict=True)
        )
    ]
    for batch in batches(events):
        post_json(connection, "/v1/events", {"events": batch}, crm)


def analyze(url: str) -> None:
    """Vacuum and analyze after the bulk load, as autovacuum would a little later (inserts count)."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def run_to_end(port: int, path: str, key: str) -> dict[str, Any]:
    """Start a run, poll it to the end, fail loudly if it failed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    run = call(connection, "POST", path, key, {} if "tailoring" in path else None)
    while run["status"] in ("queued", "running"):
        time.sleep(0.5)
        run = call(connection, "GET", f"{path}/{run['id']}", key)
    if run["status"] != "succeeded":
        raise RuntimeError(f"{path} run failed: {run['error']}")
    return dict(run)


def score_and_train(port: int, tenant: Tenant, score: bool) -> dict[str, Any]:
    """A scoring run (which attributes become item features), then a training run; the version."""
    marketer = tenant.keys["marketer"]
    started = time.perf_counter()
    if score:
        run_to_end(port, "/v1/tailoring/runs", marketer)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for decision in call(connection, "GET", "/v1/tailoring/attributes", marketer):
            print(f"{tenant.name}: {decision['attribute']} {decision['decision']}: {decision['explanation']}")
    scored = time.perf_counter()
    version_id = run_to_end(port, "/v1/models/runs", marketer)["summary"]["model_version"]
    trained = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    version = dict(call(connection, "GET", f"/v1/models/{version_id}", marketer))
    print(
        f"{tenant.name}: scored in {scored - started:.1f} s, trained version {version_id} in "
        f"{trained - scored:.1f} s: {version['strategy']} (item features from {version['features']})"
    )
    print(f"  {version['reason']}")
    for name in ("model", "segment", "popular"):
        print(f"  {name:8} " + " ".join(f"{k}={v}" for k, v in version["metrics"][name].items()))
    wait_until_served(port, tenant, version_id)
    return version


def wait_until_served(port: int, tenant: Tenant, version: int, seconds: float = 60) -> None:
    """Poll until 20 answers in a row (both workers) come from the new version."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    deadline, in_a_row = time.monotonic() + seconds, 0
    path = f"/v1/customers/{tenant.customers[0]}/recommendations"
    while in_a_row < 20:
        if time.monotonic() > deadline:
            raise RuntimeError(f"version {version} was not served within {seconds} s")
        connection.request("GET", path, headers={"Authorization": f"Bearer {tenant.keys['storefront']}"})
        response = connection.getresponse()
        answer = orjson.loads(response.read())
        in_a_row = in_a_row + 1 if response.status == 200 and answer["model_version"] == version else 0
        time.sleep(0.05)


def wrk(port: int, key: str, paths: list[str], connections: int, seconds: float) -> Load:
    """Drive random paths with wrk and parse its summary."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (bench/serve.sh installs it when it can)")
    quoted = ",".join(f'"{p}"' for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % quoted)
    command = [
        "wrk",
        f"-t{min(2, connections)}",  # wrk needs a connection per thread
        f"-c{connections}",
        f"-d{seconds:g}s",
        "-H",
        f"Authorization: Bearer {key}",
        "-s",
        script.name,
        f"http://127.0.0.1:{port}",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    Path(script.name).unlink()
    found = re.search(r"^WRK (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)$", output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    requests, micros, socket_errors, status_errors, p50, p99 = found.groups()
    return Load(
        requests=int(requests),
        rps=int(requests) / (int(micros) / 1e6),
        p50_ms=float(p50) / 1000,
        p99_ms=float(p99) / 1000,
        errors=int(socket_errors) + int(status_errors),
    )


def reco_paths(tenant: Tenant, count: int = 2_000) -> list[str]:
    """Recommendation paths of known customers (repeats allowed when there are fewer)."""
    return [
        f"/v1/customers/{tenant.customers[n % len(tenant.customers)]}/recommendations" for n in range(count)
    ]


def measure(port: int, tenants: dict[str, Tenant], options: argparse.Namespace) -> dict[str, Load]:
    """Each endpoint in alternating runs, the best run of each kept (other load on the host only slows)."""
    movielens, synthetic = tenants["movielens"], tenants["synthetic"]
    cases = {
        "bare GET /v1/ping": (movielens.keys["storefront"], ["/v1/ping"]),
        "recommendations, MovieLens-100k": (movielens.keys["storefront"], reco_paths(movielens)),
        f"recommendations, {options.items:,} items": (synthetic.keys["storefront"], reco_paths(synthetic)),
    }
    for key, paths in cases.values():
        wrk(port, key, paths, options.connections, 3)  # warm up both workers
    runs: dict[str, list[Load]] = {label: [] for label in cases}
    for _ in range(options.rounds):
        for label, (key, paths) in cases.items():
            runs[label].append(wrk(port, key, paths, options.connections, options.seconds))
    best = {label: max(loads, key=lambda load: load.rps) for label, loads in runs.items()}
    key, paths = cases["recommendations, MovieLens-100k"]
    best["recommendations, MovieLens-100k, 4 conn."] = wrk(port, key, paths, 4, options.seconds)
    return best


def kept_reads(port: int) -> tuple[float, float]:
    """The serving reads a server found kept and read so far, from its /metrics (both workers)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    counts = {
        found[1]: float(found[2])
        for found in re.finditer(r'^tailorwise_kept_reads_total\{result="(\w+)"\} (\S+)$', text, re.MULTILINE)
    }
    return counts.get("hit", 0.0), counts.get("miss", 0.0)


@dataclass(frozen=True)
class Round:
    """One setting's round: the wrk runs and the server CPU each request cost."""

    bare: Load
    reco: Load
    bare_cpu_us: float
    reco_cpu_us: float


def loaded_with_cpu(port: int, key: str, paths: list[str], options: argparse.Namespace) -> tuple[Load, float]:
    """A wrk run and the server's CPU microseconds (user and system, all workers) per request in it."""
    before = server_cpu_seconds(port)
    load = wrk(port, key, paths, options.connections, options.seconds)
    return load, (server_cpu_seconds(port) - before) / load.requests * 1e6


def measure_logs(
    url: str, tenants: dict[str, Tenant], versions: dict[str, int], options: argparse.Namespace
) -> dict[str, list[Round]]:
    """Bare and recommendations on a fresh server per round and setting (logs off, JSON logs), alternating.

    One server runs at a time, so neither setting pays for the other's idle processes. Besides the
    rates, each run reports the server's CPU per request, which other load on the host barely moves.
    """
    movielens = tenants["movielens"]
    key = movielens.keys["storefront"]
    bare_paths, reco_paths_ = ["/v1/ping"], reco_paths(movielens)
    settings = {"logs off": False, "JSON logs": True}
    rounds: dict[str, list[Round]] = {name: [] for name in settings}
    print(
        f"{'round':>5} {'setting':10}{'bare req/s':>11}{'reco req/s':>11}{'ratio':>7}{'p99 ms':>8}"
        f"{'bare CPU us':>12}{'reco CPU us':>12}{'CPU ratio':>10}{'kept':>6}"
    )
    for round_ in range(options.rounds):
        order = list(settings.items()) if round_ % 2 == 0 else list(reversed(settings.items()))
        for name, json_logs in order:
            env = {**SERVER_ENV, "TAILORWISE_LOG_FORMAT": "json"} if json_logs else SERVER_ENV
            with (
                tempfile.TemporaryFile() as logs,
                running_server(url, 2, env, logs if json_logs else None) as port,
            ):
                wait_until_served(port, movielens, versions["movielens"])
                for paths in (bare_paths, reco_paths_):
                    wrk(port, key, paths, options.connections, 3)  # warm up both workers
                bare, bare_cpu = loaded_with_cpu(port, key, bare_paths, options)
                hits, misses = kept_reads(port)
                reco, reco_cpu = loaded_with_cpu(port, key, reco_paths_, options)
                hits, misses = (
                    after - before for after, before in zip(kept_reads(port), (hits, misses), strict=True)
                )
                kept = hits / max(hits + misses, 1.0)
                if json_logs:
                    logs.seek(0)
                    if sum(1 for _ in logs) < bare.requests + reco.requests:
                        raise RuntimeError("the JSON-logging server wrote fewer access lines than it served")
            rounds[name].append(Round(bare, reco, bare_cpu, reco_cpu))
            print(
                f"{round_ + 1:>5} {name:10}{bare.rps:11.0f}{reco.rps:11.0f}{reco.rps / bare.rps:7.3f}"
                f"{reco.p99_ms:8.2f}{bare_cpu:12.1f}{reco_cpu:12.1f}{bare_cpu / reco_cpu:10.3f}{kept:6.2f}"
            )
    return rounds


def report_logs(rounds: dict[str, list[Round]]) -> None:
    """Median serving ratios (by rate and by CPU) without and with JSON access logs, and on over off."""
    ratio, cpu_ratio, cpu_us = {}, {}, {}
    for name, runs in rounds.items():
        ratio[name] = statistics.median(r.reco.rps / r.bare.rps for r in runs)
        cpu_ratio[name] = statistics.median(r.bare_cpu_us / r.reco_cpu_us for r in runs)
        cpu_us[name] = statistics.median(r.bare_cpu_us for r in runs)
    off, on = "logs off", "JSON logs"
    print(f"JSON access lines cost the bare endpoint {cpu_us[on] - cpu_us[off]:.1f} us of CPU a request")
    print(
        f"RESULT ratio_logs_off={ratio[off]:.3f} ratio_json_logs={ratio[on]:.3f} "
        f"json_over_off={ratio[on] / ratio[off]:.3f} cpu_ratio_logs_off={cpu_ratio[off]:.3f} "
        f"cpu_ratio_json_logs={cpu_ratio[on]:.3f} cpu_json_over_off={cpu_ratio[on] / cpu_ratio[off]:.3f} "
        f"rounds={len(rounds[off])}"
    )


def main() -> None:
    """Load both tenants, train, measure and print the table and the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="Alternating runs: the best of each is kept (with --logs, every round and the median ratio).",
    )
    parser.add_argument("--items", type=int, default=100_000, help="Items of the synthetic catalog.")
    parser.add_argument(
        "--no-score", action="store_true", help="Skip the scoring runs: no attribute becomes an item feature."
    )
    parser.add_argument(
        "--logs",
        action="store_true",
        help="The serving ratio on fresh servers with JSON access logs (to a file) and without, alternating.",
    )
    options = parser.parse_args()

    movielens = load_movielens_100k().events()
    synthetic = large_catalog(items=options.items)
    with fresh_postgres() as url:
        with running_server(url, workers=2, env=SERVER_ENV) as port:
            tenants = {}
            for name, log in (("movielens", movielens), ("synthetic", synthetic)):
                keys = {
                    role: create_tenant_key(url, name, role) for role in ("crm", "marketer", "storefront")
                }
                tenants[name] = Tenant(name, keys, sorted(set(log.customer_ids.tolist())))
            started = time.perf_counter()
            load_tenant(
                port, tenants["movielens"], movielens, {"genre": "multi-valued", "decade": "categorical"}
            )
            load_tenant(port, tenants["synthetic"], synthetic, {"shelf": "categorical"})
            analyze(url)
            print(f"loaded both tenants through the API in {time.perf_counter() - started:.1f} s")
            versions = {
                name: score_and_train(port, t, not options.no_score)["id"] for name, t in tenants.items()
            }
            if not options.logs:
                results = measure(port, tenants, options)
        if options.logs:
            report_logs(measure_logs(url, tenants, versions, options))
            return
    print(
        f"\n{options.connections} connections, {options.seconds:g} s a run, 2 workers, best of "
        f"{options.rounds} alternating runs"
    )
    print(f"{'endpoint':42}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for label, load in results.items():
        print(f"{label:42}{load.rps:10.0f}{load.p50_ms:9.2f}{load.p99_ms:9.2f}{load.errors:8d}")
    bare, reco = results["bare GET /v1/ping"], results["recommendations, MovieLens-100k"]
    print(
        f"RESULT reco_rps={reco.rps:.0f} bare_rps={bare.rps:.0f} ratio={reco.rps / bare.rps:.2f} "
        f"p99_ms={reco.p99_ms:.2f}"
    )


if __name__ == "__main__":
    main()
