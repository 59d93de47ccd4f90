"""The tenant whose runs the runner and lease tests execute."""

from __future__ import annotations

import pytest

from service.db import session_scope
from service.tenancy import service as tenancy


@pytest.fixture
def acme(db) -> int:
    """The tenant whose runs these are."""
    with session_scope(db.engine) as session:
        return tenancy.create_tenant(session, "acme").id or 0
