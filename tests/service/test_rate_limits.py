"""Per-key rate limits: a token bucket per key and role; 429 problem+json with Retry-After past it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service import rate_limits
from service.main import create_app
from service.rate_limits import RateLimited, RateLimiter


def test_past_its_role_limit_a_key_gets_429_with_retry_after(db, settings, make_key) -> None:
    limited = settings.model_copy(update={"rate_limits": {"crm": 1.0}, "rate_limit_burst_seconds": 2.0})
    crm, other_crm, marketer = make_key("crm"), make_key("crm"), make_key("marketer")
    with TestClient(create_app(limited, engine=db.engine)) as client:
        assert [client.get("/v1/customers", headers=crm).status_code for _ in range(2)] == [200, 200]
        refused = client.get("/v1/customers", headers=crm)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "1" and refused.json()["status"] == 429
        assert refused.headers["x-request-id"]
        assert client.get("/v1/customers", headers=other_crm).status_code == 200
        assert client.get("/v1/audit", headers=marketer).status_code == 200  # no limit set for the role


def test_a_bucket_refills_at_its_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(rate_limits.time, "monotonic", lambda: now[0])
    limiter = RateLimiter({"crm": 2.0, "storefront": 0.0}, burst_seconds=1.5)
    for _ in range(3):
        limiter.take(1, "crm")
    with pytest.raises(RateLimited) as refused:
        limiter.take(1, "crm")
    assert refused.value.retry_after == 1
    now[0] += 0.5
    limiter.take(1, "crm")
    with pytest.raises(RateLimited):
        limiter.take(1, "crm")
    now[0] += 100
    for _ in range(3):
        limiter.take(1, "crm")
    for _ in range(1000):
        limiter.take(2, "storefront")
    slow = RateLimiter({"admin": 0.1}, burst_seconds=10)
    slow.take(3, "admin")
    with pytest.raises(RateLimited) as waited:
        slow.take(3, "admin")
    assert waited.value.retry_after == 10
