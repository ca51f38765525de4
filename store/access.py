"""Who may use the bot, and as what. Roles are checked here, not only in the UI."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.enums import Role
from store.errors import AccessDenied, InvalidInput
from store.models import AccessGrant, utcnow


@dataclass(frozen=True)
class AccessPolicy:
    """The workspace-wide part of access: who is admin, and what everyone else gets."""

    admins: frozenset[str]
    default_role: Role | None  # None: the bot is locked down to granted users

    @classmethod
    def of(cls, admins: Iterable[str], default_role: Role | None) -> AccessPolicy:
        return cls(frozenset(admins), default_role)


@dataclass(frozen=True)
class Actor:
    """The person asking. `role` None means no access; `external` says why."""

    user_id: str
    role: Role | None
    external: bool = False

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


async def resolve_actor(
    session: AsyncSession, policy: AccessPolicy, user_id: str, *, external: bool = False
) -> Actor:
    if external:
        return Actor(user_id, None, external=True)
    if user_id in policy.admins:
        return Actor(user_id, Role.ADMIN)
    granted = await session.scalar(select(AccessGrant.role).where(AccessGrant.user_id == user_id))
    return Actor(user_id, granted if granted is not None else policy.default_role)


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput(f"“{text}” is not a role. Roles: {roles}.") from None


def check_user_id(user_id: str) -> str:
    uid = user_id.strip()
    if not (uid[:1] in ("U", "W") and uid[1:].isalnum() and uid.isupper() and 3 <= len(uid) <= 32):
        raise InvalidInput(f"“{user_id}” is not a Slack user ID (they look like U0123ABCD).")
    return uid


async def grant(
    session: AsyncSession, actor: Actor | None, user_id: str, role: Role, granted_by: str
) -> AccessGrant:
    """Give `user_id` a role. `actor` None is the operator's shell, which is trusted."""
    if actor is not None:
        actor.require(Role.ADMIN)
    uid = check_user_id(user_id)
    row = await session.get(AccessGrant, uid)
    if row is None:
        row = AccessGrant(user_id=uid, role=role, granted_by=granted_by, granted_at=utcnow())
        session.add(row)
    else:
        row.role, row.granted_by, row.granted_at = role, granted_by, utcnow()
    await session.flush()
    return row


async def revoke(session: AsyncSession, actor: Actor | None, user_id: str) -> bool:
    """Remove a grant; the user falls back to the default role. False if there was none."""
    if actor is not None:
        actor.require(Role.ADMIN)
    uid = check_user_id(user_id)
    result = await session.execute(delete(AccessGrant).where(AccessGrant.user_id == uid))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def list_grants(session: AsyncSession, actor: Actor | None) -> Sequence[AccessGrant]:
    if actor is not None:
        actor.require(Role.ADMIN)
    rows = await session.scalars(select(AccessGrant).order_by(AccessGrant.user_id))
    return rows.all()
