"""Engine and sessions. One Database per process; sessions open around each operation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store.fastread import FastReader

DEFAULT_URL = "sqlite+aiosqlite:///overview.db"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own BEGIN handling is off: _sqlite_begin issues BEGIN itself, so that
    # writes can take the write lock up front (see Database.transaction).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # Read sessions run without BEGIN: each statement is its own snapshot, and a round
    # trip to aiosqlite's thread is saved. Writes ask for IMMEDIATE (see transaction()).
    mode = conn.get_execution_options().get(SQLITE_BEGIN)
    if mode:
        conn.exec_driver_sql(f"BEGIN {mode}")


SQLITE_BEGIN = "sqlite_begin"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    # No pool_pre_ping: it costs a round trip per request; a connection that died with
    # a database restart fails one request and is replaced.
    return create_async_engine(url, **kwargs)


class Database:
    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads need no transaction: on PostgreSQL autocommit saves BEGIN and ROLLBACK.
        reads = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._reads = async_sessionmaker(reads, expire_on_commit=False)
        self.fast = FastReader(make_url(url), self.engine.dialect)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back if it raises.

        On SQLite it takes the write lock at BEGIN (IMMEDIATE): a deferred transaction that
        read first and writes later fails with SQLITE_BUSY when another writer got in
        between, instead of waiting its turn.
        """
        async with self._sessions.begin() as session:
            if self.is_sqlite:
                await session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
            yield session

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read session: nothing it does is committed; each statement sees committed data."""
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A read in one transaction: one consistent view, and server-side cursors work."""
        async with self._sessions() as session:
            if self.is_sqlite:
                await session.connection(execution_options={SQLITE_BEGIN: "DEFERRED"})
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.fast.close()
        await self.engine.dispose()
