"""Who may use the bot, and as what. Roles are checked here, not only in the UI."""

# Actor and a_role live in store.actor; they are re-exported here for callers.

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import ScalarSelect

from store import audit
from store.actor import Actor, a_role

__all__ = [
    "CLI",
    "AccessPolicy",
    "Actor",
    "a_role",
    "grant",
    "list_grants",
    "resolve_actor",
    "revoke",
]
from store.enums import Action, Role
from store.errors import InvalidInput
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
class Who:
    """Who sent a request, before their role is looked up."""

    user_id: str
    external: bool = False
    name: str = ""
    channel_id: str | None = None


def granted_role(user_id: str | BindParameter[str]) -> ScalarSelect[Role | None]:
    """The role granted to `user_id`, as a subquery that can ride along in another query."""
    return select(AccessGrant.role).where(AccessGrant.user_id == user_id).scalar_subquery()


def actor_from(policy: AccessPolicy, who: Who, granted: Role | None) -> Actor:
    if who.external:
        role = None
    elif who.user_id in policy.admins:
        role = Role.ADMIN
    else:
        role = granted if granted is not None else policy.default_role
    return Actor(who.user_id, role, external=who.external, name=who.name, channel_id=who.channel_id)


def needs_lookup(policy: AccessPolicy, who: Who) -> bool:
    return not who.external and who.user_id not in policy.admins


async def resolve_actor(session: AsyncSession, policy: AccessPolicy, who: Who) -> Actor:
    granted = (
        await session.scalar(select(granted_role(who.user_id)))
        if needs_lookup(policy, who)
        else None
    )
    return actor_from(policy, who, granted)


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


CLI = Actor("cli", Role.ADMIN, name="overview-bot CLI")


async def grant(
    session: AsyncSession, actor: Actor | None, user_id: str, role: Role, granted_by: str
) -> AccessGrant:
    """Give `user_id` a role. `actor` None is the operator's shell, which is trusted."""
    actor = actor or CLI
    actor.require(Role.ADMIN)
    uid = check_user_id(user_id)
    row = await session.get(AccessGrant, uid)
    before = {"user": uid, "role": row.role.value if row else None}
    if row is None:
        row = AccessGrant(user_id=uid, role=role, granted_by=granted_by, granted_at=utcnow())
        session.add(row)
    else:
        row.role, row.granted_by, row.granted_at = role, granted_by, utcnow()
    await session.flush()
    after = {"user": uid, "role": role.value}
    await audit.record(session, actor, Action.GRANT_ROLE, before=before, after=after)
    return row


async def revoke(session: AsyncSession, actor: Actor | None, user_id: str) -> bool:
    """Remove a grant; the user falls back to the default role. False if there was none."""
    actor = actor or CLI
    actor.require(Role.ADMIN)
    uid = check_user_id(user_id)
    old = await session.scalar(select(AccessGrant.role).where(AccessGrant.user_id == uid))
    if old is None:
        return False
    await session.execute(delete(AccessGrant).where(AccessGrant.user_id == uid))
    before, after = {"user": uid, "role": old.value}, {"user": uid, "role": None}
    await audit.record(session, actor, Action.REVOKE_ROLE, before=before, after=after)
    return True


async def list_grants(session: AsyncSession, actor: Actor | None) -> Sequence[AccessGrant]:
    (actor or CLI).require(Role.ADMIN)
    rows = await session.scalars(select(AccessGrant).order_by(AccessGrant.user_id))
    return rows.all()
