from __future__ import annotations

import datetime as dt

import pytest

from store.access import Actor
from store.customers import find_customer, list_customers, risk_summary
from store.db import Database
from store.enums import Level, Role
from store.errors import AccessDenied, Ambiguous, InvalidInput, NotFound
from store.filters import parse_filter
from tests.factories import add, add_many, customer

VIEWER = Actor("U1", Role.VIEWER)


async def test_paging_counts_and_clamps_past_the_end(db: Database) -> None:
    await add_many(db, 45)
    async with db.session() as s:
        first = await list_customers(s, VIEWER, parse_filter(""), page=0, page_size=20)
        assert first.total == 45 and len(first.customers) == 20 and first.pages == 3
        assert first.has_next and not first.has_previous
        beyond = await list_customers(s, VIEWER, parse_filter(""), page=9, page_size=20)
        assert beyond.page == 2 and len(beyond.customers) == 5 and not beyond.has_next
        none = await list_customers(s, VIEWER, parse_filter("zzz"), page=3, page_size=20)
        assert none.total == 0 and none.customers == []
        with pytest.raises(InvalidInput):
            await list_customers(s, VIEWER, parse_filter(""), page=-1)


async def test_text_search_escapes_like_wildcards(db: Database) -> None:
    await add(
        db, customer("100% Secure"), customer("1000 Widgets"), customer("a_b"), customer("axb")
    )
    async with db.session() as s:
        pct = await list_customers(s, VIEWER, parse_filter("100%"))
        assert [c.company for c in pct.customers] == ["100% Secure"]
        under = await list_customers(s, VIEWER, parse_filter("a_b"))
        assert [c.company for c in under.customers] == ["a_b"]


async def test_search_also_matches_sign_in_account(db: Database) -> None:
    await add(db, customer("Acme", sign_in_account="Boss@Contoso.example"), customer("Other"))
    async with db.session() as s:
        found = await list_customers(s, VIEWER, parse_filter("contoso"))
    assert [c.company for c in found.customers] == ["Acme"]


async def test_expiring_window_uses_today(db: Database) -> None:
    today = dt.date(2026, 12, 4)
    await add(
        db,
        customer("Past", expiration_date=dt.date(2026, 12, 3)),
        customer("Today", expiration_date=today),
        customer("Soon", expiration_date=dt.date(2027, 1, 3)),
        customer("Later", expiration_date=dt.date(2027, 1, 4)),
    )
    async with db.session() as s:
        found = await list_customers(s, VIEWER, parse_filter("expiring:30"), today=today)
    assert [c.company for c in found.customers] == ["Soon", "Today"]


async def test_find_exact_prefix_substring_ambiguous_and_missing(db: Database) -> None:
    await add(db, customer("Acme"), customer("Acme West"), customer("Globex Corp"))
    async with db.session() as s:
        assert (await find_customer(s, VIEWER, "  ACME ")).company == "Acme"
        assert (await find_customer(s, VIEWER, "glob")).company == "Globex Corp"
        assert (await find_customer(s, VIEWER, "corp")).company == "Globex Corp"
        assert (await find_customer(s, VIEWER, "west")).company == "Acme West"
        with pytest.raises(Ambiguous) as err:
            await find_customer(s, VIEWER, "ac")
        assert [c.company for c in err.value.candidates] == ["Acme", "Acme West"]
        with pytest.raises(NotFound, match="No customer matches “Initech”"):
            await find_customer(s, VIEWER, "Initech")
        with pytest.raises(InvalidInput):
            await find_customer(s, VIEWER, "   ")


async def test_ambiguous_caps_the_pick_list_but_counts_all(db: Database) -> None:
    await add_many(db, 25)
    async with db.session() as s:
        with pytest.raises(Ambiguous) as err:
            await find_customer(s, VIEWER, "company")
    assert len(err.value.candidates) == 10 and err.value.total == 25


async def test_risk_summary_bands_and_order(db: Database) -> None:
    await add(
        db,
        customer("A", cri=30),
        customer("B", cri=31),
        customer("C", cri=69),
        customer("D", cri=70, exposure=Level.LOW),
        customer("E", cri=70, exposure=Level.HIGH),
        customer("F", cri=None),
    )
    async with db.session() as s:
        summary = await risk_summary(s, VIEWER, top=3)
    assert summary.by_band == {Level.LOW: 1, Level.MEDIUM: 2, Level.HIGH: 2, None: 1}
    assert summary.total == 6
    assert [c.company for c in summary.riskiest] == ["E", "D", "C"]


async def test_reads_need_a_role(db: Database) -> None:
    async with db.session() as s:
        with pytest.raises(AccessDenied, match="don't have access"):
            await list_customers(s, Actor("U2", None), parse_filter(""))
        with pytest.raises(AccessDenied, match="workspace that installed it"):
            await risk_summary(s, Actor("U3", None, external=True))
