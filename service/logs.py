"""Logs: one JSON object a line (or plain text in development), with a request id on every request.

Each request's access line names the route template (never the raw path, which holds customer ids),
the method, status, duration and tenant; no query string, header, body or SQL parameter is logged.
uvicorn's own access log is off (it logs raw paths): RequestLog writes the one line per request.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = b"x-request-id"
# Where the auth dependency leaves the caller's tenant for the access line.
TENANT_SCOPE_KEY = "tailorwise.tenant"
# The request ids taken from clients: short, and nothing that could forge a log line.
_SAFE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
# The fields of an access line, in order; a record carries them as attributes.
ACCESS_FIELDS = ("method", "route", "status", "duration_ms", "tenant_id")
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
access_logger = logging.getLogger("tailorwise.access")


class LineFormatter(logging.Formatter):
    """A record as one JSON object (or one `key=value` text line) with the request id, if any."""

    def __init__(self, json_lines: bool) -> None:
        super().__init__()
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        """One line for one record; a traceback goes inside it (JSON) or after it (text)."""
        fields: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid is not None:
            fields["request_id"] = rid
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                fields[name] = value
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        if self.json_lines:
            return orjson.dumps(fields).decode()
        extra = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("time", "level", "logger"))
        return f"{fields['time']} {fields['level']:<7} {fields['logger']} {extra}"


def logging_config(json_lines: bool, level: str = "info", stream: IO[str] | None = None) -> dict[str, Any]:
    """A dictConfig sending the app's and uvicorn's loggers to one handler on `stream` (stderr).

    uvicorn's access logger gets no handler: its lines hold raw paths (customer ids).
    """
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": LineFormatter, "json_lines": json_lines}},
        "handlers": {
            "line": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "stream": stream or "ext://sys.stderr",
            }
        },
        "loggers": {
            "tailorwise": {"handlers": ["line"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["line"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }


def _client_request_id(scope: Scope) -> str | None:
    """The client's X-Request-ID, if it sent a well-formed one."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value.decode() if _SAFE_ID.fullmatch(value) else None
    return None


class AccessLines:
    """Access lines written without the logging machinery, a batch per turn of the event loop.

    A LogRecord, its caller lookup and a flush per request cost a bare endpoint a fifth of its
    throughput; here a line is one dict dumped by orjson, and the lines of one turn of the loop leave
    in one write to the stream of the `tailorwise` logger's handler (stderr), in that handler's format.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []

    def add(self, fields: dict[str, Any]) -> None:
        """Queue one access line; the first of a turn schedules the write."""
        if not access_logger.isEnabledFor(logging.INFO):
            return
        handler = _line_handler()
        if handler is None or not getattr(handler.formatter, "json_lines", False):
            access_logger.info("request", extra=fields)
            return
        if not self._lines:
            asyncio.get_running_loop().call_soon(self.flush)
        fields = {
            "time": _now(),
            "level": "info",
            "logger": access_logger.name,
            "message": "request",
            **fields,
        }
        self._lines.append(orjson.dumps(fields).decode())

    def flush(self) -> None:
        """Write the queued lines in one call."""
        if not self._lines:
            return
        handler = _line_handler()
        text = "\n".join(self._lines) + "\n"
        self._lines.clear()
        if handler is not None:
            handler.acquire()
            try:
                handler.stream.write(text)
                handler.flush()
            finally:
                handler.release()


def _line_handler() -> logging.StreamHandler[Any] | None:
    """The stream handler of the `tailorwise` logger, where access lines go."""
    for handler in logging.getLogger("tailorwise").handlers:
        if isinstance(handler, logging.StreamHandler) and isinstance(handler.formatter, LineFormatter):
            return handler
    return None


def _now() -> str:
    """The current UTC time to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RequestLog:
    """ASGI middleware: take or make the request id, echo it in `X-Request-ID`, log one access line."""

    def __init__(self, app: ASGIApp, access_log: bool) -> None:
        self.app = app
        self.access_log = access_log
        self.lines = AccessLines()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its id set; log it when done (if the access log is on)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _client_request_id(scope) or os.urandom(8).hex()
        header = (REQUEST_ID_HEADER, rid.encode())
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
            if self.access_log:
                route = scope.get("route")
                fields = {
                    "request_id": rid,
                    "method": scope["method"],
                    "route": getattr(route, "path", None) or "unmatched",
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                }
                tenant = scope.get(TENANT_SCOPE_KEY)
                if tenant is not None:
                    fields["tenant_id"] = tenant
                self.lines.add(fields)
