"""A driver-level path for the few hot read-only queries (today: a page of the list).

SQLAlchemy's session and execution path cost about as much CPU as the whole of a bare
Bolt ack; `/customers list` must answer within 3x of one. The statement is still built
with SQLAlchemy and compiled once per dialect; only its execution goes straight to the
driver, with SQLAlchemy's own type processors applied to binds and results.

One small pool of its own per Database: a connection to the same database, read-only.
An in-memory SQLite database cannot be shared with a second connection, so there this
path is off and callers use a session (`FastReader.enabled`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select
from sqlalchemy.engine import URL, Dialect

_CACHE_LIMIT = 1024
log = logging.getLogger("overview.fastread")
CLOSE_SECONDS = 5.0


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind names in positional order
    fixed: Mapping[str, Any]  # values compiled in (limits, IN lists)
    required: frozenset[str]  # values fetch() must be given
    binds: Mapping[str, Callable[[Any], Any] | None]
    results: tuple[Callable[[Any], Any] | None, ...]
    row: type[tuple[Any, ...]]


def _compile(stmt: Select[Any], dialect: Dialect) -> _Compiled:
    comp = stmt.compile(dialect=dialect)
    # IN lists are expanded into single binds now; that wants a value for every bind, so
    # the per-request ones get a placeholder here and must be passed to fetch().
    required = frozenset(n for n, b in comp.binds.items() if b.required)
    state = comp.construct_expanded_state(dict.fromkeys(required))
    names = tuple(state.positiontup or ())
    binds = {n: state.processors.get(n) for n in names}
    fixed = {n: v for n, v in state.parameters.items() if n not in required}
    columns = list(stmt.selected_columns)
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    row = NamedTuple("Row", [(c.key, Any) for c in columns])  # type: ignore[misc]
    return _Compiled(state.statement, names, fixed, required, binds, results, row)


def sqlite_path(url: URL) -> str | None:
    """The file of a SQLite URL, or None when it is in memory (not shareable)."""
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return database


# Query parameters of DATABASE_URL that libpq (and so asyncpg's DSN) understands; the
# others are SQLAlchemy's and would reach the server as unknown settings.
_LIBPQ_PARAMS = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslpassword",
        "application_name",
        "connect_timeout",
        "target_session_attrs",
        "passfile",
        "service",
    }
)


def pg_dsn(url: URL) -> tuple[str, dict[str, Any]]:
    """asyncpg's DSN and options for a SQLAlchemy PostgreSQL URL."""
    options: dict[str, Any] = {}
    cache = url.query.get("prepared_statement_cache_size")
    if isinstance(cache, str) and cache.isdigit():  # e.g. 0 behind pgbouncer
        options["statement_cache_size"] = int(cache)
    query = {k: v for k, v in url.query.items() if k in _LIBPQ_PARAMS}
    dsn = url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)
    return dsn, options


class Unavailable(Exception):
    """The driver-level path could not connect: callers use a session instead."""


class FastReader:
    """Runs compiled SELECTs on a driver connection of its own; rows are named tuples."""

    def __init__(self, url: URL, dialect: Dialect, pool_size: int = 4) -> None:
        self._url = url
        self._dialect = dialect
        self._pool_size = pool_size
        self._compiled: dict[Select[Any], _Compiled] = {}
        self._lock = asyncio.Lock()
        self._sqlite: Any = None
        self._pg: Any = None
        self.is_sqlite = url.get_backend_name() == "sqlite"
        self.enabled = sqlite_path(url) is not None if self.is_sqlite else True

    def compiled(self, stmt: Select[Any]) -> _Compiled:
        found = self._compiled.get(stmt)
        if found is None:
            if len(self._compiled) >= _CACHE_LIMIT:
                self._compiled.clear()
            found = self._compiled[stmt] = _compile(stmt, self._dialect)
        return found

    async def fetch(self, stmt: Select[Any], params: Mapping[str, Any]) -> list[Any]:
        """All rows of a cached statement (build it once, pass per-request values)."""
        c = self.compiled(stmt)
        if missing := c.required - params.keys():
            raise KeyError(f"no value for {sorted(missing)}")
        args = []
        for name in c.names:
            value = params[name] if name in params else c.fixed[name]
            proc = c.binds[name]
            args.append(proc(value) if proc is not None and value is not None else value)
        raw = await self._run(c.sql, args)
        procs = c.results
        make = c.row._make  # type: ignore[attr-defined]
        return [
            make([p(v) if p is not None else v for p, v in zip(procs, r, strict=True)]) for r in raw
        ]

    async def _run(self, sql: str, args: Sequence[Any]) -> Sequence[Sequence[Any]]:
        if self.is_sqlite:
            conn = self._sqlite or await self._opened(self._open_sqlite)
            return await conn.execute_fetchall(sql, args)
        pool = self._pg or await self._opened(self._open_pg)
        return await pool.fetch(sql, *args)

    async def _opened(self, opener: Callable[[], Any]) -> Any:
        # A URL this path cannot use must not break the list: turn it off and say so once.
        try:
            return await opener()
        except Exception as e:
            self.enabled = False
            log.warning("driver-level reads are off (%s); using sessions", type(e).__name__)
            raise Unavailable from e

    async def _open_sqlite(self) -> Any:
        import aiosqlite

        async with self._lock:
            if self._sqlite is None:
                path = sqlite_path(self._url)
                assert path is not None  # enabled only for files
                conn = await aiosqlite.connect(path, isolation_level=None)
                await conn.execute("PRAGMA query_only=ON")
                await conn.execute("PRAGMA busy_timeout=10000")
                self._sqlite = conn
        return self._sqlite

    async def _open_pg(self) -> Any:
        import asyncpg

        async with self._lock:
            if self._pg is None:
                dsn, options = pg_dsn(self._url)
                self._pg = await asyncpg.create_pool(
                    dsn,
                    min_size=1,
                    max_size=self._pool_size,
                    server_settings={"default_transaction_read_only": "on"},
                    **options,
                )
        return self._pg

    async def close(self) -> None:
        if self._sqlite is not None:
            conn, self._sqlite = self._sqlite, None
            await conn.close()
        if self._pg is not None:
            pool, self._pg = self._pg, None
            try:  # close() waits for every connection to come back: bounded
                await asyncio.wait_for(pool.close(), CLOSE_SECONDS)
            except TimeoutError:
                log.warning("driver-level pool did not close within %ss; terminated", CLOSE_SECONDS)
                pool.terminate()
