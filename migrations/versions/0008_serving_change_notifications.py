"""PostgreSQL notifies serving workers of changes to what their per-request read fetches

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 00:00:00.000000

Statement-level triggers on customers, events, preferences and items send, on the channel
`tailorwise_serving`, `c <tenant> <external_id>` for each changed customer, `t <tenant>` instead when
one statement changes more than 100 customers, and `i <tenant>` for a changed catalog. PostgreSQL
delivers them at commit and merges repeats within a transaction.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What one statement changed, as (tenant_id, external_id) of customers, per trigger's table; the
# external ids of rows naming a customer are looked up one by one (a join could scan all customers).
_CUSTOMERS = "SELECT DISTINCT tenant_id, external_id FROM changed"
_ROWS_OF_CUSTOMERS = """SELECT d.tenant_id,
            (SELECT c.external_id FROM customers c WHERE c.id = d.customer_id) AS external_id
        FROM (SELECT DISTINCT tenant_id, customer_id FROM changed) d"""
_NOTIFY_CUSTOMERS = """
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(DISTINCT {key}) FROM changed) > 100 THEN
        PERFORM pg_notify('tailorwise_serving', 't ' || tenant_id)
        FROM (SELECT DISTINCT tenant_id FROM changed) t;
    ELSE
        PERFORM pg_notify('tailorwise_serving', 'c ' || tenant_id || ' ' || external_id)
        FROM ({changed}) k WHERE external_id IS NOT NULL;
    END IF;
    RETURN NULL;
END $$
"""
_NOTIFY_ITEMS = """
CREATE FUNCTION tailorwise_items_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tailorwise_serving', 'i ' || tenant_id)
    FROM (SELECT DISTINCT tenant_id FROM changed) t;
    RETURN NULL;
END $$
"""
# The function each table's triggers run.
FUNCTIONS = {
    "customers": "tailorwise_customers_changed",
    "events": "tailorwise_customer_rows_changed",
    "preferences": "tailorwise_customer_rows_changed",
    "items": "tailorwise_items_changed",
}
# The transition table each event of a statement brings: new rows, or the deleted ones.
EVENTS = {"insert": "NEW", "update": "NEW", "delete": "OLD"}


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, key, changed in (
        (FUNCTIONS["customers"], "external_id", _CUSTOMERS),
        (FUNCTIONS["events"], "customer_id", _ROWS_OF_CUSTOMERS),
    ):
        op.execute(_NOTIFY_CUSTOMERS.format(name=name, key=key, changed=changed))
    op.execute(_NOTIFY_ITEMS)
    for table, function in FUNCTIONS.items():
        for event, rows in EVENTS.items():
            op.execute(
                f"CREATE TRIGGER tailorwise_serving_{event} AFTER {event.upper()} ON {table}"
                f" REFERENCING {rows} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FUNCTIONS:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER tailorwise_serving_{event} ON {table}")
    for function in sorted(set(FUNCTIONS.values())):
        op.execute(f"DROP FUNCTION {function}()")
