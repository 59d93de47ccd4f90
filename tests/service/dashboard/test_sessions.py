"""Dashboard sessions: unguessable ids, expiry, sign-out, CSRF comparison, and keys kept out of logs."""

from __future__ import annotations

import logging
import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service.auth import Caller
from service.dashboard import sessions
from service.dashboard.sessions import same_token
from service.db import session_scope, utcnow
from service.tenancy import service as tenancy
from service.tenancy.models import ApiKey, Role
from tests.conftest import Database


def test_a_session_keeps_the_tenant_and_role_until_it_expires_or_its_key_is_revoked(db: Database) -> None:
    with session_scope(db.engine) as session:
        tenant_id = tenancy.create_tenant(session, "acme").id or 0
        issued = tenancy.issue_key(session, "acme", "marketer")
        key_id = session.exec(select(ApiKey).where(ApiKey.tenant_id == tenant_id)).one().id or 0
        caller = Caller(key_id, tenant_id, Role.marketer)
        first, second = sessions.open_session(session, caller), sessions.open_session(session, caller)
        short = sessions.open_session(session, caller, ttl_seconds=0.5)
    assert len(first) >= 40 and first != second and issued.key not in (first, second)
    with session_scope(db.engine) as session:
        found, other = sessions.find(session, first), sessions.find(session, second)
        assert found is not None and other is not None and found.csrf != other.csrf
        assert found.caller == caller
        sessions.close(session, second)
        assert sessions.find(session, second) is None and sessions.find(session, None) is None
        assert sessions.find(session, "guessed") is None and sessions.find(session, short) is not None
    time.sleep(0.6)
    with session_scope(db.engine) as session:
        assert sessions.find(session, short) is None
        session.get(ApiKey, key_id).revoked_at = utcnow()  # type: ignore[union-attr]
    with session_scope(db.engine) as session:
        assert sessions.find(session, first) is None


def test_csrf_tokens_compare_exactly() -> None:
    assert same_token("abc", "abc")
    assert not same_token("abd", "abc") and not same_token("", "abc") and not same_token(None, "abc")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_key_appears_in_no_page_url_or_log(
    client: TestClient, make_key, caplog: pytest.LogCaptureFixture
) -> None:
    key = make_key("marketer")["Authorization"].removeprefix("Bearer ")
    caplog.set_level(logging.DEBUG)
    form = client.get("/dashboard/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = client.post("/dashboard/sign-in", data={"csrf_token": token.group(1), "key": key})
    assert answer.status_code == 200 and str(answer.url).endswith("/dashboard")
    assert key not in answer.text and key not in str(answer.url)
    assert all(key not in r.getMessage() and key not in str(r.args) for r in caplog.records)
    cookie = answer.history[0].headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # plain http; https gets Secure
    secure = TestClient(client.app, base_url="https://testserver")
    form = secure.get("/dashboard/sign-in")
    assert "Secure" in form.headers["set-cookie"]
