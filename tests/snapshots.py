"""Database contents kept after a costly setup (a trained shop), restored for later tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from service.config import Settings
from service.models import metadata

T = TypeVar("T")

# This schema's sequences with their state, as setval takes it back.
_SEQUENCES = """SELECT sequencename, COALESCE(last_value, 1), last_value IS NOT NULL FROM pg_sequences
    WHERE schemaname = current_schema()"""


@dataclass(frozen=True)
class Snapshot:
    """Every table's rows (PostgreSQL: binary COPY; SQLite: an in-memory copy) and the id sequences."""

    tables: dict[str, bytes]
    sequences: list[tuple[str, int, bool]]
    sqlite: sqlite3.Connection | None = None

    def close(self) -> None:
        """Let go of the SQLite copy (a snapshot kept for the process needs no closing)."""
        if self.sqlite is not None:
            self.sqlite.close()


def _sqlite_path(db: Any) -> str:
    """The file of an SQLite test database."""
    return str(sa.make_url(db.url).database)


def take(db: Any) -> Snapshot:
    """Keep what the test database holds now."""
    if db.backend == "sqlite":
        kept = sqlite3.connect(":memory:", check_same_thread=False)
        with closing(sqlite3.connect(_sqlite_path(db))) as source:
            source.backup(kept)
        return Snapshot({}, [], kept)
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        tables = {}
        for table in metadata.sorted_tables:
            with cursor.copy(f'COPY "{table.name}" TO STDOUT (FORMAT binary)') as copy:
                tables[table.name] = b"".join(bytes(block) for block in copy)
        sequences = [tuple(row) for row in cursor.execute(_SEQUENCES).fetchall()]
        connection.commit()
    finally:
        connection.close()
    return Snapshot(tables, sequences)  # type: ignore[arg-type]


def restore(db: Any, snapshot: Snapshot) -> None:
    """Write a snapshot into the test's empty database, triggers and notifications off, as it was taken."""
    if db.backend == "sqlite":
        assert snapshot.sqlite is not None, "a PostgreSQL snapshot restored into SQLite"
        with closing(sqlite3.connect(_sqlite_path(db))) as target:
            snapshot.sqlite.backup(target)
        return
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SET LOCAL session_replication_role = replica")
        for table in metadata.sorted_tables:
            with cursor.copy(f'COPY "{table.name}" FROM STDIN (FORMAT binary)') as copy:
                copy.write(snapshot.tables[table.name])
        for name, value, called in snapshot.sequences:
            cursor.execute("SELECT setval(%s::regclass, %s, %s)", (f'"{name}"', value, called))
        connection.commit()
    finally:
        connection.close()


def _assert_empty(db: Any) -> None:
    """A snapshot is built from, and restored into, a database with no tenant yet."""
    with db.engine.connect() as connection:
        tenants = connection.exec_driver_sql("SELECT count(*) FROM tenants").scalar()
    assert tenants == 0, "a snapshot is built and restored only where no tenant exists yet"


# What each setup built in this test process, by its name, backend and settings, with the database after it.
_built: dict[tuple[str, str, str], tuple[Snapshot, Any]] = {}


def built_once(name: str, db: Any, settings: Settings, build: Callable[[], T]) -> T:
    """What build returns: built by the first test of this process to ask, restored for later ones."""
    _assert_empty(db)
    key = (name, db.backend, settings.model_dump_json(exclude={"database_url"}))
    if key in _built:
        snapshot, value = _built[key]
        restore(db, snapshot)
        return value  # type: ignore[no-any-return]
    value = build()
    _built[key] = (take(db), value)
    return value
