"""The driver-level list path answers exactly what the session path answers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from store.access import AccessPolicy, Who, grant
from store.customers import _page_query, list_customers_for, list_page
from store.db import Database
from store.enums import Role, Status
from store.fastread import pg_dsn
from store.filters import parse_filter
from store.migrate import upgrade
from store.models import Customer
from tests.factories import add_many

TODAY = dt.date(2026, 12, 4)
POLICY = AccessPolicy.of(["UADMIN"], Role.VIEWER)
QUERIES = [
    "",
    "company 0001",
    "risk:high",
    "risk:high,low license:annual",
    "status:trial,active expiring:90",
    "sort:risk",
    "sort:risk risk:medium",
    "expiring:30 sort:expiry",
    "100%_\\",
]


async def _seed(db: Database) -> None:
    await add_many(db, 130)
    async with db.transaction() as s:
        for i, c in enumerate((await s.scalars(select(Customer))).all()):
            c.status = (Status.TRIAL, Status.ACTIVE, Status.EXPIRED)[i % 3]
            if i % 7 == 0:
                c.cri = None
                c.expiration_date = None


@pytest.mark.parametrize("user", ["UADMIN", "UVIEW", "UOPS"])
async def test_same_pages_as_the_session_path(db: Database, user: str) -> None:
    if not db.fast.enabled:
        pytest.skip("in-memory SQLite has no driver-level path")
    await _seed(db)
    async with db.transaction() as s:
        await grant(s, None, "UOPS", Role.OPERATOR, "test")
    who = Who(user)
    for query in QUERIES:
        flt = parse_filter(query)
        for page in (0, 1, 5, 99):
            async with db.session() as s:
                slow_actor, slow = await list_customers_for(
                    s, POLICY, who, flt, page=page, page_size=20, today=TODAY
                )
            fast_actor, fast = await list_page(db, POLICY, who, flt, page=page, today=TODAY)
            assert fast_actor == slow_actor, (query, page)
            assert (fast.total, fast.page) == (slow.total, slow.page), (query, page)
            assert [tuple(r) for r in fast.customers] == [tuple(r) for r in slow.customers], (
                query,
                page,
            )
            for row in fast.customers:  # typed as the session path types them
                assert isinstance(row.status, Status)
                assert row.expiration_date is None or isinstance(row.expiration_date, dt.date)


async def test_a_missing_value_is_refused_not_guessed(db: Database) -> None:
    if not db.fast.enabled:
        pytest.skip("in-memory SQLite has no driver-level path")
    with pytest.raises(KeyError, match="offset"):
        await db.fast.fetch(_page_query(parse_filter(""), 20, False), {"today": TODAY})


async def test_its_connection_cannot_write(db: Database) -> None:
    if not db.fast.enabled:
        pytest.skip("in-memory SQLite has no driver-level path")
    await db.fast.fetch(_page_query(parse_filter(""), 20, False), {"offset": 0, "today": TODAY})
    with pytest.raises(Exception, match=r"(?i)read.only|readonly"):
        await db.fast._run("DELETE FROM customer", [])


def test_sqlalchemy_only_url_options_are_not_sent_to_the_server() -> None:
    url = make_url(
        "postgresql+asyncpg://u:p%40ss@db:5433/overview"
        "?prepared_statement_cache_size=0&sslmode=require&application_name=bot"
    )
    dsn, options = pg_dsn(url)
    assert dsn == "postgresql://u:p%40ss@db:5433/overview?application_name=bot&sslmode=require"
    assert options == {"statement_cache_size": 0}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_the_driver_path_honours_sqlalchemy_url_options(db_url: str) -> None:
    db = Database(db_url + "?prepared_statement_cache_size=0")
    try:
        await upgrade(db)
        await add_many(db, 3)
        _, page = await list_page(db, POLICY, Who("UVIEW"), parse_filter(""), today=TODAY)
        assert page.total == 3 and db.fast.enabled
    finally:
        await db.close()


async def test_a_driver_path_that_cannot_connect_falls_back_to_sessions(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    if not db.fast.enabled:
        pytest.skip("in-memory SQLite has no driver-level path")
    await add_many(db, 3)

    async def refuse() -> None:
        raise OSError("connection refused")

    db.fast._open_sqlite = db.fast._open_pg = refuse  # type: ignore[method-assign]
    _, page = await list_page(db, POLICY, Who("UVIEW"), parse_filter(""), today=TODAY)
    assert page.total == 3 and page.customers[0].company == "Company 00001"
    assert not db.fast.enabled
    assert "driver-level reads are off (OSError)" in caplog.text
    _, again = await list_page(db, POLICY, Who("UVIEW"), parse_filter(""), today=TODAY)
    assert again.total == 3
