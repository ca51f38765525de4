from __future__ import annotations

import pytest

from store import access
from store.access import AccessPolicy, Actor, Who
from store.db import Database
from store.enums import Role
from store.errors import AccessDenied, InvalidInput

POLICY = AccessPolicy.of({"U0BOSS"}, Role.VIEWER)


async def test_roles_resolve_admin_grant_default(db: Database) -> None:
    async with db.transaction() as s:
        await access.grant(s, None, "U0OPS", Role.OPERATOR, granted_by="cli")
        await access.grant(s, None, "U0BOSS", Role.VIEWER, granted_by="cli")
    async with db.session() as s:
        assert (await access.resolve_actor(s, POLICY, Who("U0BOSS"))).role is Role.ADMIN
        assert (await access.resolve_actor(s, POLICY, Who("U0OPS"))).role is Role.OPERATOR
        assert (await access.resolve_actor(s, POLICY, Who("U0NEW"))).role is Role.VIEWER
        locked = AccessPolicy.of(set(), None)
        assert (await access.resolve_actor(s, locked, Who("U0NEW"))).role is None
        outsider = await access.resolve_actor(s, POLICY, Who("U0BOSS", external=True))
        assert outsider.role is None and outsider.external


async def test_grant_twice_updates_and_revoke_falls_back(db: Database) -> None:
    async with db.transaction() as s:
        await access.grant(s, None, "U0A", Role.OPERATOR, granted_by="cli")
        await access.grant(s, None, "U0A", Role.APPROVER, granted_by="U0BOSS")
    async with db.session() as s:
        [g] = await access.list_grants(s, None)
        assert (g.role, g.granted_by) == (Role.APPROVER, "U0BOSS")
    async with db.transaction() as s:
        assert await access.revoke(s, None, "U0A") is True
        assert await access.revoke(s, None, "U0A") is False


async def test_only_admins_manage_access_and_nothing_is_written(db: Database) -> None:
    async with db.transaction() as s:
        with pytest.raises(
            AccessDenied, match="needs the \\*admin\\* role; you are an \\*operator\\*"
        ):
            await access.grant(s, Actor("U0X", Role.OPERATOR), "U0Y", Role.ADMIN, granted_by="U0X")
    async with db.session() as s:
        assert await access.list_grants(s, None) == []


@pytest.mark.parametrize("bad", ["", "u0lower", "C0CHANNEL", "U0 SPACE", "@bob"])
def test_user_ids_are_checked(bad: str) -> None:
    with pytest.raises(InvalidInput):
        access.check_user_id(bad)


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.allows(Role.APPROVER) and Role.APPROVER.allows(Role.OPERATOR)
    assert not Role.VIEWER.allows(Role.OPERATOR)
    with pytest.raises(InvalidInput, match="Roles: viewer, operator, approver, admin"):
        access.parse_role("boss")
