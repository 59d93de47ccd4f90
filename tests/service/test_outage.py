"""A database that is down or too slow is a 503 with Retry-After, logged in one line without SQL."""

from __future__ import annotations

import logging
import threading

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.config import Settings
from service.db import create_db_engine
from service.main import create_app

DOWN_URL = "postgresql+psycopg://postgres@127.0.0.1:9/nothing?connect_timeout=2"


def assert_unavailable(response, caplog: pytest.LogCaptureFixture) -> None:
    """A 503 problem with Retry-After, logged as one warning line holding no SQL."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].exc_info is None
    message = records[0].getMessage()
    assert "\n" not in message and "SELECT" not in message.upper() and "parameters" not in message


def test_database_down_is_503_with_retry_after(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(database_url=DOWN_URL, environment="test", model_reload_seconds=3600)
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and int(ready.headers["retry-after"]) > 0
        caplog.clear()
        response = client.get("/v1/customers/c-1", headers={"Authorization": "Bearer tw_x_y"})
        assert_unavailable(response, caplog)


@pytest.mark.postgres
def test_statement_timeout_is_503(db, make_key, caplog: pytest.LogCaptureFixture) -> None:
    if db.backend != "postgres":
        pytest.skip("statement timeouts are PostgreSQL's")
    headers = make_key("crm")
    url = sa.make_url(db.url)
    options = url.query["options"] + " -cstatement_timeout=200"
    slow_url = url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    settings = Settings(database_url=slow_url, environment="test", key_cache_seconds=0)
    engine = create_db_engine(settings)
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with db.engine.begin() as connection:
            connection.execute(sa.text("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        with TestClient(create_app(settings, engine=engine)) as client:
            caplog.clear()
            response = client.get("/v1/customers", headers=headers)
    finally:
        release.set()
        holder.join()
        engine.dispose()
    assert_unavailable(response, caplog)
