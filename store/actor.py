"""The person asking, and what their role lets them do."""

from __future__ import annotations

from dataclasses import dataclass

from store.enums import Role
from store.errors import AccessDenied


@dataclass(frozen=True)
class Actor:
    """The person asking. `role` None means no access; `external` says why."""

    user_id: str
    role: Role | None
    external: bool = False
    name: str = ""  # as Slack showed it, for the audit log
    channel_id: str | None = None  # where they asked from, for the channel allow-list

    def require(self, needed: Role) -> None:
        if self.external:
            raise AccessDenied(
                "Customer Overview only answers members of the workspace that installed it."
            )
        if self.role is None:
            raise AccessDenied(
                "You don't have access to Customer Overview. Ask an admin to grant you a role."
            )
        if not self.role.allows(needed):
            raise AccessDenied(
                f"That needs the *{needed.value}* role; you are {a_role(self.role.value)}. "
                "Ask an admin if you need more."
            )

    def can(self, needed: Role) -> bool:
        return not self.external and self.role is not None and self.role.allows(needed)


def a_role(role: str) -> str:
    """`an *operator*`, `a *viewer*`."""
    return f"{'an' if role[:1] in 'aeiou' else 'a'} *{role}*"
