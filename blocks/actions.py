"""Action buttons on a customer's card, their confirmation dialogs, and the action modals."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from blocks.ids import ActionId, CardValue, Field, ModalId, ModalMeta
from blocks.message import Message, context, section
from blocks.text import clip, esc
from store.enums import Action, LicenseType, PartnerType, Status
from store.models import Customer
from store.platform import EXTENSION_DAYS, TRIAL_DAYS
from store.regions import DataCenter

MODAL_ACTIONS = {
    Action.PROVISION: ModalId.PROVISION,
    Action.START_TRIAL: ModalId.TRIAL,
    Action.CONNECT: ModalId.CONNECT,
    Action.UPDATE_SIGN_IN: ModalId.ACCOUNTS,
}
# Actions whose button asks "are you sure?" before Slack sends the click.
CONFIRMED = (Action.EXTEND_TRIAL, Action.ASSIGN_NFR, Action.REQUEST_DISCONNECT)


def label(action: Action, c: Customer, partner: PartnerType) -> str:
    if action is Action.PROVISION:
        return "Retry" if c.status is Status.FAILED else "Provision"
    if action is Action.REQUEST_DISCONNECT and partner is PartnerType.DFIR:
        return "Close case (disconnect)"
    return {
        Action.START_TRIAL: "Start free trial",
        Action.EXTEND_TRIAL: f"Extend trial by {EXTENSION_DAYS} days",
        Action.ASSIGN_NFR: "Assign NFR license",
        Action.CONNECT: "Replace API token" if c.v1_connected else "Connect Vision One",
        Action.UPDATE_SIGN_IN: "Manage user accounts",
        Action.REQUEST_DISCONNECT: "Disconnect",
    }[action]


def confirm(action: Action, c: Customer, partner: PartnerType) -> ConfirmObject | None:
    name = clip(c.company, 120)
    if action is Action.EXTEND_TRIAL:
        ends = c.expiration_date.isoformat() if c.expiration_date else "its current end"
        return ConfirmObject(
            title="Extend the trial?",
            text=f"{name}'s trial ends {ends}. Extend it by {EXTENSION_DAYS} days?",
            confirm="Extend",
            deny="Cancel",
        )
    if action is Action.ASSIGN_NFR:
        return ConfirmObject(
            title="Assign the NFR license?",
            text=(
                f"Assign your one not-for-resale license to {name}? "
                "This cannot be undone, and the license cannot be moved to another customer."
            ),
            confirm="Assign",
            deny="Cancel",
            style="danger",
        )
    if action is Action.REQUEST_DISCONNECT:
        what = "close the incident-response case and " if partner is PartnerType.DFIR else ""
        return ConfirmObject(
            title="Ask to disconnect?",
            text=(
                f"This asks an approver to {what}disconnect {name}'s Vision One from "
                "Customer Overview. Nothing changes until someone else approves."
            ),
            confirm="Ask for approval",
            deny="Cancel",
            style="danger",
        )
    return None


def action_button(action: Action, c: Customer, partner: PartnerType) -> ButtonElement:
    return ButtonElement(
        text=label(action, c, partner),
        action_id=f"{ActionId.CARD}:{action.value}",
        value=CardValue(a=action, id=c.id, v=c.version).encode(),
        confirm=confirm(action, c, partner),
        style="danger" if action is Action.REQUEST_DISCONNECT else None,
    )


def action_prompt(c: Customer, action: Action, partner: PartnerType) -> Message:
    """The answer to `/customers extend|nfr|disconnect <company>`: one button to confirm."""
    question = {
        Action.EXTEND_TRIAL: f"Extend *{esc(c.company)}*'s trial by {EXTENSION_DAYS} days?",
        Action.ASSIGN_NFR: f"Assign the NFR license to *{esc(c.company)}*? It cannot be moved later.",
        Action.REQUEST_DISCONNECT: f"Ask an approver to disconnect *{esc(c.company)}*?",
    }[action]
    blocks: list[Block] = [
        section(question),
        ActionsBlock(block_id="prompt", elements=[action_button(action, c, partner)]),
    ]
    return Message(text=question.replace("*", ""), blocks=blocks)


# --- modals ----------------------------------------------------------------------------


def _text_input(
    field: Field,
    title: str,
    *,
    initial: str | None = None,
    optional: bool = False,
    hint: str | None = None,
    placeholder: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=field.value,
        label=title,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id="value",
            initial_value=initial or None,
            max_length=320,
            placeholder=placeholder,
        ),
    )


def _data_centers(
    initial: DataCenter | None, choices: Sequence[DataCenter] = tuple(DataCenter)
) -> InputBlock:
    options = [Option(value=dc.value, label=f"{dc.label} ({dc.value.upper()})") for dc in choices]
    chosen = next((o for o in options if initial and o.value == initial.value), None)
    return InputBlock(
        block_id=Field.DATA_CENTER.value,
        label="Data center",
        element=StaticSelectElement(action_id="value", options=options, initial_option=chosen),
    )


def _view(callback: ModalId, title: str, submit: str, meta: ModalMeta, blocks: list[Block]) -> View:
    return View(
        type="modal",
        callback_id=callback.value,
        title=title,
        submit=submit,
        close="Cancel",
        private_metadata=meta.encode(),
        blocks=blocks,
    )


def add_modal(meta: ModalMeta) -> View:
    licences = [
        Option(value=t.value, label=t.label) for t in (LicenseType.ANNUAL, LicenseType.MONTHLY)
    ]
    return _view(
        ModalId.ADD,
        "Add a customer",
        "Add",
        meta,
        [
            _text_input(Field.COMPANY, "Company", placeholder="Acme Corporation"),
            _text_input(
                Field.SIGN_IN,
                "Customer sign-in account",
                optional=True,
                placeholder="it-admin@acme.example",
            ),
            InputBlock(
                block_id=Field.LICENSE.value,
                label="License type",
                element=StaticSelectElement(
                    action_id="value", options=licences, initial_option=licences[0]
                ),
            ),
        ],
    )


def provision_modal(
    c: Customer,
    meta: ModalMeta,
    *,
    trial: bool,
    data_centers: Sequence[DataCenter] = tuple(DataCenter),
) -> View:
    """`data_centers`: the ones the partner platform can provision in."""
    intro = (
        f"Start a free {TRIAL_DAYS}-day Vision One trial for *{esc(c.company)}*."
        if trial
        else f"Start a paid Vision One license for *{esc(c.company)}*."
    )
    auditor = _text_input(
        Field.AUDITOR,
        "User account for the Auditor role" if trial else "Auditor email",
        initial=c.auditor_account,
        optional=not trial,
        hint="This account gets read-only Auditor access to the customer's console.",
    )
    return _view(
        ModalId.TRIAL if trial else ModalId.PROVISION,
        "Start free trial" if trial else "Provision Vision One",
        "Start free trial" if trial else "Start paid license",
        meta,
        [section(intro), _data_centers(c.data_center, data_centers), auditor],
    )


def connect_modal(c: Customer, meta: ModalMeta) -> View:
    options = [
        Option(value=dc.value, label=f"{dc.label} ({dc.value.upper()})")
        for dc in DataCenter
        if dc.api_host is not None
    ]
    chosen = next((o for o in options if c.data_center and o.value == c.data_center.value), None)
    # Never pre-filled: a stored token is not shown again, only replaced.
    token = InputBlock(
        block_id=Field.API_TOKEN.value,
        label="API token",
        hint="From the customer's console: Administration → API Keys. It is stored "
        "encrypted, used only to read risk figures, and never shown again.",
        element=PlainTextInputElement(action_id="value", max_length=3000),
    )
    return _view(
        ModalId.CONNECT,
        "Connect Vision One",
        "Connect",
        meta,
        [
            section(
                f"Connect *{esc(c.company)}*'s existing Vision One: its region and an API "
                "token, so its Cyber Risk Index is pulled every few hours."
                + (" A new token replaces the stored one." if c.v1_connected else "")
            ),
            InputBlock(
                block_id=Field.DATA_CENTER.value,
                label="Region",
                element=StaticSelectElement(
                    action_id="value", options=options, initial_option=chosen
                ),
            ),
            token,
        ],
    )


def accounts_modal(c: Customer, meta: ModalMeta) -> View:
    pua = c.primary_user_account
    return _view(
        ModalId.ACCOUNTS,
        "Customer user accounts",
        "Save",
        meta,
        [
            section(f"User accounts of *{esc(c.company)}*."),
            _text_input(Field.SIGN_IN, "Customer sign-in account", initial=c.sign_in_account),
            _text_input(
                Field.PRIMARY_USER,
                "Transfer Primary User Account to" if pua else "Create Primary User Account",
                initial=pua,
                optional=True,
                hint="The Master Administrator of the customer's console; it cannot be deleted, "
                "only transferred.",
            ),
        ],
    )


def notice_view(title: str, text: str) -> View:
    """A modal turned into a message: used when a submission cannot go ahead."""
    return View(
        type="modal",
        title=clip(title, 24),
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=clip(text, 3000)))],
    )


def done(notice: str, card: Message) -> Message:
    """A card redrawn after an action, with what just happened on top."""
    return Message(text=notice, blocks=[section(notice), *card.blocks][:50])


def failed_note(c: Customer) -> list[Block]:
    if c.status is Status.FAILED and c.status_detail:
        return [context(f"⚠️ Provisioning failed: {esc(c.status_detail)}")]
    return []
