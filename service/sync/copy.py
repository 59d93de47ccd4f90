"""PostgreSQL fast path of the customer merge: COPY into a temporary table, then set-based SQL."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from types import TracebackType

import orjson
import sqlalchemy as sa
from sqlmodel import Session

from service.db import utcnow
from service.sync.driver import driver_connection
from service.sync.lww import MergeCounts
from service.sync.rows import CustomerRow

FLUSH_ROWS = 2_000
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

STAGE = (
    "DROP TABLE IF EXISTS pg_temp.sync_customer_rows, pg_temp.sync_customer_applied",
    """CREATE TEMPORARY TABLE sync_customer_rows (
        line integer NOT NULL, external_id text NOT NULL, traits jsonb NOT NULL,
        consent_personalization boolean NOT NULL, consent_profiling boolean NOT NULL,
        preferences jsonb, source_updated_at timestamptz NOT NULL
    ) ON COMMIT DROP""",
    """CREATE TEMPORARY TABLE sync_customer_applied (
        id bigint NOT NULL, external_id text NOT NULL, created boolean NOT NULL
    ) ON COMMIT DROP""",
)
COPY = "COPY sync_customer_rows FROM STDIN"
DROP_LOSERS = sa.text("DELETE FROM sync_customer_rows WHERE line = ANY(:lines)")
UPSERT = sa.text("""
WITH written AS (
    INSERT INTO customers AS c (tenant_id, external_id, traits, consent_personalization,
        consent_profiling, source_updated_at, created_at, updated_at)
    SELECT :tenant_id, external_id, traits, consent_personalization, consent_profiling,
        source_updated_at, :now, :now
    FROM sync_customer_rows ORDER BY external_id COLLATE "C"
    ON CONFLICT (tenant_id, external_id) DO UPDATE SET
        traits = excluded.traits,
        consent_personalization = excluded.consent_personalization,
        consent_profiling = excluded.consent_profiling,
        source_updated_at = excluded.source_updated_at,
        updated_at = excluded.updated_at
    WHERE c.source_updated_at IS NULL OR c.source_updated_at < excluded.source_updated_at
        OR (c.source_updated_at = excluded.source_updated_at
            AND (c.traits, c.consent_personalization, c.consent_profiling) IS DISTINCT FROM
                (excluded.traits, excluded.consent_personalization, excluded.consent_profiling))
    RETURNING c.id, c.external_id, c.xmax = 0
)
INSERT INTO sync_customer_applied SELECT * FROM written
""")
WRITTEN = sa.text("SELECT count(*) FILTER (WHERE created), count(*) FROM sync_customer_applied")
NOT_WRITTEN = """
    FROM sync_customer_rows s
    JOIN customers c ON c.tenant_id = :tenant_id AND c.external_id = s.external_id
    WHERE c.source_updated_at = s.source_updated_at
        AND NOT EXISTS (SELECT FROM sync_customer_applied a WHERE a.external_id = s.external_id)
"""
PREFERENCES_CHANGED = sa.text(f"""
WITH touched AS (
    UPDATE customers u SET updated_at = :now
    WHERE u.id IN (
        SELECT c.id {NOT_WRITTEN}
        AND s.preferences IS NOT NULL
        AND s.preferences IS DISTINCT FROM COALESCE((
            SELECT jsonb_agg(jsonb_build_object(
                'attribute', p.attribute, 'value', p.value, 'weight', p.weight, 'source', p.source)
                ORDER BY p.attribute COLLATE "C", p.value COLLATE "C")
            FROM preferences p WHERE p.tenant_id = :tenant_id AND p.customer_id = c.id), '[]'::jsonb)
    )
    RETURNING u.id, u.external_id, false
)
INSERT INTO sync_customer_applied SELECT * FROM touched
""")
UNCHANGED = sa.text(f"SELECT count(*) {NOT_WRITTEN}")
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
RECORD_CHANGES = (
    sa.text("""
    DELETE FROM customer_changes f USING sync_customer_applied a
    WHERE f.tenant_id = :tenant_id AND f.external_id = a.external_id
    """),
    sa.text("""
    INSERT INTO customer_changes (tenant_id, external_id, txid, deleted, changed_at)
    SELECT :tenant_id, external_id, pg_current_xact_id()::text::bigint, false, :now
    FROM sync_customer_applied
    """),
)


def copy_line(line: int, row: CustomerRow) -> str:
    """One row in COPY text format."""
    preferences = (
        "\\N"
        if row.preferences is None
        else orjson.dumps(
            [{"attribute": a, "value": v, "weight": w, "source": s} for a, v, w, s in row.preferences]
        )
        .decode()
        .replace("\\", "\\\\")
    )
    return (
        f"{line}\t{row.external_id.translate(_ESCAPES)}\t{row.traits_json.replace(chr(92), chr(92) * 2)}\t"
        f"{'t' if row.consent_personalization else 'f'}\t{'t' if row.consent_profiling else 'f'}\t"
        f"{preferences}\t{row.source_updated_at.isoformat()}\n"
    )


class CustomerCopy:
    """Customer rows streamed into a temporary table while the body arrives, merged in a few statements."""

    def __init__(self, session: Session, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.staged = 0
        self.with_preferences = False
        self._buffer: list[str] = []
        self._stack = ExitStack()

    def __enter__(self) -> CustomerCopy:
        """Create the temporary tables and open the COPY."""
        connection = driver_connection(self.session)
        cursor = self._stack.enter_context(connection.cursor())
        for statement in STAGE:
            cursor.execute(statement)
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
        execute(UPSERT, params)
        created, written = execute(WRITTEN).one()
        unchanged = 0
        winners = self.staged - len(losers)
        if written < winners:
            if self.with_preferences:
                execute(PREFERENCES_CHANGED, params)
                written = execute(WRITTEN).one()[1]
            unchanged = execute(UNCHANGED, params).scalar_one()
        if self.with_preferences:
            for statement in REPLACE_PREFERENCES:
                execute(statement, params)
        for statement in RECORD_CHANGES:
            execute(statement, params)
        return MergeCounts(
            created=created,
            updated=written - created,
            unchanged=unchanged,
            stale=winners - written - unchanged,
        )
