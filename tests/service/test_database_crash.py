"""PostgreSQL killed with SIGKILL under load: only 503s meanwhile, no acknowledged write lost, recovery.

The test starts its own PostgreSQL (initdb in a temporary folder, another loopback port), serves the
app on it with uvicorn in a thread, writes events and customers and reads recommendations from
several keep-alive connections, kills the postmaster, restarts it, and checks the outcome, including
that the runs caught by the crash end within their (short) lease after recovery: no stuck run.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn

from service.config import Settings
from service.db import session_scope
from service.main import create_app
from service.migrate import upgrade
from service.tenancy import service as tenancy

PG_BIN = Path("/usr/lib/postgresql/15/bin")
WRITERS = 4
OUTAGE_SECONDS = 3.0
TERMINAL = {"succeeded", "failed"}
# Runs execute in the API process here, leased for this long (renewed every HEARTBEAT_SECONDS).
HEARTBEAT_SECONDS = 0.5
LEASE_SECONDS = 2.0


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Postgres:
    """A throwaway PostgreSQL cluster in a temporary folder (run as `postgres` when we are root)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="tw-crash-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its `postgres` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(PG_BIN / program), *arguments]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )

    def postmaster(self) -> int:
        """The postmaster's process id."""
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def kill(self) -> None:
        """SIGKILL the postmaster, then wait for its backends to notice and exit."""
        pid = self.postmaster()
        children = _children(pid)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        for child in [pid, *children]:
            while _alive(child) and time.monotonic() < deadline:
                time.sleep(0.05)

    def remove(self) -> None:
        """Stop the server if it runs and delete the folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def _children(pid: int) -> list[int]:
    """The process ids whose parent is pid."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """Whether a process exists (and is not a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class Tally:
    """What the load saw: acknowledged writes, statuses, and failures to explain."""

    acked_events: set[str] = field(default_factory=set)
    acked_versions: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    dropped: int = 0
    recommendations_from_memory: int = 0
    first_success_after: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """One keep-alive connection to the app."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
        """One request on the kept connection: status, headers, JSON body."""
        payload = None if body is None else json.dumps(body)
        self.connection.request(method, path, body=payload, headers=self.headers)
        response = self.connection.getresponse()
        data = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, json.loads(data) if data else None

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def _writer(number: int, port: int, keys: dict[str, str], stop: threading.Event, tally: Tally) -> None:
    """Write events and customers and read recommendations until told to stop."""
    crm, storefront = Client(port, keys["crm"]), Client(port, keys["storefront"])
    try:
        _write_until(number, crm, storefront, stop, tally)
    finally:
        crm.close()
        storefront.close()


def _write_until(number: int, crm: Client, storefront: Client, stop: threading.Event, tally: Tally) -> None:
    """The writer's loop."""
    step = 0
    while not stop.is_set():
        step += 1
        customer = f"w{number}-c{step % 5}"
        events = [
            {
                "event_id": f"w{number}-e{step}-{i}",
                "customer_id": f"c-{i}",
                "type": "view",
                "item_id": f"i-{(step + i) % 10}",
                "occurred_at": "2026-01-01T00:00:00Z",
            }
            for i in range(5)
        ]
        calls: list[tuple[Client, str, str, Any]] = [
            (crm, "POST", "/v1/events", {"events": events}),
            (crm, "PUT", f"/v1/customers/{customer}", {"traits": {"v": step}}),
            (storefront, "GET", f"/v1/customers/c-{step % 20}/recommendations?k=3", None),
        ]
        for client, method, path, body in calls:
            try:
                status, headers, answer = client.call(method, path, body)
            except (OSError, http.client.HTTPException) as exc:
                with tally.lock:
                    tally.dropped += 1
                    tally.unexpected.append(f"{method} {path}: connection {type(exc).__name__}")
                client.connection.close()
                continue
            with tally.lock:
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                if status == 503 and int(headers.get("retry-after", "0")) <= 0:
                    tally.unexpected.append(f"{method} {path}: 503 without Retry-After")
                elif status >= 400 and status != 503:
                    tally.unexpected.append(f"{method} {path}: {status} {answer}")
                elif status < 300 and method == "POST":
                    tally.acked_events.update(e["event_id"] for e in events)
                elif status < 300 and method == "PUT":
                    tally.acked_versions[customer] = step
                elif status == 200 and "database is unavailable" in answer.get("reason", ""):
                    tally.recommendations_from_memory += 1
        time.sleep(0.01)


def _seed(port: int, keys: dict[str, str]) -> None:
    """Items, customers and events, then a trained model being served."""
    admin = Client(port, keys["admin"])
    assert admin.call("PUT", "/v1/attributes/color", {"kind": "categorical"})[0] < 300
    items = [{"item_id": f"i-{n}", "attributes": {"color": ["red", "blue"][n % 2]}} for n in range(10)]
    assert admin.call("POST", "/v1/sync/items", items)[0] < 300
    events = [
        {
            "event_id": f"seed-{c}-{n}",
            "customer_id": f"c-{c}",
            "type": "purchase",
            "item_id": f"i-{(c * 3 + n) % 10}",
            "occurred_at": "2026-01-01T00:00:00Z",
        }
        for c in range(20)
        for n in range(4)
    ]
    assert admin.call("POST", "/v1/events", {"events": events})[0] < 300
    status, _, run = admin.call("POST", "/v1/models/runs")
    assert status == 202, run
    deadline = time.monotonic() + 30
    while run["status"] not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.2)
        run = admin.call("GET", f"/v1/models/runs/{run['id']}")[2]
    assert run["status"] == "succeeded", run
    storefront = Client(port, keys["storefront"])
    while storefront.call("GET", "/v1/customers/c-1/recommendations")[0] != 200:
        assert time.monotonic() < deadline, "the trained model was never served"
        time.sleep(0.2)
    storefront.close()
    admin.close()


