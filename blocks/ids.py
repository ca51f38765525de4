"""Action ids and the typed values buttons carry."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from store.errors import InvalidInput


class ActionId(enum.StrEnum):
    LIST_PAGE = "customers_list_page"
    PICK = "customers_pick"
    VIEW_CONSOLE = "customer_view_console"


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

    q: str = Field(default="", max_length=1500)
    p: int = Field(default=0, ge=0, le=100_000)
    pub: bool = False


class PickValue(_Value):
    """A customer chosen from a pick list, and what to show for it."""

    a: PickFor
    id: int = Field(ge=1)
    pub: bool = False
