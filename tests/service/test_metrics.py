"""GET /metrics: Prometheus text, requests of every server process added up."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """The samples of one metric in a scrape."""
    found = []
    for family in text_string_to_metric_families(text):
        found += [(s.labels, s.value) for s in family.samples if s.name == name]
    return found


@pytest.mark.slow
def test_metrics_count_requests_of_both_server_processes(db) -> None:  # type: ignore[no-untyped-def]
    if db.backend != "sqlite":
        pytest.skip("one backend is enough for the server's processes")
    port = free_port()
    env = {"TAILORWISE_DATABASE_URL": db.url, "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-c", "from service.cli import app; app()", "serve", "--port", str(port)]
    command += ["--workers", "2"]
    server = subprocess.Popen([*command, "--no-access-log", "--log-level", "warning"], env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline:
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            # A new connection a request (none kept alive): the kernel spreads them over both processes.
            fresh = httpx.Client(base_url=client.base_url, limits=httpx.Limits(max_keepalive_connections=0))
            with fresh:
                for _ in range(200):
                    fresh.get("/v1/ping")
            text = client.get("/metrics").text
    finally:
        server.terminate()
        server.wait(10)
    pings = samples(text, "tailorwise_http_requests_total")
    counted = sum(v for labels, v in pings if labels["route"] == "/v1/ping" and labels["status"] == "401")
    assert counted == 200  # one process alone saw about half of them
    assert any(s for s in samples(text, "tailorwise_http_request_duration_seconds_count"))
    assert samples(text, "tailorwise_db_pool_connections_in_use") is not None
