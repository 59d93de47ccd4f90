"""`tailorwise import`: CSV and NDJSON files through the bulk code path, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings
from service.imports import import_file

CUSTOMERS_CSV = """external_id,source_updated_at,traits,consent_personalization,consent_profiling
c-1,2026-01-01T00:00:00Z,"{""segment"": ""gold""}",true,false
c-2,2026-01-01T00:00:00Z,{not json,true,true
c-3,2026-01-01T00:00:00Z,{},maybe,true
c-4,2026-01-01T00:00:00+02:00,,1,0
"""


@pytest.fixture
def cli(db, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A CLI runner whose settings point at the test database."""
    monkeypatch.setenv("TAILORWISE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_import_customers_csv_skips_bad_lines(
    cli: CliRunner, client: TestClient, make_key, tmp_path: Path
) -> None:
    crm = make_key("crm")
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS_CSV)
    result = cli.invoke(app, ["import", "customers", str(path), "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    assert "created=2 updated=0 unchanged=0 stale=0 invalid=2" in result.stdout
    assert "line 3: row: a JSON column is not valid JSON" in result.stderr
    assert "line 4: consent.personalization: must be true or false" in result.stderr
    assert client.get("/v1/customers/c-1", headers=crm).json()["traits"] == {"segment": "gold"}
    assert client.get("/v1/customers/c-4", headers=crm).json()["consent"] == {
        "personalization": True,
        "profiling": False,
    }
    again = cli.invoke(app, ["import", "customers", str(path), "--tenant", "acme"])
    assert "created=0 updated=0 unchanged=2" in again.stdout


def test_import_items_ndjson_with_a_broken_line(
    cli: CliRunner, client: TestClient, make_key, tmp_path: Path
) -> None:
    crm = make_key("crm")
    client.put("/v1/attributes/price", json={"kind": "numeric", "bins": [10]}, headers=crm)
    rows = [
        orjson.dumps({"item_id": "b-1", "attributes": {"genre": "crime", "price": 12}}),
        b'{"item_id": "b-2", "attributes": ',
        orjson.dumps({"item_id": "b-3", "attributes": {"price": "cheap"}}),
        orjson.dumps({"item_id": "b-4", "attributes": {}, "active": False}),
    ]
    path = tmp_path / "items.ndjson"
    path.write_bytes(b"\n".join(rows) + b"\n")
    result = cli.invoke(app, ["import", "items", str(path), "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    assert "created=2 updated=0 unchanged=0 stale=0 invalid=2" in result.stdout
    assert "line 2: row: not valid JSON" in result.stderr
    assert "line 3: attributes.price:" in result.stderr
    assert client.get("/v1/items/b-1", headers=crm).json()["values"] == {
        "genre": ["crime"],
        "price": ["[10,inf)"],
    }
    assert client.get("/v1/items/b-4", headers=crm).json()["active"] is False


def test_items_csv_and_errors(cli: CliRunner, client: TestClient, make_key, tmp_path: Path) -> None:
    crm = make_key("crm")
    path = tmp_path / "items.csv"
    path.write_text('item_id,active,attributes\nb-1,,"{""genre"": ""crime""}"\nb-2,false,{}\n')
    assert "created=2" in cli.invoke(app, ["import", "items", str(path), "--tenant", "acme"]).stdout
    assert client.get("/v1/items/b-1", headers=crm).json()["active"] is True
    assert client.get("/v1/items/b-2", headers=crm).json()["active"] is False
    unknown = cli.invoke(app, ["import", "items", str(path), "--tenant", "nobody"])
    assert unknown.exit_code == 1 and "nobody" in unknown.stderr
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("sku,attributes\nb-1,{}\n")
    header = cli.invoke(app, ["import", "items", str(wrong), "--tenant", "acme"])
    assert header.exit_code == 1 and "item_id" in header.stderr
    text = tmp_path / "items.txt"
    text.write_text("")
    assert cli.invoke(app, ["import", "items", str(text), "--tenant", "acme"]).exit_code == 1


def test_import_commits_chunk_by_chunk(client: TestClient, make_key, db, tmp_path: Path) -> None:
    crm = make_key("crm")
    path = tmp_path / "customers.ndjson"
    rows = [
        {
            "external_id": f"c-{n}",
            "traits": {},
            "consent": {"personalization": True, "profiling": True},
            "source_updated_at": "2026-01-01T00:00:00Z",
        }
        for n in range(7)
    ]
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    seen: list[float] = []
    result = import_file(
        db.engine, "acme", path, "customers", lambda done, _note: seen.append(done), chunk_rows=3
    )
    assert result.created == 7 and len(seen) == 3 and seen[-1] == 1.0
    assert len(client.get("/v1/customers", headers=crm).json()["items"]) == 7
