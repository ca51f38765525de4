"""Operations that change customers. Each checks role, channel, state and version, calls
the partner platform and writes the audit entry inside one transaction, whoever calls.

Exactly once: a change is an UPDATE … WHERE version = <the version the person saw>, so a
double click, a retry or a replay of the same button finds the version moved and does nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store.actor import Actor
from store.db import Database
from store.enums import (
    Action,
    ApprovalStatus,
    ConnectionState,
    LicenseType,
    Origin,
    PartnerType,
    Role,
    Status,
)
from store.errors import AccessDenied, InvalidInput, NotFound, OverviewError
from store.models import (
    HOLDS_NFR,
    ActionChannel,
    Approval,
    Customer,
    VisionOneConnection,
    utcnow,
)
from store.names import clean_company, company_key
from store.platform import EXTENSION_DAYS, Licence, Platform, PlatformError
from store.regions import DataCenter
from store.rules import ROLE_NEEDED, not_offered, offered, why_not
from store.secrets import NO_KEY, TokenVault, check_token

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_COMPANY = 200


class Stale(OverviewError):
    """The customer changed since the person's card was drawn; nothing was done."""

    def __init__(self, message: str, customer_id: int) -> None:
        super().__init__(message)
        self.customer_id = customer_id


class AlreadyDecided(OverviewError):
    def __init__(self, message: str, approval: Approval) -> None:
        super().__init__(message)
        self.approval = approval


def check_email(value: str, what: str = "email") -> str:
    email = value.strip()
    if len(email) > 320 or not EMAIL.match(email):
        raise InvalidInput(f"“{email}” is not a valid {what} address.")
    return email


def check_company(value: str) -> str:
    name = clean_company(value)
    if not name:
        raise InvalidInput("Give the company a name.")
    if len(name) > MAX_COMPANY:
        raise InvalidInput(f"Company names can be at most {MAX_COMPANY} characters.")
    return name


@dataclass(frozen=True)
class Decision:
    approval: Approval
    customer: Customer
    expired: bool = False  # it had expired: recorded as expired, nothing else done
    already: bool = False  # someone decided it first: nothing done by this click

    @property
    def told(self) -> str | None:
        """What to tell the person who clicked, when it is not what they asked for."""
        if self.already or self.expired:
            return decided_text(self.approval)
        return None


