"""Citus-ready schema: tenant-owned tables key, constrain and join on tenant_id; identities are BIGINT.

Citus distributes a table by one column and enforces a primary key, unique constraint, upsert target
or foreign key between distributed tables only when it includes that column. The walk below finds every
one that does not, so a table added without tenant_id in its keys fails here.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from service.models import metadata

# Small tables read across tenants (a key, or a dashboard session, is looked up by its hash before its
# tenant is known): reference tables in Citus, copied to every node.
REFERENCE_TABLES = {"tenants", "api_keys", "dashboard_sessions"}


def _tenant_owned() -> list[sa.Table]:
    return [t for t in metadata.sorted_tables if "tenant_id" in t.c and t.name not in REFERENCE_TABLES]


def _uniques(table: sa.Table) -> list[tuple[str, ...]]:
    """Column names of every unique constraint and unique index (upsert targets are among them)."""
    constraints = [u for u in table.constraints if isinstance(u, sa.UniqueConstraint)]
    indexes = [i for i in table.indexes if i.unique]
    return [tuple(c.name for c in u.columns) for u in [*constraints, *indexes]]


def test_every_tenant_owned_key_and_constraint_includes_tenant_id() -> None:
    """Primary keys start with tenant_id; references to tenant-owned rows match tenant_id to tenant_id."""
    pks = {t.name for t in _tenant_owned() if next(iter(t.primary_key.columns)).name != "tenant_id"}
    fks = {
        (t.name, tuple(constraint.column_keys))
        for t in _tenant_owned()
        for constraint in t.foreign_key_constraints
        if constraint.referred_table.name not in REFERENCE_TABLES
        and ("tenant_id", "tenant_id") not in {(e.parent.name, e.column.name) for e in constraint.elements}
    }
    uniques = {(t.name, cols) for t in _tenant_owned() for cols in _uniques(t) if "tenant_id" not in cols}
    assert pks == set()
    assert fks == set()
    assert uniques == set()


def test_tenant_owned_tables_all_carry_tenant_id() -> None:
    assert {t.name for t in metadata.sorted_tables if "tenant_id" not in t.c} == {"tenants"}


def test_identities_are_bigint_on_postgresql() -> None:
    dialect = postgresql.dialect()
    narrow = [
        f"{t.name}.{c.name}"
        for t in metadata.sorted_tables
        for c in t.columns
        if (c.primary_key or c.foreign_keys or c.name.endswith("_id"))
        and isinstance(c.type, sa.Integer)
        and c.type.compile(dialect=dialect) != "BIGINT"
    ]
    assert narrow == []
