"""PostgreSQL notifies serving workers of changes to what a treatment decision reads

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 00:00:00.000000

Statement-level triggers send, on the channel `tailorwise_serving`, `s <tenant>` when a tenant's
touchpoints, treatment, relationship or tailoring settings, attributes, attribute results (the
decisions in force) or customer values change, and `c <tenant> <external_id>` for each customer whose
stated engagement, observed engagement or stated relationship changed (`s <tenant>` instead when one
statement changes more than 100 customers). Customers, events and preferences already notify
(migration 0008).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOTIFY_TENANTS = """
CREATE FUNCTION tailorwise_treatment_inputs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tailorwise_serving', 's ' || tenant_id)
    FROM (SELECT DISTINCT tenant_id FROM changed) t;
    RETURN NULL;
END $$
"""
# The external ids of the customers named are looked up one by one (a join could scan all customers).
_NOTIFY_CUSTOMERS = """
CREATE FUNCTION tailorwise_treatment_customers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(DISTINCT customer_id) FROM changed) > 100 THEN
        PERFORM pg_notify('tailorwise_serving', 's ' || tenant_id)
        FROM (SELECT DISTINCT tenant_id FROM changed) t;
    ELSE
        PERFORM pg_notify('tailorwise_serving', 'c ' || tenant_id || ' ' || external_id)
        FROM (
            SELECT d.tenant_id,
                (SELECT c.external_id FROM customers c WHERE c.id = d.customer_id) AS external_id
            FROM (SELECT DISTINCT tenant_id, customer_id FROM changed) d
        ) k WHERE external_id IS NOT NULL;
    END IF;
    RETURN NULL;
END $$
"""
TENANT_TABLES = (
    "touchpoints",
    "treatment_settings",
    "relationship_settings",
    "tailoring_settings",
    "attributes",
    "attribute_results",
    "customer_values",
)
CUSTOMER_TABLES = ("engagement_preferences", "engagement_observations", "relationship_preferences")
FUNCTIONS = {
    **{table: "tailorwise_treatment_inputs_changed" for table in TENANT_TABLES},
    **{table: "tailorwise_treatment_customers_changed" for table in CUSTOMER_TABLES},
}
# The transition table each event of a statement brings: new rows, or the deleted ones.
EVENTS = {"insert": "NEW", "update": "NEW", "delete": "OLD"}


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_NOTIFY_TENANTS)
    op.execute(_NOTIFY_CUSTOMERS)
    for table, function in FUNCTIONS.items():
        for event, rows in EVENTS.items():
            op.execute(
                f"CREATE TRIGGER tailorwise_treatment_{event} AFTER {event.upper()} ON {table}"
                f" REFERENCING {rows} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FUNCTIONS:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER tailorwise_treatment_{event} ON {table}")
    for function in sorted(set(FUNCTIONS.values())):
        op.execute(f"DROP FUNCTION {function}()")
