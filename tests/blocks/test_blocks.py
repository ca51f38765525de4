"""Block builders stay inside Slack's limits even with the longest values."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from slack_sdk.models.blocks import SectionBlock

from blocks.customers import PAGE_SIZE, customer_card, customer_list, pick_list
from blocks.help import help_message
from blocks.ids import ListPageValue, PickFor
from blocks.limits import block_problems
from blocks.message import Message
from blocks.risk import customer_risk, risk_overview
from store.customers import CustomerPage, RiskSummary
from store.enums import Level, Role
from store.errors import Ambiguous, Candidate, InvalidInput
from store.filters import parse_filter
from tests.factories import customer

TODAY = dt.date(2026, 12, 4)
LONG = "W" * 200


def long_customers(n: int) -> list:
    return [
        customer(f"{LONG[:190]} {i:03d}", id=i, sign_in_account="x" * 300 + "@example.com")
        for i in range(1, n + 1)
    ]


def check(message: Message) -> dict:
    payload = message.payload()
    assert not block_problems(payload, limit=50)
    assert payload["text"]
    return payload


def test_a_full_page_of_long_names_fits() -> None:
    page = CustomerPage(long_customers(PAGE_SIZE), total=10_000, page=3, page_size=PAGE_SIZE)
    flt = parse_filter("x" * 970 + " risk:high sort:risk")
    payload = check(customer_list(page, flt, TODAY))
    assert len(payload["blocks"]) <= 50
    assert "10,000 customers" in payload["text"]
    values = [
        e["value"] for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert len(values) == 2 and all(len(v) <= 2000 for v in values)
    assert ListPageValue.model_validate_json(values[1]).p == 4


def test_card_and_risk_clip_a_long_name() -> None:
    [c] = long_customers(1)
    check(customer_card(c, TODAY))
    check(customer_risk(c))


def test_card_shows_all_eight_fields_and_unknowns() -> None:
    c = customer(
        "Blank",
        id=1,
        license_type=None,
        cri=None,
        exposure=None,
        security_configuration=None,
        expiration_date=None,
        sign_in_account=None,
    )
    payload = check(customer_card(c, TODAY))
    fields = payload["blocks"][1]["fields"]
    assert len(fields) == 8
    assert sum("—" in f["text"] for f in fields) == 6


def test_pick_list_of_ten_long_names() -> None:
    err = Ambiguous("w", [Candidate(i, LONG) for i in range(1, 11)], total=57)
    payload = check(pick_list(err, PickFor.SHOW))
    assert "47 more" in str(payload)


def test_risk_overview_and_help_fit() -> None:
    riskiest = long_customers(10)
    summary = RiskSummary(10, {Level.LOW: 1, Level.MEDIUM: 2, Level.HIGH: 7, None: 0}, riskiest)
    check(risk_overview(summary))
    for role in Role:
        check(help_message(role))
    check(help_message(None))


def test_more_than_fifty_blocks_is_refused() -> None:
    message = Message("x", [SectionBlock(text="x") for _ in range(51)])
    with pytest.raises(ValueError, match="51 blocks"):
        message.payload()


def test_button_values_reject_tampering() -> None:
    with pytest.raises(InvalidInput, match="out of date"):
        ListPageValue.decode('{"q": "", "p": -1}')
    with pytest.raises(InvalidInput):
        ListPageValue.decode('{"q": "", "p": 1, "admin": true}')
    with pytest.raises(InvalidInput):
        ListPageValue.decode(None)


def test_help_escapes_the_placeholders_slack_would_read_as_links() -> None:
    text = json.dumps(check(help_message(Role.ADMIN))["blocks"])
    assert "`/customers show &lt;company&gt;`" in text and "<company>" not in text
