"""GET /healthz (process up) and GET /readyz (database reachable, migrations at head)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.errors import problem
from service.migrate import current_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and its schema is at the code's head."""
    engine = request.app.state.engine
    head = request.app.state.migration_head
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        current = current_revision(engine)
    except sa.exc.SQLAlchemyError as exc:
        return _not_ready(f"database unreachable: {type(exc).__name__}")
    if current != head:
        return _not_ready(f"database at migration {current}, code at {head}: run `tailorwise migrate`")
    return JSONResponse({"status": "ready", "migration": current})


def _not_ready(detail: str) -> JSONResponse:
    """A 503 problem saying why, with Retry-After."""
    return problem(503, "Not ready", detail)
