"""Importing a CSV or NDJSON file of customers or items in chunks, through the bulk endpoints' code.

CSV columns, customers: external_id, source_updated_at, traits (JSON text), consent_personalization,
consent_profiling (true/false), optional preferences (JSON text). Items: item_id, active (true/false,
empty: true), attributes (JSON text), optional source_updated_at. NDJSON rows are as in the API.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import Engine

from service.bulk.bodies import Malformed, Record, ndjson_records
from service.bulk.schemas import SyncResult
from service.catalog import service as catalog
from service.db import session_scope
from service.errors import BadRequest, NotFound
from service.sync import service as sync
from service.tenancy import repository as tenants

CHUNK_ROWS = 10_000
READ_BYTES = 1 << 20
BOOLEANS = {
    "true": True,
    "t": True,
    "1": True,
    "yes": True,
    "false": False,
    "f": False,
    "0": False,
    "no": False,
}
CSV_COLUMNS = {
    "customers": (
        {"external_id", "source_updated_at", "traits", "consent_personalization", "consent_profiling"},
        {"preferences"},
    ),
    "items": ({"item_id", "attributes"}, {"active", "source_updated_at"}),
}
Sync = Callable[[Any, int, Iterable[Record], int], SyncResult]
SYNCS: dict[str, Sync] = {"customers": sync.sync_customers, "items": catalog.sync_items}
Progress = Callable[[float, str], None]


def _flag(text: str) -> Any:
    """A CSV boolean; anything else is passed on for the row check to refuse."""
    return BOOLEANS.get(text.strip().lower(), text)


def _customer(cells: dict[str, str]) -> dict[str, Any]:
    """A CSV customer row in the API's shape."""
    row: dict[str, Any] = {
        "external_id": cells["external_id"],
        "source_updated_at": cells["source_updated_at"],
        "traits": orjson.loads(cells["traits"] or "{}"),
        "consent": {
            "personalization": _flag(cells["consent_personalization"]),
            "profiling": _flag(cells["consent_profiling"]),
        },
    }
    if cells.get("preferences"):
        row["preferences"] = orjson.loads(cells["preferences"])
    return row


def _item(cells: dict[str, str]) -> dict[str, Any]:
    """A CSV item row in the API's shape."""
    row: dict[str, Any] = {
        "item_id": cells["item_id"],
        "attributes": orjson.loads(cells["attributes"] or "{}"),
    }
    if cells.get("active"):
        row["active"] = _flag(cells["active"])
    if cells.get("source_updated_at"):
        row["source_updated_at"] = cells["source_updated_at"]
    return row


def csv_records(path: Path, kind: str) -> Iterator[Record]:
    """The rows of a CSV file with a header, numbered by the file line they end on."""
    required, optional = CSV_COLUMNS[kind]
    convert = _customer if kind == "customers" else _item
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or ())
        if not required <= header or not header <= required | optional:
            expected = ", ".join(sorted(required)) + " (optional: " + ", ".join(sorted(optional)) + ")"
            raise BadRequest(f"The CSV header must name the columns {expected}.")
        for cells in reader:
            try:
                yield reader.line_num, convert(cells)
            except orjson.JSONDecodeError as exc:
                yield reader.line_num, Malformed(f"row: a JSON column is not valid JSON ({exc})")


def file_chunks(path: Path) -> Iterator[bytes]:
    """A file's bytes in large pieces."""
    with path.open("rb") as handle:
        while chunk := handle.read(READ_BYTES):
            yield chunk


def file_records(path: Path, kind: str) -> Iterator[Record]:
    """The rows of a file, CSV or NDJSON by its extension."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return csv_records(path, kind)
    if suffix in (".ndjson", ".jsonl"):
        return ndjson_records(file_chunks(path))
    raise BadRequest(f"Cannot tell the format of {path.name!r}: name it .csv, .ndjson or .jsonl.")


def count_lines(path: Path) -> int:
    """How many lines a file has."""
    return max(1, sum(chunk.count(b"\n") for chunk in file_chunks(path)))


def batched(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    """Lists of up to size records."""
    while chunk := list(islice(records, size)):
        yield chunk


def add(total: SyncResult, part: SyncResult) -> SyncResult:
    """Two results as one."""
    counts = {
        k: getattr(total, k) + getattr(part, k)
        for k in ("created", "updated", "unchanged", "stale", "invalid")
    }
    return SyncResult(**counts, invalid_rows=total.invalid_rows + part.invalid_rows)


def import_file(
    engine: Engine, tenant: str, path: Path, kind: str, progress: Progress, chunk_rows: int = CHUNK_ROWS
) -> SyncResult:
    """Sync a file chunk by chunk, a transaction each; bad lines are reported, the rest lands."""
    with session_scope(engine) as session:
        found = tenants.get_tenant_by_name(session, tenant)
        if found is None or found.id is None:
            raise NotFound(f"No tenant named {tenant!r}.")
        tenant_id = found.id
    lines = count_lines(path)
    total = SyncResult(created=0, updated=0, unchanged=0, stale=0, invalid=0, invalid_rows=[])
    rows = 0
    for chunk in batched(file_records(path, kind), chunk_rows):
        with session_scope(engine) as session:
            total = add(total, SYNCS[kind](session, tenant_id, chunk, chunk_rows))
        rows += len(chunk)
        progress(min(1.0, chunk[-1][0] / lines), f"{rows} rows")
    return total
