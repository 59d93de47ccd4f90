"""Typed errors rendered as application/problem+json (RFC 9457) by one set of handlers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import psycopg
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("tailorwise")
# The database cannot be reached, dropped the connection, or cancelled a statement that ran too long.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
RETRY_AFTER_SECONDS = 2


class TailorwiseError(Exception):
    """Base error: a status, a short title and a human detail."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str, *, errors: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)


class BadRequest(TailorwiseError):
    """The request cannot be understood (bad JSON, bad parameter)."""

    status = 400
    title = "Bad request"


class Unauthorized(TailorwiseError):
    """No key, or a key the service does not know."""

    status = 401
    title = "Unauthorized"


class Forbidden(TailorwiseError):
    """The key is valid but its role may not do this."""

    status = 403
    title = "Forbidden"


class NotFound(TailorwiseError):
    """The resource does not exist for the caller's tenant."""

    status = 404
    title = "Not found"


class Conflict(TailorwiseError):
    """The request clashes with the current state."""

    status = 409
    title = "Conflict"


class PayloadTooLarge(TailorwiseError):
    """The body or batch exceeds the configured limit."""

    status = 413
    title = "Payload too large"


class UnsupportedMediaType(TailorwiseError):
    """The body's content type is not one the endpoint reads."""

    status = 415
    title = "Unsupported media type"


class Unprocessable(TailorwiseError):
    """The payload is well-formed but its content is invalid."""

    status = 422
    title = "Validation failed"


def field_error(field: str, message: str) -> dict[str, Any]:
    """One entry of a problem's `errors` list."""
    return {"field": field, "message": message}


def problem(status: int, title: str, detail: str, errors: Sequence[dict[str, Any]] = ()) -> JSONResponse:
    """A problem+json response; a 503 says when to retry."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = list(errors)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def database_failure(exc: BaseException) -> str:
    """A database error in one line: its class and the driver's first line, never SQL or parameters."""
    cause = getattr(exc, "orig", None) or exc
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {first[:200]}"


def unavailable(request: Request, exc: BaseException) -> JSONResponse:
    """A 503 with Retry-After for a database that is down or too slow, logged in one line."""
    route = getattr(request.scope.get("route"), "path", "")
    logger.warning("database unavailable on %s %s: %s", request.method, route, database_failure(exc))
    return problem(503, "Service unavailable", "The database is unavailable; retry shortly.")


def _location(loc: Sequence[Any]) -> str:
    """`("body", "events", 0, "weight")` -> `body.events[0].weight`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _validation_problem(exc: RequestValidationError) -> JSONResponse:
    """Malformed JSON is a 400; a wrong shape is a 422 naming each field."""
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(
            400,
            "Malformed JSON",
            "The request body is not valid JSON.",
            [field_error("body", str(errors[0].get("msg", "invalid JSON")))],
        )
    fields = [field_error(_location(e.get("loc", ())), str(e.get("msg", ""))) for e in errors]
    return problem(422, "Validation failed", f"{len(fields)} field(s) are invalid.", fields)


def _body_not_json(request: Request, exc: RequestValidationError) -> bool:
    """True when the whole body failed because it was not sent as JSON."""
    content_type = request.headers.get("content-type", "")
    body_failed = any(tuple(e.get("loc", ())) == ("body",) for e in exc.errors())
    return body_failed and "json" not in content_type


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the app can raise as problem+json."""

    @app.exception_handler(TailorwiseError)
    async def _typed(_request: Request, exc: TailorwiseError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _body_not_json(request, exc):
            return problem(415, "Unsupported media type", "Send the body as application/json.")
        return _validation_problem(exc)

    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, unavailable)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, _title(exc.status_code), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return problem(500, "Internal error", "An unexpected error occurred.")


def _title(status: int) -> str:
    """The standard reason phrase for a status code."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
