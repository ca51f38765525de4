"""Acting on customers: card buttons, `/customers <action> <company>`, modals, approvals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Coroutine
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from blocks.actions import (
    MODAL_ACTIONS,
    accounts_modal,
    action_prompt,
    add_modal,
    connect_modal,
    done,
    notice_view,
    provision_modal,
)
from blocks.approvals import approval_outcome, approval_request
from blocks.customers import customer_card, pick_list
from blocks.home import decided_note
from blocks.ids import ActionId, ApprovalValue, CardValue, Field, ModalId, ModalMeta, PickFor
from blocks.message import Message
from handlers.deps import Deps, actor_for, channel_of, deps_of, who_of
from handlers.home import refresh_later
from handlers.request import CommandRequest
from store.access import Who
from store.actions import Stale, check_email
from store.actor import Actor
from store.customers import find_customer, get_customer
from store.enums import Action, LicenseType
from store.errors import Ambiguous, InvalidInput, OverviewError
from store.live import live_risk
from store.models import Approval, Customer
from store.regions import DataCenter
from store.secrets import check_token
from store.sync import Syncer

SUBCOMMANDS = {
    "provision": Action.PROVISION,
    "trial": Action.START_TRIAL,
    "extend": Action.EXTEND_TRIAL,
    "nfr": Action.ASSIGN_NFR,
    "connect": Action.CONNECT,
    "accounts": Action.UPDATE_SIGN_IN,
    "disconnect": Action.REQUEST_DISCONNECT,
}
FIRST_SYNC_SECONDS = 60.0
TRIGGER_GONE = {"expired_trigger_id", "trigger_expired", "invalid_trigger_id"}
log = logging.getLogger("overview.actions")


class StillWorking(Exception):
    """The platform has not answered within the ack budget; `task` finishes the work."""

    def __init__(
        self, task: asyncio.Task[Customer], customer_id: int | None, callback: ModalId
    ) -> None:
        super().__init__("still working")
        self.task = task
        self.customer_id = customer_id
        self.callback = callback


async def card(deps: Deps, actor: Actor | None, c: Customer) -> Message:
    """A customer's card with the buttons this person may use on it right now.

    Without an actor (a card posted in the channel) it has no buttons.
    """
    actions = await deps.ops.offered(actor, c) if actor is not None else []
    async with deps.db.session() as s:
        live = await live_risk(s, c.id)
    return customer_card(
        c, deps.today(), actions=actions, partner=deps.ops.partner, live=live, now=deps.clock()
    )


async def open_modal(client: AsyncWebClient, trigger_id: object, view: View) -> None:
    if not isinstance(trigger_id, str) or not trigger_id:
        raise InvalidInput("Slack did not send what is needed to open a form; try again.")
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as e:
        if e.response.get("error") in TRIGGER_GONE:
            raise InvalidInput(
                "That took too long for Slack to open the form; try again."
            ) from None
        raise


def modal_for(action: Action, c: Customer, meta: ModalMeta, deps: Deps) -> View:
    if action in (Action.PROVISION, Action.START_TRIAL):
        trial = action is Action.START_TRIAL
        return provision_modal(c, meta, trial=trial, data_centers=deps.ops.platform.data_centers)
    if action is Action.CONNECT:
        return connect_modal(c, meta)
    return accounts_modal(c, meta)


# --- subcommands -------------------------------------------------------------------------


async def add_command(req: CommandRequest) -> Message | None:
    async with req.deps.db.session() as s:
        actor = await req.actor(s)
    await req.deps.ops.check(actor, Action.ADD, None, None)
    meta = ModalMeta(ch=channel_of(req.body), ru=_url(req.body.get("response_url")))
    await open_modal(req.context.client, req.body.get("trigger_id"), add_modal(meta))
    return None


async def action_command(req: CommandRequest) -> Message | None:
    action = SUBCOMMANDS[req.sub]
    deps = req.deps
    async with deps.db.session() as s:
        actor = await req.actor(s)
        try:
            found = await find_customer(s, actor, req.rest)
        except Ambiguous as err:
            return pick_list(err, PickFor.SHOW, public=False)
    c = await deps.ops.check(actor, action, found.id, None)
    assert c is not None
    if action in MODAL_ACTIONS:
        meta = ModalMeta(
            id=c.id, v=c.version, ch=channel_of(req.body), ru=_url(req.body.get("response_url"))
        )
        await open_modal(
            req.context.client, req.body.get("trigger_id"), modal_for(action, c, meta, deps)
        )
        return None
    return action_prompt(c, action, deps.ops.partner)


def _url(value: object) -> str | None:
    return value if isinstance(value, str) and value.startswith("http") else None


# --- card buttons --------------------------------------------------------------------------


async def on_card_button(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    deps = deps_of(context)
    value = CardValue.decode(action.get("value"))
    assert isinstance(value, CardValue)
    async with deps.db.session() as s:
        actor = await actor_for(deps, s, context, body)
    try:
        if value.a in MODAL_ACTIONS:
            c = await deps.ops.check(actor, value.a, value.id, value.v)
            assert c is not None
            meta = ModalMeta(
                id=c.id, v=c.version, ch=channel_of(body), ru=_url(body.get("response_url"))
            )
            await open_modal(client, body.get("trigger_id"), modal_for(value.a, c, meta, deps))
            await ack()
            return
        await ack()
        notice, c = await _act(deps, client, actor, value, channel_of(body))
    except Stale as stale:
        await ack()
        await _redraw(deps, actor, stale.customer_id, stale.message, respond)
        return
    refresh_later(deps, client, who_of(context, body))
    await respond(replace_original=True, **done(notice, await card(deps, actor, c)).payload())


async def _act(
    deps: Deps, client: AsyncWebClient, actor: Actor, value: CardValue, channel: str | None
) -> tuple[str, Customer]:
    ops = deps.ops
    if value.a is Action.EXTEND_TRIAL:
        c = await ops.extend_trial(actor, value.id, value.v)
        ends = c.expiration_date.isoformat() if c.expiration_date else "—"
        return f"✅ Extended {c.company}'s trial by 30 days: it now ends {ends}.", c
    if value.a is Action.ASSIGN_NFR:
        c = await ops.assign_nfr(actor, value.id, value.v)
        return f"✅ {c.company} now has the partner's NFR license.", c
    if value.a is Action.REQUEST_DISCONNECT:
        approval = await ops.request_disconnect(actor, value.id, value.v)
        where = await post_request(deps, client, approval, channel)
        return (
            f"⏳ Asked for approval in <#{where}>. Nothing changes until someone else approves.",
            approval.customer,
        )
    raise InvalidInput("That button is out of date. Run the command again.")


async def _redraw(
    deps: Deps, actor: Actor, customer_id: int, notice: str, respond: AsyncRespond
) -> None:
    async with deps.db.session() as s:
        c = await get_customer(s, actor, customer_id)
    await respond(replace_original=True, **done(notice, await card(deps, actor, c)).payload())


# --- modal submissions ---------------------------------------------------------------------


def _value(values: dict[str, Any], field: Field) -> str | None:
    element = values.get(field.value, {}).get("value", {})
    if not isinstance(element, dict):
        return None
    option = element.get("selected_option")
    raw = option.get("value") if isinstance(option, dict) else element.get("value")
    return raw.strip() or None if isinstance(raw, str) else None


def _email(values: dict[str, Any], field: Field, what: str, errors: dict[str, str]) -> str | None:
    raw = _value(values, field)
    if raw is None:
        return None
    try:
        return check_email(raw, what)
    except InvalidInput as e:
        errors[field.value] = e.message
        return None


def _token(values: dict[str, Any], errors: dict[str, str]) -> str | None:
    try:
        return check_token(_value(values, Field.API_TOKEN))
    except InvalidInput as e:  # the message never repeats what was typed
        errors[Field.API_TOKEN.value] = e.message
        return None


def _choice(values: dict[str, Any], field: Field, kind: type, errors: dict[str, str]) -> Any:
    raw = _value(values, field)
    try:
        return kind(raw)
    except ValueError:
        errors[field.value] = "Choose one of the options."
        return None


async def on_submit(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
) -> None:
    deps = deps_of(context)
    meta = ModalMeta.decode(view.get("private_metadata"))
    assert isinstance(meta, ModalMeta)
    state = view.get("state")
    values = state.get("values", {}) if isinstance(state, dict) else {}
    values = values if isinstance(values, dict) else {}
    callback = ModalId(view["callback_id"])
    errors: dict[str, str] = {}
    async with deps.db.session() as s:
        actor = await actor_for(deps, s, context, body, channel_id=meta.ch)
    ops = deps.ops
    try:
        if callback is ModalId.ADD:
            company = _value(values, Field.COMPANY) or ""
            if not company:
                errors[Field.COMPANY.value] = "Give the company a name."
            sign_in = _email(values, Field.SIGN_IN, "sign-in", errors)
            licence = _choice(values, Field.LICENSE, LicenseType, errors)
            if errors:
                await ack(response_action="errors", errors=errors)
                return
            try:
                c = await _in_time(deps, ops.add_customer(actor, company, sign_in, licence))
            except InvalidInput as e:  # name taken or too long: say so next to the name
                await ack(response_action="errors", errors={Field.COMPANY.value: e.message})
                return
            notice = _submitted_notice(callback, c)
        else:
            if meta.id is None or meta.v is None:
                raise InvalidInput("That form is out of date. Run the command again.")
            changed = await _submit_customer_modal(callback, meta, values, actor, errors, deps)
            if changed is None:
                await ack(response_action="errors", errors=errors)
                return
            c = changed
            notice = _submitted_notice(callback, c)
    except OverviewError as e:
        await ack(response_action="update", view=notice_view("Nothing was done", e.message))
        return
    except StillWorking as busy:
        # A slow platform: close the form now, show "Provisioning…", finish in the background.
        await ack()
        deps.spawn(_finish_later(deps, client, actor, busy, meta, who_of(context, body)))
        return
    await ack()
    refresh_later(deps, client, who_of(context, body, meta.ch))
    if callback is ModalId.CONNECT and deps.syncer is not None:
        # The first sync tells at once whether the token works; after the ack, not before.
        deps.spawn(_first_sync(deps, deps.syncer, actor, c, meta.ru))
        return
    if meta.ru:
        message = done(notice, await card(deps, actor, c))
        replace = callback is not ModalId.ADD
        await AsyncWebhookClient(meta.ru).send(
            response_type="ephemeral", replace_original=replace, **message.payload()
        )


async def _submit_customer_modal(
    callback: ModalId,
    meta: ModalMeta,
    values: dict[str, Any],
    actor: Actor,
    errors: dict[str, str],
    deps: Deps,
) -> Customer | None:
    ops, cid, version = deps.ops, meta.id, meta.v
    assert cid is not None and version is not None
    if callback in (ModalId.PROVISION, ModalId.TRIAL, ModalId.CONNECT):
        dc = _choice(values, Field.DATA_CENTER, DataCenter, errors)
        if callback is ModalId.CONNECT:
            token = _token(values, errors)
            if dc is not None and dc.api_host is None:
                errors[Field.DATA_CENTER.value] = f"Vision One has no public API in {dc.label}."
            if errors or token is None:
                return None
            return await ops.connect(actor, cid, version, dc, token)
        trial = callback is ModalId.TRIAL
        auditor = _email(values, Field.AUDITOR, "Auditor", errors)
        if trial and auditor is None and Field.AUDITOR.value not in errors:
            errors[Field.AUDITOR.value] = (
                "A trial needs the account that receives the Auditor role."
            )
        if errors:
            return None
        provision = ops.provision(actor, cid, version, dc, auditor, trial=trial)
        return await _in_time(deps, provision, cid, callback)
    sign_in = _email(values, Field.SIGN_IN, "sign-in", errors)
    if sign_in is None and Field.SIGN_IN.value not in errors:
        errors[Field.SIGN_IN.value] = "The customer needs a sign-in account."
    primary = _email(values, Field.PRIMARY_USER, "Primary User Account", errors)
    if errors:
        return None
    return await ops.update_accounts(actor, cid, version, sign_in, primary)


async def _in_time(
    deps: Deps,
    work: Coroutine[Any, Any, Customer],
    customer_id: int | None = None,
    callback: ModalId = ModalId.ADD,
) -> Customer:
    """`work`'s result if it ends within the ack budget, else StillWorking to finish later."""
    task = deps.start(work)
    await asyncio.wait({task}, timeout=deps.ack_budget)
    if not task.done():
        raise StillWorking(task, customer_id, callback)
    return task.result()


