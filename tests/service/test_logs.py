"""Logs: JSON lines with the request id echoed, the route template, the tenant, and no customer data."""

from __future__ import annotations

import io
import logging
import logging.config
import sys
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.db import session_scope
from service.logs import LineFormatter, logging_config
from service.main import create_app
from service.tenancy import service as tenancy

LOGGERS = ("tailorwise", "uvicorn", "uvicorn.error", "uvicorn.access")
PROFILE = {"traits": {"segment": "trait-value-xyz"}, "consent": {"personalization": True, "profiling": True}}


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The app's and uvicorn's loggers writing JSON lines to a buffer; restored after."""
    saved = [(n, logging.getLogger(n)) for n in LOGGERS]
    state = [(lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled) for _, lg in saved]
    stream = io.StringIO()
    logging.config.dictConfig(logging_config(json_lines=True, level="debug", stream=stream))
    yield stream
    for logger, handlers, level, propagate, disabled in state:
        logger.handlers, logger.level, logger.propagate, logger.disabled = (
            handlers,
            level,
            propagate,
            disabled,
        )


def _records(stream: io.StringIO) -> list[dict]:
    """Every line written, each parsed as one JSON object."""
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_access_lines_are_json_with_request_id_route_and_tenant(log_lines, db, make_key) -> None:
    settings = Settings(database_url=db.url, environment="test", key_cache_seconds=0, access_log=True)
    headers = make_key("crm")
    key = headers["Authorization"].removeprefix("Bearer ")
    with TestClient(create_app(settings, engine=db.engine)) as client:
        client.put("/v1/customers/secret-customer-42", json=PROFILE, headers=headers)
        given = client.get(
            "/v1/customers/secret-customer-42", headers={**headers, "X-Request-ID": "req-abc.1"}
        )
        made = client.get("/v1/customers/secret-customer-42?x=1", headers=headers)
        forged = client.get("/v1/nowhere", headers={"X-Request-ID": 'a b"}{'})
        logging.getLogger("uvicorn.error").warning("from uvicorn")
    assert given.status_code == 200 and given.headers["x-request-id"] == "req-abc.1"
    assert len(made.headers["x-request-id"]) == 16 and made.headers["x-request-id"] != "req-abc.1"
    assert forged.status_code == 404 and len(forged.headers["x-request-id"]) == 16
    records = _records(log_lines)
    by_id = {r.get("request_id"): r for r in records if r["logger"] == "tailorwise.access"}
    line = by_id["req-abc.1"]
    assert line["route"] == "/v1/customers/{external_id}" and line["method"] == "GET"
    assert line["status"] == 200 and line["duration_ms"] > 0 and line["level"] == "info"
    with session_scope(db.engine) as session:
        assert line["tenant_id"] == tenancy.tenant_id_of(session, "acme")
    assert by_id[made.headers["x-request-id"]]["route"] == "/v1/customers/{external_id}"
    unmatched = by_id[forged.headers["x-request-id"]]
    assert unmatched["route"] == "unmatched" and unmatched["status"] == 404 and "tenant_id" not in unmatched
    assert any(r["logger"] == "uvicorn.error" and r["message"] == "from uvicorn" for r in records)
    text = log_lines.getvalue()
    for secret in ("secret-customer-42", "trait-value-xyz", key, "x=1"):
        assert secret not in text


def test_access_log_off_writes_no_request_lines(log_lines, db, make_key) -> None:
    settings = Settings(database_url=db.url, environment="test", key_cache_seconds=0, access_log=False)
    with TestClient(create_app(settings, engine=db.engine)) as client:
        response = client.get("/v1/customers", headers=make_key("crm"))
    assert response.status_code == 200 and response.headers["x-request-id"]
    assert not [r for r in _records(log_lines) if r["logger"] == "tailorwise.access"]


def test_text_lines_for_development_and_json_elsewhere() -> None:
    assert not Settings(environment="development").json_logs
    assert Settings(environment="production", database_url="postgresql://x/y").json_logs
    assert Settings(environment="development", log_format="json").json_logs
    assert not Settings(environment="test", log_format="text").json_logs
    record = logging.LogRecord("tailorwise.access", logging.INFO, __file__, 1, "request", None, None)
    record.route, record.status, record.request_id = "/v1/ping", 200, "r-1"
    text = LineFormatter(json_lines=False).format(record)
    assert "message=request" in text and "route=/v1/ping" in text and "request_id=r-1" in text
    assert not text.startswith("{")
    parsed = orjson.loads(LineFormatter(json_lines=True).format(record))
    assert parsed["route"] == "/v1/ping" and parsed["status"] == 200


def test_an_exception_stays_inside_its_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("tailorwise", logging.ERROR, __file__, 1, "failed", None, None)
        record.exc_info = sys.exc_info()
    line = LineFormatter(json_lines=True).format(record)
    assert "\n" not in line and "ValueError: boom" in orjson.loads(line)["exception"]
