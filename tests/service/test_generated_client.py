"""A client generated from the document by openapi-python-client works against a live server."""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import uvicorn

from service.config import Settings
from service.db import create_db_engine, session_scope
from service.main import create_app
from service.migrate import upgrade
from service.tenancy import service as tenancy

PACKAGE = "tailorwise_client"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def client_document(document: dict[str, Any]) -> dict[str, Any]:
    """The document without the NDJSON bodies, which the generator cannot read (the JSON arrays stay)."""
    for item in document["paths"].values():
        for operation in item.values():
            operation.get("requestBody", {}).get("content", {}).pop("application/x-ndjson", None)
    return document


def _free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, a CRM key) of the app served by uvicorn on a loopback port, on a migrated SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    upgrade(url)
    settings = Settings(database_url=url, environment="test", key_cache_seconds=0)
    engine = create_db_engine(settings)
    with session_scope(engine) as session:
        tenancy.create_tenant(session, "acme", personalization_by_default=True)
        key = tenancy.issue_key(session, "acme", "crm").key
    port = _free_port()
    app = create_app(settings, engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", key
    server.should_exit = True
    thread.join(10)
    engine.dispose()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package generated from the app's document, importable for the module's tests."""
    root = tmp_path_factory.mktemp("generated")
    document = create_app(Settings(database_url="sqlite://", environment="test")).openapi()
    spec = root / "openapi.json"
    spec.write_text(json.dumps(client_document(json.loads(json.dumps(document)))))
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [GENERATOR, "generate", "--path", spec, "--output-path", root / PACKAGE, "--meta", "none"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str) -> Any:
    """A module of the generated package."""
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_the_generated_client_gets_typed_results_and_typed_problems(
    generated: ModuleType, live: tuple[str, str]
) -> None:
    base_url, key = live
    models = _module("models")
    put_customer = _module("api.profiles.put_customer")
    get_customer = _module("api.profiles.get_customer")
    post_events = _module("api.profiles.post_events")
    get_changes = _module("api.sync.get_changes")
    with generated.AuthenticatedClient(base_url=base_url, token=key) as client:
        body = models.CustomerPut.from_dict({"traits": {"segment": "gold"}})
        created = put_customer.sync_detailed("c-1", client=client, body=body)
        assert created.status_code == 201
        assert isinstance(created.parsed, models.CustomerPublic)
        assert put_customer.sync_detailed("c-1", client=client, body=body).status_code == 200

        customer = get_customer.sync("c-1", client=client)
        assert isinstance(customer, models.CustomerPublic)
        assert customer.external_id == "c-1"
        assert customer.traits.to_dict() == {"segment": "gold"}

        event = {"event_id": "e-1", "customer_id": "c-1", "type": "purchase", "item_id": "i-1"}
        event["occurred_at"] = "2026-01-01T00:00:00Z"
        batch = models.EventBatch.from_dict({"events": [event]})
        stored = post_events.sync(client=client, body=batch)
        assert isinstance(stored, models.EventBatchResult)
        assert stored.accepted == 1

        changes = get_changes.sync(client=client)
        assert isinstance(changes, models.ChangePage)
        assert [change.external_id for change in changes.items] == ["c-1"]

        invalid = put_customer.sync_detailed(
            "c-1", client=client, body=models.CustomerPut.from_dict({"traits": {}, "consent": {"bogus": 1}})
        )
        assert invalid.status_code == 422
        assert isinstance(invalid.parsed, models.Problem)
        assert invalid.parsed.errors and invalid.parsed.errors[0].field.startswith("body.consent")

        missing = get_customer.sync_detailed("nobody", client=client)
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.Problem)
        assert missing.parsed.title == "Not found"
