"""Action ids and the typed values buttons carry."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic import Field as Bounded

from store.enums import Action
from store.errors import InvalidInput


class ActionId(enum.StrEnum):
    LIST_PAGE = "customers_list_page"
    PICK = "customers_pick"
    VIEW_CONSOLE = "customer_view_console"
    CARD = "card"  # card:<action>, one per customer action
    APPROVE = "approval_approve"
    REJECT = "approval_reject"


class ModalId(enum.StrEnum):
    ADD = "modal_add"
    PROVISION = "modal_provision"
    TRIAL = "modal_trial"
    CONNECT = "modal_connect"
    ACCOUNTS = "modal_accounts"


class Field(enum.StrEnum):
    """Input block ids, also the keys of field errors."""

    COMPANY = "company"
    SIGN_IN = "sign_in"
    LICENSE = "license"
    DATA_CENTER = "data_center"
    AUDITOR = "auditor"
    PRIMARY_USER = "primary_user"
    API_TOKEN = "api_token"


class PickFor(enum.StrEnum):
    SHOW = "show"
    RISK = "risk"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def encode(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def decode(cls, raw: object) -> _Value:
        try:
            return cls.model_validate_json(raw if isinstance(raw, str | bytes) else "")
        except ValidationError:
            raise InvalidInput("That button is out of date. Run the command again.") from None


class ListPageValue(_Value):
    """A list page: the filter words and the 0-based page it points to."""

    q: str = Bounded(default="", max_length=1500)
    p: int = Bounded(default=0, ge=0, le=100_000)
    pub: bool = False


class PickValue(_Value):
    """A customer chosen from a pick list, and what to show for it."""

    a: PickFor
    id: int = Bounded(ge=1)
    pub: bool = False


class CardValue(_Value):
    """A customer action button: which action, on which customer, at which version."""

    a: Action
    id: int = Bounded(ge=1)
    v: int = Bounded(ge=1)


class ApprovalValue(_Value):
    id: int = Bounded(ge=1)


class ModalMeta(_Value):
    """A modal's private_metadata: what it acts on and where to answer."""

    id: int | None = Bounded(default=None, ge=1)
    v: int | None = Bounded(default=None, ge=1)
    ch: str | None = Bounded(default=None, max_length=32)  # the channel it was opened from
    ru: str | None = Bounded(default=None, max_length=2000)  # response_url of that message