def _runs_after_the_lease(
    admin: Client, run_ids: dict[str, int], restarted_at: float
) -> tuple[dict[str, Any], float]:
    """The runs started before the kill once ended (or a lease past the restart) and seconds since it."""
    deadline = restarted_at + LEASE_SECONDS + 2 * HEARTBEAT_SECONDS + 20
    while True:
        runs = {kind: admin.call("GET", f"/v1/{kind}/runs/{i}")[2] for kind, i in run_ids.items()}
        if all(run["status"] in TERMINAL for run in runs.values()) or time.monotonic() > deadline:
            return runs, time.monotonic() - restarted_at
        time.sleep(0.2)


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    """A started throwaway PostgreSQL, removed afterwards."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL binaries in {PG_BIN}")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("initdb refuses root and runuser is missing")
    server = Postgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.mark.slow
def test_sigkill_under_load_loses_no_acknowledged_write(postgres: Postgres) -> None:
    upgrade(postgres.url)
    engine = sa.create_engine(postgres.url, poolclass=sa.pool.NullPool)
    with session_scope(engine) as session:
        tenancy.create_tenant(session, "acme")
        keys = {role: tenancy.issue_key(session, "acme", role).key for role in ("admin", "crm", "storefront")}
    settings = Settings(
        database_url=postgres.url,
        environment="test",
        model_reload_seconds=0.5,
        runs_in="process",
        rate_limits={},
        run_heartbeat_seconds=HEARTBEAT_SECONDS,
        run_lease_seconds=LEASE_SECONDS,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    )
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    tally, stop = Tally(), threading.Event()
    admin = Client(port, keys["admin"])
    try:
        while not server.started:
            time.sleep(0.05)
        _seed(port, keys)
        writers = [
            threading.Thread(target=_writer, args=(n, port, keys, stop, tally)) for n in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        time.sleep(1.5)
        run_id = admin.call("POST", "/v1/tailoring/runs", {})[2]["id"]
        training_id = admin.call("POST", "/v1/models/runs")[2]["id"]
        postgres.kill()
        killed_at = time.monotonic()
        time.sleep(OUTAGE_SECONDS / 2)
        ready_during = admin.call("GET", "/readyz")
        time.sleep(OUTAGE_SECONDS / 2)
        statuses_during = dict(tally.statuses)
        postgres.start()
        restarted_at = time.monotonic()
        recovered_at = None
        while recovered_at is None and time.monotonic() < restarted_at + 20:
            if admin.call("GET", "/v1/customers?limit=1")[0] == 200:
                recovered_at = time.monotonic()
            time.sleep(0.05)
        time.sleep(1.5)
        stop.set()
        for writer in writers:
            writer.join(timeout=20)
        runs, runs_ended_after = _runs_after_the_lease(
            admin, {"tailoring": run_id, "models": training_id}, restarted_at
        )
        with engine.connect() as connection:
            stored_events = set(connection.execute(sa.text("SELECT event_id FROM events")).scalars())
            stored = dict(connection.execute(sa.text("SELECT external_id, traits FROM customers")).all())
            active = connection.execute(
                sa.text("SELECT id, kind, status FROM runs WHERE status IN ('queued', 'running')")
            ).all()
        started_again = admin.call("POST", "/v1/tailoring/runs", {})[0]
    finally:
        stop.set()
        admin.close()
        server.should_exit = True
        serving.join(timeout=20)
        engine.dispose()
    lost_events = tally.acked_events - stored_events
    lost_customers = [c for c, v in tally.acked_versions.items() if stored.get(c, {}).get("v", -1) < v]
    outcomes = {kind: (run["status"], run["error"]) for kind, run in runs.items()}
    print(
        f"\nacknowledged events {len(tally.acked_events)}, customers {len(tally.acked_versions)}; "
        f"statuses {tally.statuses} (at the restart {statuses_during}); dropped connections "
        f"{tally.dropped}; recommendations from memory {tally.recommendations_from_memory}; "
        f"outage {restarted_at - killed_at:.1f} s; recovered "
        f"{recovered_at and round(recovered_at - restarted_at, 3)} s after the restart; "
        f"runs started before the kill: {outcomes}, ended {runs_ended_after:.1f} s after the restart"
    )
    assert ready_during[0] == 503 and int(ready_during[1]["retry-after"]) > 0
    assert not lost_events and not lost_customers, (len(lost_events), lost_customers)
    assert not tally.unexpected, tally.unexpected[:10]
    assert statuses_during.get(503, 0) > 0, "the outage was never seen"
    assert tally.recommendations_from_memory > 0
    assert recovered_at is not None
    # Runs caught by the crash end within the lease after recovery (failed naming the cause, or
    # taken over and run again), none stays queued or running, and the kind can be started again.
    assert all(run["status"] in TERMINAL for run in runs.values()), runs
    assert not active, active
    assert started_again == 202
    for run in runs.values():
        assert not any(f"c-{n}" in str(run.get("error")) for n in range(20)), run
