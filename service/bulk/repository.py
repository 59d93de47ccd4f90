"""Writing bulk rows: the SQLite write lock taken early, IN lists cut to a safe size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from service.bulk.driver import driver_connection
from service.db import is_postgres

CHUNK = 5_000


def lock_for_writing(session: Session) -> None:
    """On SQLite, take the write lock now, so the rows read next cannot change before they are written."""
    if is_postgres(session):
        return
    connection = driver_connection(session)
    if not connection.in_transaction:
        connection.execute("BEGIN IMMEDIATE")


def chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    """Slices small enough for an IN list."""
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]
