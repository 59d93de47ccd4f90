"""Shared bench plumbing: a throwaway PostgreSQL database and a real uvicorn server on loopback."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from service.config import Settings
from service.db import create_db_engine, session_scope
from service.migrate import upgrade
from service.tenancy import repository as tenants
from service.tenancy import service as tenancy

ADMIN_URL = os.environ.get(
    "TAILORWISE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new migrated PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"tailorwise_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def create_tenant_key(database_url: str, tenant: str, role: str) -> str:
    """Create a tenant (if new) and a key of a role; returns the key."""
    engine = create_db_engine(Settings(database_url=database_url))
    with session_scope(engine) as session:
        if tenants.get_tenant_by_name(session, tenant) is None:
            tenancy.create_tenant(session, tenant)
        key = tenancy.issue_key(session, tenant, role).key
    engine.dispose()
    return key


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(
    database_url: str, workers: int = 1, env: Mapping[str, str] | None = None, logs: IO[bytes] | None = None
) -> Iterator[int]:
    """A uvicorn server of the app on a free loopback port; yields the port.

    With `logs`, it logs every request (access log at info) into that file; else only warnings.
    """
    port = free_port()
    # Runs execute in the server process: with PostgreSQL the API would otherwise only enqueue them for
    # a worker, which a bench does not start.
    environment = {
        **os.environ,
        "TAILORWISE_DATABASE_URL": database_url,
        "TAILORWISE_RUNS_IN": "process",
        **(env or {}),
    }
    command = [
        str(Path(sys.executable).with_name("tailorwise")),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        *(["--log-level", "info"] if logs else ["--log-level", "warning", "--no-access-log"]),
    ]
    process = subprocess.Popen(command, env=environment, stderr=logs)
    try:
        _wait_healthy(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_healthy(port: int, seconds: float = 120.0) -> None:
    """Poll /healthz until the server answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not become healthy")


def post_json(
    connection: http.client.HTTPConnection,
    path: str,
    body: Any,
    key: str,
    content_type: str = "application/json",
) -> dict[str, Any]:
    """POST a body on a kept-alive connection; raises on a non-2xx answer."""
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    connection.request(
        "POST", path, body=payload, headers={"Authorization": f"Bearer {key}", "Content-Type": content_type}
    )
    response = connection.getresponse()
    data = response.read()
    if response.status >= 300:
        raise RuntimeError(f"{path} answered {response.status}: {data[:300]!r}")
    return dict(json.loads(data))


def server_cpu_seconds(port: int) -> float:
    """User and system CPU seconds used so far by the server on `port` and its worker processes."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    server = None
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            cpu = (int(fields[11]) + int(fields[12])) / tick
            stats[int(entry.name)] = (int(fields[1]), cpu)
            if b"serve" in command and str(port).encode() in command:
                server = int(entry.name)
    if server is None:
        raise RuntimeError(f"no server process found for port {port}")
    family = {server}
    while grown := {pid for pid, (parent, _) in stats.items() if parent in family} - family:
        family |= grown
    return sum(stats[pid][1] for pid in family)
