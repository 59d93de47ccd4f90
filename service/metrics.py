"""Prometheus metrics, shared by every server process through prometheus-client's multiprocess mode.

`tailorwise serve --workers N` points PROMETHEUS_MULTIPROC_DIR at a fresh folder before it starts its
processes; each then writes its values to files there and `/metrics` adds them up. No label carries a
customer id, a key or a tenant.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import sqlalchemy as sa
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy.engine import Engine

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
REQUESTS = Counter(
    "tailorwise_http_requests_total", "HTTP requests by route template, method and status.",
    ["route", "method", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "tailorwise_http_request_duration_seconds", "HTTP request latency by route template and method.",
    ["route", "method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)  # fmt: skip
RECOMMENDATIONS = Counter(
    "tailorwise_recommendations_served_total",
    "Recommendations answered, by serving path (personal, segment, popular) and level (the strategy).",
    ["path", "level"],
)
KEPT_READS = Counter(
    "tailorwise_kept_reads_total", "Serving reads found kept (hit) or read (miss).", ["result"]
)
RUNS = Counter("tailorwise_runs_total", "Runs ended, by kind and outcome.", ["kind", "outcome"])
RUN_SECONDS = Histogram(
    "tailorwise_run_duration_seconds", "Run durations by kind and outcome.", ["kind", "outcome"],
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0),
)  # fmt: skip
POOL_IN_USE = Gauge(
    "tailorwise_db_pool_connections_in_use", "Database connections checked out of the pools.",
    multiprocess_mode="livesum",
)  # fmt: skip
POOL_SIZE = Gauge(
    "tailorwise_db_pool_size", "Connections the pools keep (overflow aside).", multiprocess_mode="livesum"
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
KEPT_HIT = KEPT_READS.labels("hit")
KEPT_MISS = KEPT_READS.labels("miss")
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def observe_run(kind: str, outcome: str, seconds: float) -> None:
    """Count an ended run and its duration."""
    RUNS.labels(kind, outcome).inc()
    RUN_SECONDS.labels(kind, outcome).observe(seconds)


def served(path: str, level: str) -> None:
    """Count a recommendation answered by a serving path at a level."""
    RECOMMENDATIONS.labels(path, level).inc()


def watch_pool(engine: Engine) -> None:
    """Track an engine's pool: its size, and connections checked out now."""
    pool = engine.pool
    if isinstance(pool, sa.pool.QueuePool):
        POOL_SIZE.inc(pool.size())
    sa.event.listen(engine, "checkout", lambda *_: POOL_IN_USE.inc())
    sa.event.listen(engine, "checkin", lambda *_: POOL_IN_USE.dec())


def exposition(extra: CollectorRegistry | None = None) -> bytes:
    """Every process's metrics (or this process's, outside multiprocess mode) in the text format."""
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        text = generate_latest(REGISTRY)
    return text + (generate_latest(extra) if extra is not None else b"")


class RequestMetrics:
    """ASGI middleware counting requests by route template, method and status, with their latency."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and count it once its response has started."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            key = (getattr(route, "path", "unmatched"), method, status)
            children = self._children.get(key)
            if children is None:
                children = (REQUESTS.labels(key[0], key[1], str(status)), LATENCY.labels(key[0], key[1]))
                self._children[key] = children
            children[0].inc()
            children[1].observe(time.perf_counter() - started)