@dataclass
class Operations:
    db: Database
    platform: Platform
    partner: PartnerType = PartnerType.MSP
    clock: Callable[[], dt.datetime] = utcnow
    approval_ttl: dt.timedelta = dt.timedelta(hours=24)
    vault: TokenVault | None = None  # None: no BOT_SECRET_KEY, so no API tokens stored

    # --- checks shared by every operation ---------------------------------------------

    async def _allowed_here(self, s: AsyncSession, actor: Actor) -> None:
        channels = (await s.scalars(select(ActionChannel.channel_id))).all()
        if channels and actor.channel_id not in channels:
            listed = ", ".join(f"<#{c}>" for c in sorted(channels))
            raise AccessDenied(f"Changes can only be made in {listed}.")

    async def _begin(self, s: AsyncSession, actor: Actor, action: Action) -> None:
        reason = not_offered(action, self.partner)
        if reason:
            raise InvalidInput(reason)
        actor.require(ROLE_NEEDED[action])
        await self._allowed_here(s, actor)

    async def _customer(
        self, s: AsyncSession, customer_id: int, version: int | None, action: Action | None
    ) -> Customer:
        c = await s.get(Customer, customer_id, populate_existing=True)
        if c is None:
            raise NotFound("That customer no longer exists.")
        if version is not None and c.version != version:
            raise Stale(
                f"Nothing was done: {c.company} changed since this was shown "
                f"(now {c.status.label.lower()}"
                + (f", expiring {c.expiration_date.isoformat()}" if c.expiration_date else "")
                + "). Here is the current card.",
                c.id,
            )
        holder = await self._nfr_holder(s) if action is Action.ASSIGN_NFR else None
        reason = why_not(action, c, self.partner, holder) if action else None
        if reason:
            raise InvalidInput(reason)
        return c

    async def _nfr_holder(self, s: AsyncSession) -> str | None:
        return await s.scalar(select(Customer.company).where(HOLDS_NFR))

    async def offered(self, actor: Actor, c: Customer) -> list[Action]:
        """The buttons to draw for this person on this customer's card."""
        if actor.external or actor.role is None:
            return []
        holder = None
        if actor.role.allows(ROLE_NEEDED[Action.ASSIGN_NFR]):
            async with self.db.session() as s:
                holder = await self._nfr_holder(s)
        return offered(c, self.partner, actor.role, holder)

    async def _change(self, s: AsyncSession, c: Customer, **values: Any) -> None:
        """Apply `values` only if nobody changed the customer since we read it."""
        result = await s.execute(
            update(Customer)
            .where(Customer.id == c.id, Customer.version == c.version)
            .values(**values, version=Customer.version + 1, updated_at=self.clock())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Stale(f"Nothing was done: {c.company} was changed at the same moment.", c.id)
        await s.refresh(c)

    async def _apply(
        self,
        s: AsyncSession,
        actor: Actor,
        action: Action,
        c: Customer,
        approval_id: int | None = None,
        detail: str | None = None,
        **values: Any,
    ) -> Customer:
        before = audit.state(c)
        await self._change(s, c, **values)
        old, new = audit.diff(before, audit.state(c))
        await audit.record(
            s,
            actor,
            action,
            customer=c,
            before=old,
            after=new,
            approval_id=approval_id,
            detail=detail,
            at=self.clock(),
        )
        return c

    async def check(
        self, actor: Actor, action: Action, customer_id: int | None, version: int | None
    ) -> Customer | None:
        """Everything `action` would check, without doing it: before a modal is opened."""
        async with self.db.session() as s:
            await self._begin(s, actor, action)
            if customer_id is None:
                return None
            return await self._customer(s, customer_id, version, action)

    # --- add ------------------------------------------------------------------------

    async def add_customer(
        self, actor: Actor, company: str, sign_in: str | None, license_type: LicenseType
    ) -> Customer:
        name = check_company(company)
        email = check_email(sign_in, "sign-in") if sign_in and sign_in.strip() else None
        if license_type is LicenseType.MONTHLY_NFR:
            raise InvalidInput(
                "Add the customer as Annual or Monthly, then assign the NFR licence."
            )
        key = company_key(name)
        # Checked before the platform is asked, and again in the transaction that writes:
        # a slow platform call holds no database lock.
        async with self.db.session() as s:
            await self._begin(s, actor, Action.ADD)
            await self._name_free(s, key)
        try:
            account = await self.platform.create_customer(name, email)
        except PlatformError as e:
            raise InvalidInput(f"The partner platform refused: {e.message}") from None
        platform_id = account.platform_id if account else None
        taken = f"{name} is already a customer." + (
            f" ({account.note} meanwhile; a sync links them.)" if account else ""
        )
        async with self.db.transaction() as s:
            await self._begin(s, actor, Action.ADD)
            await self._name_free(s, key, taken)
            now = self.clock()
            c = Customer(
                company=name,
                company_key=key,
                license_type=license_type,
                sign_in_account=email,
                status=Status.NOT_PROVISIONED,
                origin=Origin.MANUAL,
                created_at=now,
                updated_at=now,
                version=1,
                trial_extensions=0,
                is_nfr=False,
                v1_connected=False,
                lmp_customer_id=platform_id,
            )
            s.add(c)
            try:
                await s.flush()
            except IntegrityError:
                raise InvalidInput(taken) from None
            await audit.record(
                s,
                actor,
                Action.ADD,
                customer=c,
                before=None,
                after=audit.state(c),
                detail=account.note if account else None,
                at=now,
            )
            return c

    async def _name_free(self, s: AsyncSession, key: str, taken: str | None = None) -> None:
        existing = await s.scalar(select(Customer).where(Customer.company_key == key))
        if existing is not None:
            raise InvalidInput(taken or f"{existing.company} is already a customer.")

    # --- provision and trials ---------------------------------------------------------

    async def provision(
        self,
        actor: Actor,
        customer_id: int,
        version: int,
        data_center: DataCenter,
        auditor: str | None,
        *,
        trial: bool = False,
    ) -> Customer:
        """Provisioning → Active (or Trial), or Failed with the platform's reason.

        Two transactions: the first marks the customer Provisioning, so a second submit
        finds it busy; the second records what the platform answered.
        """
        action = Action.START_TRIAL if trial else Action.PROVISION
        if trial and not (auditor and auditor.strip()):
            raise InvalidInput("A trial needs the user account that receives the Auditor role.")
        auditor = check_email(auditor, "Auditor") if auditor and auditor.strip() else None
        if data_center not in self.platform.data_centers:
            raise InvalidInput(
                f"{self.platform.name} cannot provision in the {data_center.label} data center."
            )
        async with self.db.transaction() as s:
            await self._begin(s, actor, action)
            c = await self._customer(s, customer_id, version, action)
            await self._apply(
                s,
                actor,
                action,
                c,
                detail="requested",
                status=Status.PROVISIONING,
                data_center=data_center,
                auditor_account=auditor,
                status_detail=None,
            )
        linked: str | None = None  # a platform account created or found meanwhile
        try:
            licence = await self.platform.provision(c, data_center, auditor, trial=trial)
        except PlatformError as e:
            failure: str | None = e.message
            linked = e.platform_id
        except Exception as e:  # the platform broke: record it rather than stay Provisioning
            failure = f"unexpected error from {self.platform.name}: {type(e).__name__}"
        else:
            failure, linked = None, licence.platform_id
        answer = None if failure is not None else licence
        return await self.settle(actor, action, customer_id, None, answer, failure, linked)

    async def settle(
        self,
        actor: Actor,
        action: Action,
        customer_id: int,
        version: int | None,
        licence: Licence | None,
        failure: str | None,
        linked: str | None = None,
    ) -> Customer:
        """Record the outcome of a provisioning request: the licence, or the failure.
        With `version`, only while the customer is still as it was (else Stale)."""
        trial = action is Action.START_TRIAL
        by = self.platform.carried_out_by("provision")
        async with self.db.transaction() as s:
            c = await self._customer(s, customer_id, version, None)
            link = await self._link(s, c, linked)
            if failure is not None:
                return await self._apply(
                    s,
                    actor,
                    action,
                    c,
                    detail=f"failed at {by}: {failure}"[:500],
                    status=Status.FAILED,
                    status_detail=failure[:500],
                    **link,
                )
            assert licence is not None
            values: dict[str, Any] = {
                **link,
                "status": Status.TRIAL if trial else Status.ACTIVE,
                "license_start_date": licence.start,
                "expiration_date": licence.expires,
                "v1_connected": True,
            }
            if licence.console_url:
                values["service_url"] = licence.console_url
            if trial:
                values |= {"trial_start_date": licence.start, "trial_extensions": 0}
            if c.primary_user_account is None and c.sign_in_account:
                # The console creates the Primary User Account at first provisioning.
                values["primary_user_account"] = c.sign_in_account
            detail = f"done by {by}" + (f": {licence.note}" if licence.note else "")
            return await self._apply(s, actor, action, c, detail=detail, **values)

    async def _link(self, s: AsyncSession, c: Customer, platform_id: str | None) -> dict[str, Any]:
        """The values linking `c` to a platform account created or found for it meanwhile
        (none if it is linked already, or the account is another customer's)."""
        if platform_id is None or c.lmp_customer_id is not None:
            return {}
        taken = await s.scalar(select(Customer.id).where(Customer.lmp_customer_id == platform_id))
        return {} if taken is not None else {"lmp_customer_id": platform_id}

    async def extend_trial(self, actor: Actor, customer_id: int, version: int) -> Customer:
        async with self.db.transaction() as s:
            await self._begin(s, actor, Action.EXTEND_TRIAL)
            c = await self._customer(s, customer_id, version, Action.EXTEND_TRIAL)
            expires = await self._platform(self.platform.extend_trial(c, EXTENSION_DAYS))
            return await self._apply(
                s,
                actor,
                Action.EXTEND_TRIAL,
                c,
                detail=self._by("extend_trial"),
                expiration_date=expires,
                trial_extensions=c.trial_extensions + 1,
            )

    async def assign_nfr(self, actor: Actor, customer_id: int, version: int) -> Customer:
        """Claim (bump the version, so a second click is stale), ask the platform outside
        any transaction, then record its answer if nothing changed meanwhile."""
        async with self.db.transaction() as s:
            await self._begin(s, actor, Action.ASSIGN_NFR)
            c = await self._customer(s, customer_id, version, Action.ASSIGN_NFR)
            await self._change(s, c)
        claimed = c.version
        licence = await self._platform(self.platform.assign_nfr(c))
        by = self._by("assign_nfr", licence.note)
        try:
            return await self._record_nfr(actor, customer_id, claimed, licence, by)
        except OverviewError as e:  # the platform did it: that must not go unrecorded
            async with self.db.transaction() as s:
                await audit.record(
                    s,
                    actor,
                    Action.ASSIGN_NFR,
                    customer=await s.get(Customer, customer_id),
                    detail=f"{by}; not recorded here: {e.message}"[:1000],
                    at=self.clock(),
                )
            raise InvalidInput(
                f"The platform assigned the NFR licence ({by}), but it could not be "
                f"recorded: {e.message}"
            ) from None

    async def _record_nfr(
        self, actor: Actor, customer_id: int, version: int, licence: Licence, by: str
    ) -> Customer:
        async with self.db.transaction() as s:
            c = await self._customer(s, customer_id, version, Action.ASSIGN_NFR)
            try:
                return await self._apply(
                    s,
                    actor,
                    Action.ASSIGN_NFR,
                    c,
                    detail=by,
                    is_nfr=True,
                    license_type=LicenseType.MONTHLY_NFR,
                    license_start_date=licence.start,
                    expiration_date=licence.expires,
                    **(await self._link(s, c, licence.platform_id)),
                )
            except IntegrityError:  # someone assigned it elsewhere at the same moment
                raise InvalidInput("The partner's one NFR licence was just assigned.") from None

    async def connect(
        self, actor: Actor, customer_id: int, version: int, data_center: DataCenter, token: str
    ) -> Customer:
        """Connect (or reconnect) a customer's Vision One: its region and a sealed API token.

        A new token replaces the old one; the token itself goes nowhere but the sealed column.
        """
        actor.require(ROLE_NEEDED[Action.CONNECT])  # before saying anything about the input
        token = check_token(token)
        if data_center.api_host is None:
            raise InvalidInput(
                f"Vision One has no public API in {data_center.label}; choose the region "
                "whose console the customer signs in to."
            )
        if self.vault is None:
            raise InvalidInput(NO_KEY)
        sealed = self.vault.seal(token)
        async with self.db.transaction() as s:
            await self._begin(s, actor, Action.CONNECT)
            c = await self._customer(s, customer_id, version, Action.CONNECT)
            await self._platform(self.platform.connect(c, data_center))
            now = self.clock()
            conn = await s.get(VisionOneConnection, c.id, populate_existing=True)
            replaced = conn is not None
            if conn is None:
                conn = VisionOneConnection(customer_id=c.id)
                s.add(conn)
            conn.region = data_center
            conn.sealed_token = sealed
            conn.state = ConnectionState.NEW
            conn.connected_by = actor.user_id
            conn.connected_at = now
            conn.last_error = None
            values: dict[str, Any] = {"v1_connected": True, "data_center": data_center}
            if c.status in (Status.NOT_PROVISIONED, Status.FAILED, Status.EXPIRED):
                values["status"] = Status.ACTIVE
            token = f"API token {'replaced' if replaced else 'stored'} ({data_center.value})"
            detail = f"{token} · {self._by('connect')}"
            return await self._apply(s, actor, Action.CONNECT, c, detail=detail, **values)

    async def update_accounts(
        self,
        actor: Actor,
        customer_id: int,
        version: int,
        sign_in: str | None,
        primary_user: str | None,
    ) -> Customer:
        """Change the sign-in account and/or the Primary User Account (create or transfer)."""
        sign_in = check_email(sign_in, "sign-in") if sign_in and sign_in.strip() else None
        primary_user = (
            check_email(primary_user, "Primary User Account")
            if primary_user and primary_user.strip()
            else None
        )
        async with self.db.transaction() as s:
            await self._begin(s, actor, Action.UPDATE_SIGN_IN)
            c = await self._customer(s, customer_id, version, Action.UPDATE_SIGN_IN)
            if sign_in is not None and sign_in != c.sign_in_account:
                await self._platform(self.platform.update_sign_in(c, sign_in))
                await self._apply(
                    s,
                    actor,
                    Action.UPDATE_SIGN_IN,
                    c,
                    detail=self._by("update_sign_in"),
                    sign_in_account=sign_in,
                )
            if primary_user is not None and primary_user != c.primary_user_account:
                await self._platform(self.platform.set_primary_user(c, primary_user))
                detail = "created" if c.primary_user_account is None else "ownership transferred"
                await self._apply(
                    s,
                    actor,
                    Action.SET_PRIMARY_USER,
                    c,
                    detail=f"{detail}; {self._by('set_primary_user')}",
                    primary_user_account=primary_user,
                )
            return c

    def _by(self, operation: str, note: str | None = None) -> str:
        """The audit detail naming who carried `operation` out, and what it answered."""
        return f"by {self.platform.carried_out_by(operation)}" + (f": {note}" if note else "")

    async def _platform(self, call: Any) -> Any:
        try:
            return await call
        except PlatformError as e:
            raise InvalidInput(f"The partner platform refused: {e.message}") from None

    # --- disconnect, behind a second person's approval --------------------------------

    async def request_disconnect(self, actor: Actor, customer_id: int, version: int) -> Approval:
        async with self.db.transaction() as s:
            await self._begin(s, actor, Action.REQUEST_DISCONNECT)
            c = await self._customer(s, customer_id, version, Action.REQUEST_DISCONNECT)
            pending = await s.scalar(
                select(Approval).where(
                    Approval.customer_id == c.id, Approval.status == ApprovalStatus.PENDING
                )
            )
            if pending is not None:
                raise InvalidInput(
                    f"<@{pending.requested_by}> already asked to disconnect {c.company}; "
                    "it is waiting for approval."
                )
            now = self.clock()
            approval = Approval(
                customer_id=c.id,
                action=Action.REQUEST_DISCONNECT,
                status=ApprovalStatus.PENDING,
                requested_by=actor.user_id,
                requested_by_name=actor.name or actor.user_id,
                requested_at=now,
                expires_at=now + self.approval_ttl,
                customer_version=c.version,
            )
            s.add(approval)
            try:
                await s.flush()
            except IntegrityError:
                raise InvalidInput(f"Someone just asked to disconnect {c.company}.") from None
            await audit.record(
                s, actor, Action.REQUEST_DISCONNECT, customer=c, approval_id=approval.id, at=now
            )
            approval.customer = c
            return approval

    async def attach_message(self, approval_id: int, channel_id: str, ts: str) -> None:
        async with self.db.transaction() as s:
            await s.execute(
                update(Approval)
                .where(Approval.id == approval_id)
                .values(channel_id=channel_id, message_ts=ts)
            )

    async def cancel_request(self, approval_id: int, reason: str) -> None:
        """Withdraw a request nobody could see (posting it failed); audited, not deleted."""
        async with self.db.transaction() as s:
            a = await s.get(Approval, approval_id)
            c = await s.get(Customer, a.customer_id) if a else None
            if a is None or c is None:
                return
            try:
                await self._close(s, a, c, ApprovalStatus.CANCELLED, audit.SYSTEM, self.clock())
            except AlreadyDecided:
                return
            await audit.record(
                s,
                audit.SYSTEM,
                Action.REQUEST_DISCONNECT,
                customer=c,
                approval_id=a.id,
                detail=f"withdrawn: could not be posted ({reason})",
                at=self.clock(),
            )

    async def get_approval(self, approval_id: int) -> Approval:
        async with self.db.session() as s:
            a = await s.get(Approval, approval_id)
            if a is None:
                raise NotFound("That request no longer exists.")
            await s.refresh(a, ["customer"])
            return a

    async def decide(self, actor: Actor, approval_id: int, approve: bool) -> Decision:
        action = Action.APPROVE_DISCONNECT if approve else Action.REJECT_DISCONNECT
        actor.require(Role.VIEWER)  # outsiders learn nothing, not even who decided
        async with self.db.transaction() as s:
            a = await s.get(Approval, approval_id, populate_existing=True)
            if a is None:
                raise NotFound("That request no longer exists.")
            c = await s.get(Customer, a.customer_id, populate_existing=True)
            assert c is not None  # approvals cascade with their customer
            a.customer = c
            if a.status is not ApprovalStatus.PENDING:
                return Decision(a, c, already=True)
            if actor.user_id == a.requested_by:
                raise AccessDenied(
                    "You asked for this disconnect; another approver must decide it."
                )
            # No channel check: the request was posted where it is decided.
            actor.require(ROLE_NEEDED[action])
            now = self.clock()
            if now >= a.expires_at:
                await self._close(s, a, c, ApprovalStatus.EXPIRED, audit.SYSTEM, now)
                return Decision(a, c, expired=True)
            status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
            try:
                await self._close(s, a, c, status, actor, now)
            except AlreadyDecided:  # a concurrent click won; this one changed nothing
                return Decision(a, c, already=True)
            if approve:
                reason = why_not(Action.REQUEST_DISCONNECT, c, self.partner)
                if reason:
                    raise InvalidInput(f"Nothing was done: {reason}")
                await self._platform(self.platform.disconnect(c))
                detail = f"requested by {a.requested_by_name}; {self._by('disconnect')}"
                # A customer who has gone has no use for its API token: not kept at rest.
                dropped = await s.execute(
                    delete(VisionOneConnection).where(VisionOneConnection.customer_id == c.id)
                )
                if dropped.rowcount:  # type: ignore[attr-defined]
                    detail += "; its Vision One API token deleted"
                await self._apply(
                    s,
                    actor,
                    Action.DISCONNECT,
                    c,
                    approval_id=a.id,
                    detail=detail,
                    status=Status.DISCONNECTED,
                )
            return Decision(a, c)

    async def _close(
        self,
        s: AsyncSession,
        a: Approval,
        c: Customer,
        status: ApprovalStatus,
        actor: Actor,
        now: dt.datetime,
    ) -> None:
        """Decide a pending approval once: a concurrent decision finds it decided."""
        result = await s.execute(
            update(Approval)
            .where(Approval.id == a.id, Approval.status == ApprovalStatus.PENDING)
            .values(
                status=status,
                decided_by=actor.user_id,
                decided_by_name=actor.name or actor.user_id,
                decided_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        await s.refresh(a)
        a.customer = c
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise AlreadyDecided(decided_text(a), a)
        action = {
            ApprovalStatus.APPROVED: Action.APPROVE_DISCONNECT,
            ApprovalStatus.REJECTED: Action.REJECT_DISCONNECT,
            ApprovalStatus.EXPIRED: Action.EXPIRE_DISCONNECT,
        }.get(status)
        if action is not None:
            await audit.record(s, actor, action, customer=c, approval_id=a.id, at=now)

    async def expire_due(self) -> list[Approval]:
        """Mark pending approvals past their time as expired (not rejected)."""
        now = self.clock()
        async with self.db.transaction() as s:
            due = (
                await s.scalars(
                    select(Approval).where(
                        Approval.status == ApprovalStatus.PENDING, Approval.expires_at <= now
                    )
                )
            ).all()
            expired = []
            for a in due:
                c = await s.get(Customer, a.customer_id)
                assert c is not None
                try:
                    await self._close(s, a, c, ApprovalStatus.EXPIRED, audit.SYSTEM, now)
                except AlreadyDecided:
                    continue
                expired.append(a)
            return expired

    async def pending_count(self) -> int:
        async with self.db.session() as s:
            n = await s.scalar(
                select(func.count()).where(Approval.status == ApprovalStatus.PENDING)
            )
            return n or 0

    # --- where changes may be made ------------------------------------------------------

    async def allow_channel(self, actor: Actor, channel_id: str, allow: bool) -> list[str]:
        action = Action.ALLOW_CHANNEL if allow else Action.DISALLOW_CHANNEL
        actor.require(Role.ADMIN)
        async with self.db.transaction() as s:
            row = await s.get(ActionChannel, channel_id)
            if allow and row is None:
                s.add(ActionChannel(channel_id=channel_id, added_by=actor.user_id))
            elif not allow and row is not None:
                await s.delete(row)
            else:
                return await self._channels(s)
            await audit.record(s, actor, action, detail=channel_id, at=self.clock())
            return await self._channels(s)

    async def channels(self, actor: Actor) -> list[str]:
        actor.require(Role.VIEWER)
        async with self.db.session() as s:
            return await self._channels(s)

    async def _channels(self, s: AsyncSession) -> list[str]:
        await s.flush()
        return list(
            (await s.scalars(select(ActionChannel.channel_id).order_by("channel_id"))).all()
        )


def decided_text(a: Approval) -> str:
    who = f"<@{a.decided_by}>" if a.decided_by and a.decided_by != "system" else "nobody in time"
    when = f" at {a.decided_at:%Y-%m-%d %H:%M} UTC" if a.decided_at else ""
    if a.status is ApprovalStatus.EXPIRED:
        return f"This request expired{when}; nothing was done."
    return f"Already {a.status.value} by {who}{when}."
