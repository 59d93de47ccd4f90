"""tenant keys everywhere: primary keys, foreign keys and unique constraints start with tenant_id

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 08:30:00.000000

Every tenant-owned table becomes distributable by tenant_id (docs/scale.md). On PostgreSQL the primary
keys are swapped in place (each rebuilds its index: minutes on a table of hundreds of millions of rows).
SQLite numbers rows only through a single-column integer primary key, so there the surrogate ids stay
the rowid and the three tables other tables refer to get a unique (tenant_id, id) index to refer to;
the tables holding a foreign key or a natural primary key are copied into their new shape.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SURROGATE_KEYED = [
    "attributes",
    "attribute_results",
    "audit_log",
    "customer_changes",
    "customers",
    "events",
    "experiments",
    "items",
    "model_versions",
    "preferences",
    "runs",
    "touchpoints",
]
# Natural primary keys: the old columns, then the new ones.
NATURAL_KEYS = {
    "customer_values": (["customer_id"], ["tenant_id", "customer_id"]),
    "engagement_observations": (
        ["customer_id", "journey_phase"],
        ["tenant_id", "customer_id", "journey_phase"],
    ),
    "engagement_preferences": (
        ["customer_id", "journey_phase"],
        ["tenant_id", "customer_id", "journey_phase"],
    ),
    "relationship_preferences": (
        ["customer_id", "journey_phase"],
        ["tenant_id", "customer_id", "journey_phase"],
    ),
    "experiment_exposures": (["experiment_id", "customer_id"], ["tenant_id", "experiment_id", "customer_id"]),
}
# (table, column, parent): a reference to a tenant-owned parent's id.
REFERENCES = [
    ("attribute_results", "run_id", "runs"),
    ("customer_values", "customer_id", "customers"),
    ("customer_values", "run_id", "runs"),
    ("engagement_observations", "customer_id", "customers"),
    ("engagement_observations", "run_id", "runs"),
    ("engagement_preferences", "customer_id", "customers"),
    ("events", "customer_id", "customers"),
    ("experiment_exposures", "customer_id", "customers"),
    ("experiment_exposures", "experiment_id", "experiments"),
    ("model_versions", "run_id", "runs"),
    ("preferences", "customer_id", "customers"),
    ("relationship_preferences", "customer_id", "customers"),
]
PARENTS = ["customers", "experiments", "runs"]
OLD_UNIQUE = ("uq_preferences_customer_id_attribute_value", ["customer_id", "attribute", "value"])
NEW_UNIQUE = (
    "uq_preferences_tenant_id_customer_id_attribute_value",
    ["tenant_id", "customer_id", "attribute", "value"],
)


def old_fk(table: str, column: str, parent: str) -> str:
    """The name of a single-column reference."""
    return f"fk_{table}_{column}_{parent}"


def new_fk(table: str, column: str, parent: str) -> str:
    """The name of a (tenant_id, column) reference."""
    return f"fk_{table}_tenant_id_{column}_{parent}"


def parent_index(parent: str) -> str:
    """SQLite's unique (tenant_id, id) index of a parent table."""
    return f"uq_{parent}_tenant_id_id"


def upgrade() -> None:
    """Put tenant_id first in every tenant-owned key."""
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    """Back to keys on ids alone."""
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_postgresql()
    else:
        _downgrade_sqlite()


def _swap_primary_key(table: str, columns: list[str]) -> None:
    """PostgreSQL: replace a table's primary key in one statement."""
    op.execute(
        f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}, "
        f"ADD CONSTRAINT pk_{table} PRIMARY KEY ({', '.join(columns)})"
    )


