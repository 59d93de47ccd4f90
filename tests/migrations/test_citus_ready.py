"""Citus-ready schema: tenant-owned tables key, constrain and join on tenant_id; identities are BIGINT.

Citus distributes a table by one column and enforces a primary key, unique constraint, upsert target
or foreign key between distributed tables only when it includes that column. The walk below finds every
one that does not; those left are listed (with the statements Citus needs) in docs/scale.md, and this
list must match what the walk finds, so a new one fails here and a fixed one must leave the list.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from service.models import metadata

# Small tables read across tenants (a key, or a dashboard session, is looked up by its hash before its
# tenant is known): reference tables in Citus, copied to every node.
REFERENCE_TABLES = {"tenants", "api_keys", "dashboard_sessions"}
# Primary keys on a surrogate id alone (documented exceptions; Citus needs (tenant_id, id)).
PRIMARY_KEYS_WITHOUT_TENANT = {
    "attribute_results",
    "attributes",
    "audit_log",
    "customer_changes",
    "customer_values",
    "customers",
    "engagement_observations",
    "engagement_preferences",
    "events",
    "experiment_exposures",
    "experiments",
    "items",
    "model_versions",
    "preferences",
    "relationship_preferences",
    "runs",
    "touchpoints",
}
# Foreign keys to a tenant-owned table's id without tenant_id, and unique constraints without it.
FOREIGN_KEYS_WITHOUT_TENANT = {
    ("attribute_results", "run_id"),
    ("customer_values", "customer_id"),
    ("customer_values", "run_id"),
    ("engagement_observations", "customer_id"),
    ("engagement_observations", "run_id"),
    ("engagement_preferences", "customer_id"),
    ("events", "customer_id"),
    ("experiment_exposures", "customer_id"),
    ("experiment_exposures", "experiment_id"),
    ("model_versions", "run_id"),
    ("preferences", "customer_id"),
    ("relationship_preferences", "customer_id"),
}
UNIQUES_WITHOUT_TENANT = {("preferences", ("customer_id", "attribute", "value"))}


def _tenant_owned() -> list[sa.Table]:
    return [t for t in metadata.sorted_tables if "tenant_id" in t.c and t.name not in REFERENCE_TABLES]


def _uniques(table: sa.Table) -> list[tuple[str, ...]]:
    """Column names of every unique constraint and unique index (upsert targets are among them)."""
    constraints = [u for u in table.constraints if isinstance(u, sa.UniqueConstraint)]
    indexes = [i for i in table.indexes if i.unique]
    return [tuple(c.name for c in u.columns) for u in [*constraints, *indexes]]


def test_every_tenant_owned_key_and_constraint_includes_tenant_id_or_is_listed() -> None:
    pks = {t.name for t in _tenant_owned() if "tenant_id" not in t.primary_key.columns}
    fks = {
        (t.name, fk.parent.name)
        for t in _tenant_owned()
        for constraint in t.foreign_key_constraints
        for fk in constraint.elements
        if constraint.referred_table.name not in REFERENCE_TABLES
        and "tenant_id" not in constraint.column_keys
    }
    uniques = {(t.name, cols) for t in _tenant_owned() for cols in _uniques(t) if "tenant_id" not in cols}
    assert pks == PRIMARY_KEYS_WITHOUT_TENANT
    assert fks == FOREIGN_KEYS_WITHOUT_TENANT
    assert uniques == UNIQUES_WITHOUT_TENANT


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
