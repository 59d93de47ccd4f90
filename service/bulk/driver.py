"""The driver's own connection under a session: psycopg for COPY, sqlite3 for locking."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.own_writes import note_write


def driver_connection(session: Session) -> Any:
    """The DB-API connection of the session's current transaction, to write with (noted as a write)."""
    note_write(session)
    connection = session.connection().connection.driver_connection
    if connection is None:
        raise RuntimeError("the session's connection is closed")
    return connection
