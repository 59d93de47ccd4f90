"""A failed run's error as the API shows it and as the log keeps it: the failure named, never data."""

from __future__ import annotations

import logging
import traceback

import sqlalchemy as sa

from service.errors import TailorwiseError


def public_error(exc: BaseException) -> str:
    """The failure's kind and a fixed description (the service's own errors: their message for callers)."""
    if isinstance(exc, TailorwiseError):
        return f"{type(exc).__name__}: {exc.detail}"
    if isinstance(exc, sa.exc.DBAPIError):
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "sqlite_errorname", None)
        cause = type(exc.orig).__name__ if exc.orig is not None else "unknown"
        state = f", {code}" if code else ""
        return f"{type(exc).__name__}: a database statement failed ({cause}{state})"
    return f"{type(exc).__name__}: the run's job failed; the server log has the details"


def log_failure(logger: logging.Logger, run_id: int, exc: BaseException) -> None:
    """Log where a run failed: the statement without its parameters, the frames without messages."""
    frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    statement = exc.statement if isinstance(exc, sa.exc.StatementError) else None
    logger.error(
        "run %s failed: %s%s\n%s",
        run_id,
        public_error(exc),
        f"; statement: {statement}" if statement else "",
        frames,
    )
