"""The Home tab stays inside Slack's limits however long the lists and the names."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from blocks.home import NO_ACCESS, OUTSIDER, decided_note, home_view
from blocks.ids import ActionId, ApprovalValue
from blocks.limits import block_problems
from store.access import Actor
from store.digest_data import Dated, Listing
from store.enums import ApprovalStatus, Level, Role
from store.home import MAX_NEEDS_TOKEN, MAX_PENDING, HomeData, PendingRequest, RefusedToken
from store.models import DigestSubscription
from tests.factories import customer
from tests.harness import buttons, message_text

NOW = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)
NASTY = "&<>" * 67  # 201 characters that each grow fivefold when escaped
APPROVER = Actor("U0APPR", Role.APPROVER)


def pending(n: int, by: str = "U0OPS") -> list[PendingRequest]:
    return [
        PendingRequest(i, f"{NASTY}{i:04d}", by, NOW - dt.timedelta(minutes=i))
        for i in range(1, n + 1)
    ]


def full_data(n: int = 1000) -> HomeData:
    return HomeData(
        now=NOW,
        pending=pending(MAX_PENDING),  # what the handler reads: the oldest, capped
        pending_total=n,
        trials=Listing(
            [Dated(f"{NASTY}{i}", NOW.date() + dt.timedelta(days=i % 14)) for i in range(n)],
            n,
        ),
        riskiest=[
            customer(f"{NASTY}{i}", cri=100 - i, exposure=Level.HIGH, security_configuration=None)
            for i in range(n)
        ],
        digests=[
            DigestSubscription(
                channel_id=f"C{i:08d}",
                at_time=dt.time(9, 0),
                tz="America/Argentina/ComodRivadavia" * 2,
                weekdays="0246",
                filters="&" * 1000,
                created_by="U0APPR",
            )
            for i in range(n)
        ],
        digests_total=n,
        needs_token=[RefusedToken(f"{NASTY}{i}", NOW) for i in range(MAX_NEEDS_TOKEN)],
        needs_token_total=n,
    )


def render(actor: Actor, data: HomeData, note: str | None = None) -> dict[str, Any]:
    view = home_view(actor, data, note=note).to_dict()
    assert view["type"] == "home"
    problems = block_problems(view, limit=100)
    assert not problems, problems
    for block in view["blocks"]:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= (150 if block["type"] == "header" else 3000)
    return view


def test_a_thousand_pending_approvals_with_long_names_fit() -> None:
    for role in Role:
        view = render(Actor("U0X", role), full_data(), note="x" * 5000)
        text = message_text(view)
        assert "…and 990 more" in text
        assert "Disconnects waiting for approval (1,000)" in text
        assert "Vision One needs a new API token (1,000)" in text and "…and 985 more" in text
        assert len(json.dumps(view)) < 150_000
    approver = render(APPROVER, full_data())
    assert len(buttons(approver)) == 2 * MAX_PENDING


def test_buttons_decide_with_the_request_message_ids() -> None:
    data = HomeData(now=NOW, pending=pending(1, by="U0OPS"), pending_total=1)
    view = render(APPROVER, data)
    approve, reject = buttons(view)
    assert (approve["action_id"], reject["action_id"]) == (ActionId.APPROVE, ActionId.REJECT)
    assert ApprovalValue.decode(approve["value"]) == ApprovalValue(id=1)
    assert approve["value"] == reject["value"]
    assert approve["confirm"]["confirm"]["text"] == "Approve"


def test_only_approvers_get_buttons_and_never_on_their_own_request() -> None:
    mine = PendingRequest(7, "Mine Co", "U0APPR", NOW)
    theirs = PendingRequest(8, "Theirs Co", "U0OPS", NOW)
    data = HomeData(now=NOW, pending=[mine, theirs], pending_total=2)
    view = render(APPROVER, data)
    assert {ApprovalValue.decode(b["value"]) for b in buttons(view)} == {ApprovalValue(id=8)}
    assert "Your request: another approver decides it" in message_text(view)
    for role in (Role.VIEWER, Role.OPERATOR):
        other = render(Actor("U0X", role), data)
        assert buttons(other) == []
        assert "Mine Co" in message_text(other) and "Theirs Co" in message_text(other)
    admin = render(Actor("U0ADMIN", Role.ADMIN), data)
    assert len(buttons(admin)) == 4


def test_role_line_and_empty_sections() -> None:
    view = render(Actor("U0V", Role.VIEWER), HomeData(now=NOW))
    text = message_text(view)
    assert "You are a *viewer*" in text
    assert "Nothing is waiting for approval" in text
    assert "No trial ends in the next 14 days" in text
    assert "No customer has a Cyber Risk Index yet" in text
    assert "You run no channel digests" in text
    assert "API token" not in text  # no section while no token was refused
    admin = message_text(render(Actor("U0A", Role.ADMIN), HomeData(now=NOW)))
    assert "You are an *admin*" in admin and "/customers digest subscribe" in admin


def test_no_access_and_outsiders_see_only_a_short_text() -> None:
    for actor, expected in (
        (Actor("U0NONE", None), NO_ACCESS),
        (Actor("U0EXT", Role.ADMIN, external=True), OUTSIDER),
    ):
        view = render(actor, full_data(), note="secret note")
        assert len(view["blocks"]) == 1
        assert message_text(view).strip() == expected


def test_lists_show_what_matters() -> None:
    data = HomeData(
        now=NOW,
        trials=Listing([Dated("Trialco", dt.date(2026, 12, 9))], 1),
        riskiest=[customer("Riskyco", cri=91, exposure=Level.HIGH)],
        digests=[
            DigestSubscription(
                channel_id="C0DIG",
                at_time=dt.time(7, 15),
                tz="Europe/Berlin",
                weekdays="01234",
                filters="risk:high",
                created_by="U0A",
            )
        ],
    )
    text = message_text(render(Actor("U0A", Role.ADMIN), data))
    assert "*Trialco* — 2026-12-09 (in 5 days)" in text
    assert "*Riskyco* — CRI 91 🔴 High · Exposure High · Security config. Low" in text
    assert "<#C0DIG> — 07:15 Europe/Berlin, Monday to Friday · `risk:high`" in text


def test_decided_note() -> None:
    assert "approved" in decided_note(ApprovalStatus.APPROVED, "A&B")
    assert "A&amp;B" in decided_note(ApprovalStatus.REJECTED, "A&B")


def test_refused_tokens_say_who_can_fix_them() -> None:
    data = HomeData(now=NOW, needs_token=[RefusedToken("Acme & Co", NOW)], needs_token_total=1)
    viewer = message_text(render(Actor("U0V", Role.VIEWER), data))
    assert "⚠️ Vision One needs a new API token (1)" in viewer
    assert "*Acme &amp; Co* — token refused at the sync <!date^" in viewer
    assert "An operator replaces the token" in viewer and "/customers connect" not in viewer
    operator = message_text(render(Actor("U0O", Role.OPERATOR), data))
    assert "`/customers connect &lt;company&gt;`" in operator and "more" not in operator