async def _show_waiting(
    deps: Deps, actor: Actor, customer_id: int, hook: AsyncWebhookClient
) -> None:
    try:
        async with deps.db.session() as s:
            c = await get_customer(s, actor, customer_id)
        waiting = f"⏳ Provisioning {c.company} through {deps.ops.platform.name}…"
        message = done(waiting, await card(deps, actor, c))
        await hook.send(response_type="ephemeral", replace_original=True, **message.payload())
    except Exception:  # the outcome is still shown when the platform answers
        log.exception("could not show a provisioning in progress")


async def _finish_later(
    deps: Deps,
    client: AsyncWebClient,
    actor: Actor,
    busy: StillWorking,
    meta: ModalMeta,
    who: Who,
) -> None:
    """Show the card as Provisioning…, wait for the platform, then show how it ended."""
    hook = AsyncWebhookClient(meta.ru) if meta.ru else None
    try:
        if hook is not None and busy.customer_id is not None:
            await _show_waiting(deps, actor, busy.customer_id, hook)
        try:
            c = await busy.task
        except OverviewError as e:
            if hook is not None:
                await hook.send(response_type="ephemeral", replace_original=False, text=e.message)
            return
        refresh_later(deps, client, who)
        if hook is not None:
            message = done(_submitted_notice(busy.callback, c), await card(deps, actor, c))
            replace = busy.callback is not ModalId.ADD
            await hook.send(
                response_type="ephemeral", replace_original=replace, **message.payload()
            )
    except Exception:  # nobody is waiting on this task: log rather than lose it
        log.exception("could not finish showing a provisioning")


