"""Dashboard sessions: unguessable ids, expiry, sign-out, CSRF comparison, and keys kept out of logs."""

from __future__ import annotations

import logging
import re
import time

import pytest
from fastapi.testclient import TestClient

from service.auth import Caller
from service.dashboard.sessions import SessionStore, same_token
from service.tenancy.models import Role

CALLER = Caller(key_id=1, tenant_id=7, role=Role.marketer)


def test_a_session_keeps_the_tenant_and_role_until_it_expires() -> None:
    store = SessionStore(ttl_seconds=0.2)
    session_id, opened = store.open(CALLER)
    other_id, other = store.open(CALLER)
    assert len(session_id) >= 40 and session_id != other_id and opened.csrf != other.csrf
    found = store.get(session_id)
    assert found is not None and found.caller.tenant_id == 7 and found.caller.role is Role.marketer
    store.close(other_id)
    assert store.get(other_id) is None and store.get(None) is None and store.get("guess") is None
    time.sleep(0.25)
    assert store.get(session_id) is None


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
