"""PostgreSQL fast path of the customer merge: COPY into a temporary table, then set-based SQL."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from types import TracebackType

import orjson
import sqlalchemy as sa
from sqlmodel import Session

from service.bulk.copy_format import copy_text
from service.bulk.driver import driver_connection
from service.bulk.lww import MergeCounts
from service.db import utcnow
from service.sync.rows import CustomerRow

FLUSH_ROWS = 2_000
BACKSLASH = "\\"

# The staging tables live as long as the pooled connection (each commit empties them), all set up in
# one round trip; what an earlier batch of the same transaction left is deleted. Their notices
# ("already exists") are not sent; compiling the merge's plans costs more than running them.
STAGE = """SET LOCAL client_min_messages = warning; SET LOCAL jit = off;
CREATE TEMPORARY TABLE IF NOT EXISTS sync_customer_rows (
    line integer NOT NULL, external_id text NOT NULL, traits jsonb NOT NULL,
    consent_personalization boolean NOT NULL, consent_profiling boolean NOT NULL,
    preferences jsonb, source_updated_at timestamptz NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS sync_customer_applied (
    id bigint NOT NULL, external_id text NOT NULL, created boolean NOT NULL
) ON COMMIT DELETE ROWS;
DELETE FROM sync_customer_rows; DELETE FROM sync_customer_applied"""
COPY = "COPY sync_customer_rows FROM STDIN"
DROP_LOSERS = sa.text(
    "DELETE FROM sync_customer_rows s USING unnest(CAST(:lines AS integer[])) AS l(line)"
    " WHERE s.line = l.line"
)
# The customers' feed columns take their defaults on insert and on update (this transaction's id and
# the feed sequence's next number), so the upsert itself moves every written customer to the feed's
# head. With preferences in the batch, the written customers are kept to replace theirs.
UPSERT = """
WITH changed AS (
    INSERT INTO customers AS c (tenant_id, external_id, traits, consent_personalization,
        consent_profiling, source_updated_at, created_at, updated_at)
    SELECT :tenant_id, external_id, traits, consent_personalization, consent_profiling,
        source_updated_at, :now, :now
    FROM sync_customer_rows {order}
    ON CONFLICT (tenant_id, external_id) DO UPDATE SET
        traits = excluded.traits,
        consent_personalization = excluded.consent_personalization,
        consent_profiling = excluded.consent_profiling,
        source_updated_at = excluded.source_updated_at,
        updated_at = excluded.updated_at,
        feed_txid = excluded.feed_txid,
        feed_seq = excluded.feed_seq
    WHERE c.source_updated_at IS NULL OR c.source_updated_at < excluded.source_updated_at
        OR (c.source_updated_at = excluded.source_updated_at
            AND (c.traits, c.consent_personalization, c.consent_profiling) IS DISTINCT FROM
                (excluded.traits, excluded.consent_personalization, excluded.consent_profiling))
    RETURNING c.id, c.external_id, c.xmax = 0 AS created
){kept}
SELECT count(*) FILTER (WHERE created), count(*) FROM changed
"""
KEPT = """, applied AS (
    INSERT INTO sync_customer_applied SELECT * FROM changed
)"""
# Rows are upserted in key order, so that concurrent batches lock shared customers in the same order;
# a batch that arrived sorted needs no sort.
UPSERTS = {
    (in_order, keep): sa.text(
        UPSERT.format(order="" if in_order else 'ORDER BY external_id COLLATE "C"', kept=KEPT if keep else "")
    )
    for in_order in (True, False)
    for keep in (True, False)
}
PREFERENCES_CHANGED = sa.text("""
WITH changed AS (
    UPDATE customers u SET updated_at = :now, feed_txid = DEFAULT, feed_seq = DEFAULT
    WHERE u.tenant_id = :tenant_id AND u.id IN (
        SELECT c.id
        FROM sync_customer_rows s
        JOIN customers c ON c.tenant_id = :tenant_id AND c.external_id = s.external_id
        WHERE c.source_updated_at = s.source_updated_at AND s.preferences IS NOT NULL
            AND NOT EXISTS (SELECT FROM sync_customer_applied a WHERE a.external_id = s.external_id)
            AND s.preferences IS DISTINCT FROM COALESCE((
                SELECT jsonb_agg(jsonb_build_object(
                    'attribute', p.attribute, 'value', p.value, 'weight', p.weight, 'source', p.source)
                    ORDER BY p.attribute COLLATE "C", p.value COLLATE "C")
                FROM preferences p WHERE p.tenant_id = :tenant_id AND p.customer_id = c.id), '[]'::jsonb)
    )
    RETURNING u.id, u.external_id, false
), applied AS (
    INSERT INTO sync_customer_applied SELECT * FROM changed
)
SELECT count(*) FROM changed
""")
SAME_VERSION = sa.text("""
SELECT count(*) FROM sync_customer_rows s
JOIN customers c ON c.tenant_id = :tenant_id AND c.external_id = s.external_id
WHERE c.source_updated_at = s.source_updated_at
""")
REPLACE_PREFERENCES = (
    sa.text("""
    DELETE FROM preferences p USING sync_customer_applied a, sync_customer_rows s
    WHERE p.tenant_id = :tenant_id AND p.customer_id = a.id
        AND s.external_id = a.external_id AND s.preferences IS NOT NULL
    """),
    sa.text("""
    INSERT INTO preferences (tenant_id, customer_id, attribute, value, weight, source, updated_at)
    SELECT :tenant_id, a.id, e.attribute, e.value, e.weight, e.source, :now
    FROM sync_customer_applied a
    JOIN sync_customer_rows s ON s.external_id = a.external_id
    CROSS JOIN LATERAL jsonb_to_recordset(s.preferences)
        AS e(attribute text, value text, weight double precision, source text)
    """),
)


def copy_line(line: int, row: CustomerRow) -> str:
    """One row in COPY text format (JSON from orjson has no raw control characters, only backslashes)."""
    if row.preferences is None:
        preferences = "\\N"
    else:
        objects = [{"attribute": a, "value": v, "weight": w, "source": s} for a, v, w, s in row.preferences]
        preferences = orjson.dumps(objects).decode().replace("\\", "\\\\")
    return (
        f"{line}\t{copy_text(row.external_id)}\t{row.traits_json.replace(BACKSLASH, BACKSLASH * 2)}\t"
        f"{'t' if row.consent_personalization else 'f'}\t{'t' if row.consent_profiling else 'f'}\t"
        f"{preferences}\t{row.source_updated_at_text}\n"
    )


class CustomerCopy:
    """Customer rows streamed into a temporary table while the body arrives, merged in a few statements."""

    def __init__(self, session: Session, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.staged = 0
        self.with_preferences = False
        self.in_order = True
        self._last = ""
        self._buffer: list[str] = []
        self._stack = ExitStack()

    def __enter__(self) -> CustomerCopy:
        """Create the temporary tables and open the COPY."""
        connection = driver_connection(self.session)
        cursor = self._stack.enter_context(connection.cursor())
        cursor.execute(STAGE)
        self._copy = self._stack.enter_context(cursor.copy(COPY))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """End the COPY (aborted on error) if merge did not."""
        self._stack.__exit__(kind, error, trace)

    def add(self, line: int, row: CustomerRow) -> None:
        """Stage one row."""
        self._buffer.append(copy_line(line, row))
        self.staged += 1
        self.in_order = self.in_order and row.external_id >= self._last
        self._last = row.external_id
        self.with_preferences = self.with_preferences or row.preferences is not None
        if len(self._buffer) >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        """Send the buffered rows."""
        if self._buffer:
            self._copy.write("".join(self._buffer))
            self._buffer.clear()

    def merge(self, losers: Sequence[int]) -> MergeCounts:
        """Upsert the winners by last writer wins, replace their preferences, record the changes."""
        self._flush()
        self._stack.close()
        params = {"tenant_id": self.tenant_id, "now": utcnow()}
        execute = self.session.execute
        if losers:
            execute(DROP_LOSERS, {"lines": list(losers)})
        upsert = UPSERTS[self.in_order, self.with_preferences]
        created, written = execute(upsert, params).one()
        winners = self.staged - len(losers)
        same = written
        if written < winners:
            if self.with_preferences:
                written += execute(PREFERENCES_CHANGED, params).scalar_one()
            same = execute(SAME_VERSION, params).scalar_one()
        if self.with_preferences:
            for statement in REPLACE_PREFERENCES:
                execute(statement, params)
        unchanged = same - written
        return MergeCounts(
            created=created,
            updated=written - created,
            unchanged=unchanged,
            stale=winners - written - unchanged,
        )
