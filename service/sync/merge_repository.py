"""The customer merge's statements on PostgreSQL: staging, a part's upsert sent ahead, preferences."""

from __future__ import annotations

import select
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from service.bulk.lww import MergeCounts

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
# Parts merged while the batch is read sit after a savepoint: a batch that turns out not to be in key
# order goes back to it and is merged in one sorted statement instead.
SAVEPOINT = "SAVEPOINT sync_parts"
RESTART = (
    "ROLLBACK TO SAVEPOINT sync_parts; DELETE FROM sync_customer_rows; DELETE FROM sync_customer_applied"
)
DROP_LOSERS = (
    "DELETE FROM sync_customer_rows s USING unnest(%(lines)s::integer[]) AS l(line) WHERE s.line = l.line"
)
# The customers' feed columns take their defaults on insert and on update (this transaction's id and
# the feed sequence's next number), so the upsert itself moves every written customer to the feed's
# head. With preferences among the rows, the written customers are kept to replace theirs.
UPSERT = """
WITH changed AS (
    INSERT INTO customers AS c (tenant_id, external_id, traits, consent_personalization,
        consent_profiling, source_updated_at, created_at, updated_at)
    SELECT %(tenant_id)s, external_id, traits, consent_personalization, consent_profiling,
        source_updated_at, %(now)s, %(now)s
    FROM sync_customer_rows WHERE line >= %(first)s {order}
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
    RETURNING {returning}
){kept}
SELECT count(*) FILTER (WHERE created), count(*) FROM changed
"""
KEPT = """, applied AS (
    INSERT INTO sync_customer_applied SELECT * FROM changed
)"""
# Rows are upserted in key order, so that concurrent batches lock shared customers in the same order;
# rows that arrived sorted need no sort. Without preferences to replace, only the counts are returned
# (the written customers' ids and keys cost a tenth of the statement).
UPSERTS = {
    (in_order, keep): UPSERT.format(
        order="" if in_order else 'ORDER BY external_id COLLATE "C"',
        returning="c.id, c.external_id, c.xmax = 0 AS created" if keep else "c.xmax = 0 AS created",
        kept=KEPT if keep else "",
    )
    for in_order in (True, False)
    for keep in (True, False)
}
PREFERENCES_CHANGED = """
WITH changed AS (
    UPDATE customers u SET updated_at = %(now)s, feed_txid = DEFAULT, feed_seq = DEFAULT
    WHERE u.tenant_id = %(tenant_id)s AND u.id IN (
        SELECT c.id
        FROM sync_customer_rows s
        JOIN customers c ON c.tenant_id = %(tenant_id)s AND c.external_id = s.external_id
        WHERE c.source_updated_at = s.source_updated_at AND s.preferences IS NOT NULL
            AND NOT EXISTS (SELECT FROM sync_customer_applied a WHERE a.external_id = s.external_id)
            AND s.preferences IS DISTINCT FROM COALESCE((
                SELECT jsonb_agg(jsonb_build_object(
                    'attribute', p.attribute, 'value', p.value, 'weight', p.weight, 'source', p.source)
                    ORDER BY p.attribute COLLATE "C", p.value COLLATE "C")
                FROM preferences p WHERE p.tenant_id = %(tenant_id)s AND p.customer_id = c.id), '[]'::jsonb)
    )
    RETURNING u.id, u.external_id, false
), applied AS (
    INSERT INTO sync_customer_applied SELECT * FROM changed
)
SELECT count(*) FROM changed
"""
SAME_VERSION = """
SELECT count(*) FROM sync_customer_rows s
JOIN customers c ON c.tenant_id = %(tenant_id)s AND c.external_id = s.external_id
WHERE c.source_updated_at = s.source_updated_at
"""
REPLACE_PREFERENCES = (
    """
    DELETE FROM preferences p USING sync_customer_applied a, sync_customer_rows s
    WHERE p.tenant_id = %(tenant_id)s AND p.customer_id = a.id
        AND s.external_id = a.external_id AND s.preferences IS NOT NULL
    """,
    """
    INSERT INTO preferences (tenant_id, customer_id, attribute, value, weight, source, updated_at)
    SELECT %(tenant_id)s, a.id, e.attribute, e.value, e.weight, e.source, %(now)s
    FROM sync_customer_applied a
    JOIN sync_customer_rows s ON s.external_id = a.external_id
    CROSS JOIN LATERAL jsonb_to_recordset(s.preferences)
        AS e(attribute text, value text, weight double precision, source text)
    """,
)


