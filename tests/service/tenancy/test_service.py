"""Tenants and keys: unique names, keys stored only as hashes, roles checked."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.db import session_scope, utcnow
from service.errors import Conflict, NotFound, Unprocessable
from service.tenancy import repository
from service.tenancy import service as tenancy
from service.tenancy.models import ApiKey


def test_a_tenant_name_is_unique_and_not_empty(db) -> None:
    with session_scope(db.engine) as session:
        tenancy.create_tenant(session, "acme")
    with session_scope(db.engine) as session, pytest.raises(Conflict):
        tenancy.create_tenant(session, " acme ")
    with session_scope(db.engine) as session, pytest.raises(Unprocessable):
        tenancy.create_tenant(session, "   ")


def test_a_key_is_stored_as_its_hash_and_found_by_it(db) -> None:
    with session_scope(db.engine) as session:
        tenancy.create_tenant(session, "acme")
        issued = tenancy.issue_key(session, "acme", "crm")
    with session_scope(db.engine) as session:
        rows = list(session.exec(select(ApiKey)).all())
        assert [r.key_hash for r in rows] == [tenancy.hash_key(issued.key)]
        assert issued.key not in {r.prefix for r in rows} and rows[0].prefix == issued.key[:10]
        found = repository.find_active_key(session, tenancy.hash_key(issued.key), utcnow())
        assert found is not None and found.role == "crm" and found.tenant_id == issued.tenant_id
        assert repository.find_active_key(session, tenancy.hash_key(issued.key + "x"), utcnow()) is None


def test_a_key_needs_a_known_tenant_and_role(db) -> None:
    with session_scope(db.engine) as session:
        tenancy.create_tenant(session, "acme")
    with session_scope(db.engine) as session, pytest.raises(NotFound):
        tenancy.issue_key(session, "nobody", "crm")
    with session_scope(db.engine) as session, pytest.raises(Unprocessable, match="Unknown role"):
        tenancy.issue_key(session, "acme", "owner")
