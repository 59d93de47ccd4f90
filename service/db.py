"""Engine, column types shared by all tables, and the session that commits or rolls back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from weakref import WeakKeyDictionary

import anyio
import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine
from sqlmodel import Session, SQLModel

from service.config import Settings
from service.own_writes import forget, mark_before_commit

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonColumn = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; naive values are taken as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to naive values (SQLite keeps no zone)."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on, WAL journal and a busy timeout for every SQLite connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def ensure_sqlite_folder(database_url: str) -> None:
    """Create the folder of an SQLite database file, if that is what the URL names."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def create_db_engine(settings: Settings) -> Engine:
    """An engine for the configured database (SQL parameters never in its errors), SQLite made safe."""
    url = sa.make_url(settings.database_url)
    ensure_sqlite_folder(settings.database_url)
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(
        url, pool_size=settings.database_pool_size, max_overflow=20, pool_pre_ping=True, hide_parameters=True
    )


def is_postgres(session_or_engine: Session | Engine) -> bool:
    """Whether the session or engine talks to PostgreSQL."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def oldest_open_transaction(session: Session) -> int | None:
    """PostgreSQL: the oldest transaction id still running; every older one has ended (None: SQLite).

    Rows stamped with a smaller transaction id are final and visible to every read from now on.
    """
    if not is_postgres(session):
        return None
    query = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    return int(session.execute(sa.text(query)).scalar_one())


def read_snapshot(session: Session) -> str | None:
    """PostgreSQL: read the rest of this transaction through one snapshot, and give it as text (None: SQLite).

    Call it first in the transaction: every later statement sees exactly what the snapshot shows, so
    `pg_visible_in_snapshot` tells afterwards which rows the reads saw.
    """
    if not is_postgres(session):
        return None
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return str(session.execute(sa.text("SELECT pg_current_snapshot()::text")).scalar_one())


def snapshot_xmin(snapshot: str) -> int:
    """The oldest transaction a PostgreSQL snapshot's text shows running: every older one had ended."""
    return int(snapshot.split(":", 1)[0])


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        marked = None
        try:
            yield session
            marked = mark_before_commit(session, engine)
            session.commit()
        except BaseException:
            forget(marked)
            session.rollback()
            raise


def get_session(request: Request) -> Iterator[Session]:
    """Request-scoped session; committed before the response is sent."""
    with session_scope(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
T = TypeVar("T")
_limiters: WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = WeakKeyDictionary()


def _pool_limiter(engine: Engine) -> anyio.CapacityLimiter:
    """At most as many sessions at once as the pool keeps connections: no overflow connect per request."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        pool = engine.pool
        limiter = anyio.CapacityLimiter(pool.size() if isinstance(pool, sa.pool.QueuePool) else 10)
        _limiters[loop] = limiter
    return limiter


async def in_session_thread(engine: Engine, work: Callable[[Session], T]) -> T:
    """work(session) in a worker thread, in a session that commits or rolls back, pool-size at a time."""

    def run() -> T:
        with session_scope(engine) as session:
            return work(session)

    return await anyio.to_thread.run_sync(run, limiter=_pool_limiter(engine))


def upsert_insert(session: Session, table: Any) -> Any:
    """The dialect's INSERT construct, which knows ON CONFLICT (PostgreSQL and SQLite alike)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if is_postgres(session) else sqlite.insert)(table)