def _upgrade_postgresql() -> None:
    """Drop the references, swap the keys, refer again through (tenant_id, id)."""
    for table, column, parent in REFERENCES:
        op.drop_constraint(old_fk(table, column, parent), table, type_="foreignkey")
    for table in SURROGATE_KEYED:
        _swap_primary_key(table, ["tenant_id", "id"])
    for table, (_old, new) in NATURAL_KEYS.items():
        _swap_primary_key(table, new)
    for table, column, parent in REFERENCES:
        op.create_foreign_key(
            new_fk(table, column, parent),
            table,
            parent,
            ["tenant_id", column],
            ["tenant_id", "id"],
            ondelete="CASCADE",
        )
    op.drop_constraint(OLD_UNIQUE[0], "preferences", type_="unique")
    op.create_unique_constraint(NEW_UNIQUE[0], "preferences", NEW_UNIQUE[1])
    op.create_index("ix_runs_id", "runs", ["id"])


def _downgrade_postgresql() -> None:
    """The reverse of the upgrade."""
    op.drop_index("ix_runs_id", table_name="runs")
    op.drop_constraint(NEW_UNIQUE[0], "preferences", type_="unique")
    op.create_unique_constraint(OLD_UNIQUE[0], "preferences", OLD_UNIQUE[1])
    for table, column, parent in REFERENCES:
        op.drop_constraint(new_fk(table, column, parent), table, type_="foreignkey")
    for table, (old, _new) in NATURAL_KEYS.items():
        _swap_primary_key(table, old)
    for table in SURROGATE_KEYED:
        _swap_primary_key(table, ["id"])
    for table, column, parent in REFERENCES:
        op.create_foreign_key(
            old_fk(table, column, parent), table, parent, [column], ["id"], ondelete="CASCADE"
        )


def _children() -> dict[str, list[tuple[str, str]]]:
    """Each referring table's (column, parent) references."""
    children: dict[str, list[tuple[str, str]]] = {}
    for table, column, parent in REFERENCES:
        children.setdefault(table, []).append((column, parent))
    return children


def _upgrade_sqlite() -> None:
    """Unique (tenant_id, id) indexes on the parents, then each referring table copied into its new shape."""
    for parent in PARENTS:
        op.create_index(parent_index(parent), parent, ["tenant_id", "id"], unique=True)
    op.create_index("ix_runs_id", "runs", ["id"])
    for table, references in _children().items():
        with op.batch_alter_table(table, recreate="always") as batch:
            for column, parent in references:
                batch.drop_constraint(old_fk(table, column, parent), type_="foreignkey")
                batch.create_foreign_key(
                    new_fk(table, column, parent),
                    parent,
                    ["tenant_id", column],
                    ["tenant_id", "id"],
                    ondelete="CASCADE",
                )
            if table in NATURAL_KEYS:
                batch.drop_constraint(f"pk_{table}", type_="primary")
                batch.create_primary_key(f"pk_{table}", NATURAL_KEYS[table][1])
            if table == "preferences":
                batch.drop_constraint(OLD_UNIQUE[0], type_="unique")
                batch.create_unique_constraint(NEW_UNIQUE[0], NEW_UNIQUE[1])


def _downgrade_sqlite() -> None:
    """The reverse of the upgrade."""
    for table, references in _children().items():
        with op.batch_alter_table(table, recreate="always") as batch:
            for column, parent in references:
                batch.drop_constraint(new_fk(table, column, parent), type_="foreignkey")
                batch.create_foreign_key(
                    old_fk(table, column, parent), parent, [column], ["id"], ondelete="CASCADE"
                )
            if table in NATURAL_KEYS:
                batch.drop_constraint(f"pk_{table}", type_="primary")
                batch.create_primary_key(f"pk_{table}", NATURAL_KEYS[table][0])
            if table == "preferences":
                batch.drop_constraint(NEW_UNIQUE[0], type_="unique")
                batch.create_unique_constraint(OLD_UNIQUE[0], OLD_UNIQUE[1])
    op.drop_index("ix_runs_id", table_name="runs")
    for parent in PARENTS:
        op.drop_index(parent_index(parent), table_name=parent)