@dataclass(frozen=True)
class Upsert:
    """One upsert of staged rows: those from line `first` on, their losers dropped first."""

    first: int
    losers: list[int]
    in_order: bool
    keep: bool


class Merge:
    """The statements of one batch's merge, on the driver's connection inside the session's transaction.

    Rows stream into the staging table through a COPY left open between writes; an upsert can be sent
    ahead in pipeline mode, with a flush request, so its result arrives as soon as the server is done
    and the caller can see that without waiting. The connection does one of the two at a time.
    """

    def __init__(self, connection: Any, tenant_id: int, now: datetime) -> None:
        self.connection = connection
        self.params: dict[str, Any] = {"tenant_id": tenant_id, "now": now}
        self.cursor = connection.cursor()
        self.cursor.execute(STAGE)
        self._copying = ExitStack()
        self._copy: Any = None
        self._pipeline = ExitStack()
        self._sent: Any = None

    def close(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """End a COPY or a pipeline still open (their errors kept out of one raised already)."""
        try:
            self._copying.__exit__(kind, error, trace)
            self._pipeline.__exit__(kind, error, trace)
        finally:
            if self._sent is not None:
                self._sent.close()
            self.cursor.close()

    def write(self, lines: list[str]) -> None:
        """Stream rows, each a line in COPY text format, into the staging table (the COPY opens first)."""
        if not lines:
            return
        if self._copy is None:
            self._copy = self._copying.enter_context(self.cursor.copy(COPY))
        self._copy.write("".join(lines))

    def end_copy(self) -> None:
        """End the COPY, if one is open: its rows are then staged."""
        self._copy = None
        self._copying.close()

    def upsert(self, part: Upsert) -> tuple[int, int]:
        """Upsert staged rows now: how many customers were created, and written in all."""
        self.end_copy()
        self._execute(self.cursor, part)
        created, written = self.cursor.fetchone()
        return int(created), int(written)

    def send(self, part: Upsert, first_part: bool) -> None:
        """Send an upsert without waiting: the server runs it while the caller reads on."""
        self.end_copy()
        self._pipeline.enter_context(self.connection.pipeline())
        if first_part:
            self.cursor.execute(SAVEPOINT)
        self._sent = self.connection.cursor()
        self._execute(self._sent, part)
        self.connection.pgconn.send_flush_request()
        self.connection.pgconn.flush()

    def _execute(self, cursor: Any, part: Upsert) -> None:
        """Drop the part's losers, then upsert its rows on `cursor` (whose result holds the counts)."""
        if part.losers:
            self.cursor.execute(DROP_LOSERS, {"lines": part.losers})
        cursor.execute(UPSERTS[part.in_order, part.keep], {**self.params, "first": part.first})

    def busy(self) -> bool:
        """Whether an upsert sent ahead is still running (its result has not begun to arrive)."""
        if self._sent is None:
            return False
        return not select.select([self.connection.fileno()], [], [], 0)[0]

    def collect(self) -> tuple[int, int]:
        """Wait for the upsert sent ahead, if any: how many customers it created, and wrote in all."""
        if self._sent is None:
            return 0, 0
        self._pipeline.close()
        with self._sent as cursor:
            created, written = cursor.fetchone()
        self._sent = None
        return int(created), int(written)

    def restart(self) -> None:
        """Undo the parts merged ahead and empty the staging tables."""
        self.collect()
        self.end_copy()
        self.cursor.execute(RESTART)

    def finish(self, created: int, written: int, winners: int, with_preferences: bool) -> MergeCounts:
        """Write customers whose preferences alone changed, replace preferences, count the outcomes."""
        same = written
        if written < winners:
            if with_preferences:
                self.cursor.execute(PREFERENCES_CHANGED, self.params)
                written += int(self.cursor.fetchone()[0])
            self.cursor.execute(SAME_VERSION, self.params)
            same = int(self.cursor.fetchone()[0])
        if with_preferences:
            for statement in REPLACE_PREFERENCES:
                self.cursor.execute(statement, self.params)
        unchanged = same - written
        return MergeCounts(
            created=created,
            updated=written - created,
            unchanged=unchanged,
            stale=winners - written - unchanged,
        )