async def _first_sync(
    deps: Deps, syncer: Syncer, actor: Actor, c: Customer, response_url: str | None
) -> None:
    try:
        report = await asyncio.wait_for(syncer.run(customer_ids=[c.id]), FIRST_SYNC_SECONDS)
    except Exception as e:  # the periodic sync tries again; say so rather than fail
        log.warning("first vision one sync of customer %s: %s", c.id, type(e).__name__)
        notice = f"✅ Connected {c.company}'s Vision One; its figures arrive with the next sync."
    else:
        if report.ok:
            notice = f"✅ Connected {c.company}'s Vision One; its latest figures are in."
        else:
            why = report.failed[0][1] if report.failed else "no answer"
            notice = f"⚠️ Connected {c.company}'s Vision One, but the first sync failed: {why}."
    if not response_url:
        return
    async with deps.db.session() as s:
        fresh = await s.get(Customer, c.id) or c
    message = done(notice, await card(deps, actor, fresh))
    try:
        await AsyncWebhookClient(response_url).send(
            response_type="ephemeral", replace_original=True, **message.payload()
        )
    except Exception as e:
        log.warning("could not post the connect result: %s", type(e).__name__)


def _submitted_notice(callback: ModalId, c: Customer) -> str:
    if c.status.value == "failed":
        return f"⚠️ Provisioning {c.company} failed: {c.status_detail}. Use Retry to try again."
    return {
        ModalId.ADD: f"✅ Added {c.company} (created manually, not provisioned yet).",
        ModalId.PROVISION: f"✅ Provisioned Vision One for {c.company}.",
        ModalId.TRIAL: f"✅ Started a free trial for {c.company}.",
        ModalId.CONNECT: f"✅ Connected {c.company}'s Vision One.",
        ModalId.ACCOUNTS: f"✅ Saved {c.company}'s user accounts.",
    }.get(callback, "✅ Done.")


# --- approvals -------------------------------------------------------------------------------


async def post_request(
    deps: Deps, client: AsyncWebClient, approval: Approval, asked_in: str | None
) -> str:
    """Post the request for a second person; if nobody can see it, withdraw it."""
    channel = deps.approvals_channel or asked_in
    message = approval_request(approval, approval.customer, deps.ops.partner)
    try:
        if channel is None:
            raise InvalidInput("I don't know where to post the request; set APPROVALS_CHANNEL.")
        posted = await client.chat_postMessage(channel=channel, **message.payload())
    except (SlackApiError, InvalidInput) as e:
        error = e.response.get("error") if isinstance(e, SlackApiError) else "no channel"
        await deps.ops.cancel_request(approval.id, str(error))
        raise InvalidInput(
            f"I couldn't post the approval request in <#{channel}> ({error}). "
            "Invite me there with `/invite @Customer Overview` and try again; nothing was changed."
        ) from None
    await deps.ops.attach_message(approval.id, str(posted["channel"]), str(posted["ts"]))
    return str(posted["channel"])


async def show_outcome(deps: Deps, client: AsyncWebClient, a: Approval) -> None:
    """Update the request message in place: who asked, who decided and when; no buttons."""
    if not (a.channel_id and a.message_ts):
        return
    message = approval_outcome(a, a.customer, deps.ops.partner)
    await client.chat_update(channel=a.channel_id, ts=a.message_ts, **message.payload())


async def _decide(
    approve: bool,
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    await ack()
    deps = deps_of(context)
    value = ApprovalValue.decode(action.get("value"))
    assert isinstance(value, ApprovalValue)
    async with deps.db.session() as s:
        actor = await actor_for(deps, s, context, body)
    who = who_of(context, body)
    container = body.get("container")
    # Clicked on the Home tab: no response_url, so the answer goes on the refreshed tab.
    on_home = isinstance(container, dict) and container.get("type") == "view"
    try:
        decision = await deps.ops.decide(actor, value.id, approve)
    except OverviewError as e:
        if not on_home:
            raise
        refresh_later(deps, client, who, note=e.message)
        return
    a = decision.approval
    note = decision.told or decided_note(a.status, decision.customer.company)
    refresh_later(deps, client, who, note=note if on_home else None)
    if not decision.already and a.requested_by != actor.user_id:
        refresh_later(deps, client, Who(a.requested_by))  # their request left the list
    await show_outcome(deps, client, a)
    if decision.told and body.get("response_url"):
        await respond(response_type="ephemeral", replace_original=False, text=decision.told)


async def on_decision(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    approve = action.get("action_id") == ActionId.APPROVE
    await _decide(approve, ack, action, body, context, client, respond)


async def expire_requests(deps: Deps, client: AsyncWebClient) -> int:
    """Mark requests past APPROVAL_TTL_HOURS as expired and say so on their messages."""
    expired = await deps.ops.expire_due()
    for a in expired:
        with contextlib.suppress(SlackApiError):  # the message may be gone; expiry is recorded
            await show_outcome(deps, client, a)
    return len(expired)


def register(app: AsyncApp) -> None:
    app.action(re.compile(rf"^{ActionId.CARD}:[a-z_]+$"))(on_card_button)
    app.action(re.compile(rf"^({ActionId.APPROVE}|{ActionId.REJECT})$"))(on_decision)
    app.view(re.compile(r"^modal_(add|provision|trial|connect|accounts)$"))(on_submit)
