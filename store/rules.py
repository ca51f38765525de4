"""Which action fits which customer, for which partner and role. Pure: no I/O.

The same answers decide which buttons are drawn and what the operations accept.
"""

from __future__ import annotations

from store.enums import Action, Origin, PartnerType, Role, Status
from store.models import Customer

CUSTOMER_ACTIONS = (
    Action.PROVISION,
    Action.START_TRIAL,
    Action.EXTEND_TRIAL,
    Action.ASSIGN_NFR,
    Action.CONNECT,
    Action.UPDATE_SIGN_IN,
    Action.REQUEST_DISCONNECT,
)

_ALL_PARTNERS = {
    Action.ADD,
    Action.PROVISION,
    Action.ASSIGN_NFR,
    Action.CONNECT,
    Action.UPDATE_SIGN_IN,
    Action.SET_PRIMARY_USER,
    Action.REQUEST_DISCONNECT,
    Action.APPROVE_DISCONNECT,
    Action.REJECT_DISCONNECT,
}
AVAILABLE = {
    PartnerType.MSP: frozenset(_ALL_PARTNERS),
    PartnerType.DFIR: frozenset(_ALL_PARTNERS | {Action.START_TRIAL, Action.EXTEND_TRIAL}),
}

ROLE_NEEDED = {
    Action.ADD: Role.OPERATOR,
    Action.PROVISION: Role.OPERATOR,
    Action.START_TRIAL: Role.OPERATOR,
    Action.EXTEND_TRIAL: Role.OPERATOR,
    Action.CONNECT: Role.OPERATOR,
    Action.UPDATE_SIGN_IN: Role.OPERATOR,
    Action.SET_PRIMARY_USER: Role.OPERATOR,
    Action.REQUEST_DISCONNECT: Role.OPERATOR,
    Action.APPROVE_DISCONNECT: Role.APPROVER,
    Action.REJECT_DISCONNECT: Role.APPROVER,
    Action.ASSIGN_NFR: Role.ADMIN,
    Action.GRANT_ROLE: Role.ADMIN,
    Action.REVOKE_ROLE: Role.ADMIN,
    Action.ALLOW_CHANNEL: Role.ADMIN,
    Action.DISALLOW_CHANNEL: Role.ADMIN,
}

PROVISIONED = (Status.ACTIVE, Status.TRIAL)


def not_offered(action: Action, partner: PartnerType) -> str | None:
    if action in AVAILABLE[partner]:
        return None
    other = "DFIR" if partner is PartnerType.MSP else "MSP"
    return (
        f"{action.label} is for {other} partners; this bot is set up for {partner.value.upper()}."
    )


def why_not(
    action: Action, c: Customer, partner: PartnerType, nfr_holder: str | None = None
) -> str | None:
    """Why `action` does not fit customer `c` now, or None when it does.

    `nfr_holder`: the company that holds the partner's one NFR licence, if any.
    """
    reason = not_offered(action, partner)
    if reason:
        return reason
    name, status = c.company, c.status
    if status is Status.DISCONNECTED:
        return f"{name} was disconnected."
    if action in (Action.PROVISION, Action.START_TRIAL):
        if status is Status.PROVISIONING:
            return f"{name} is already being provisioned."
        if status in PROVISIONED:
            return f"{name} already has Vision One ({status.label})."
        if action is Action.START_TRIAL and status is Status.EXPIRED:
            return f"{name} already had a trial; provision a paid licence instead."
        return None
    if action is Action.EXTEND_TRIAL:
        if status is not Status.TRIAL:
            return f"Only trials can be extended; {name} is {status.label.lower()}."
        return None
    if action is Action.ASSIGN_NFR:
        if c.is_nfr:
            return f"{name} already has the NFR licence."
        if nfr_holder is not None:
            return (
                f"The partner's one NFR licence is already assigned to {nfr_holder}; "
                "it cannot be moved."
            )
        if status not in PROVISIONED:
            return f"Provision Vision One for {name} before assigning the NFR licence."
        return None
    if action is Action.CONNECT:
        # Also for connected customers: connecting again replaces the API token.
        if status is Status.PROVISIONING:
            return f"{name} is being provisioned; connect once that is done."
        return None
    if action in (Action.UPDATE_SIGN_IN, Action.SET_PRIMARY_USER):
        if status not in PROVISIONED:
            return f"Accounts can be managed once Vision One is provisioned; {name} is {status.label.lower()}."
        return None
    if action is Action.REQUEST_DISCONNECT:
        if partner is PartnerType.MSP and c.origin is not Origin.MANUAL:
            return (
                f"Only customers created manually can be disconnected; {name} was {c.origin.value}."
            )
        return None
    return None


def offered(
    c: Customer, partner: PartnerType, role: Role | None, nfr_holder: str | None = None
) -> list[Action]:
    """The customer actions this person may take on `c` now, in card order."""
    if role is None:
        return []
    return [
        a
        for a in CUSTOMER_ACTIONS
        if role.allows(ROLE_NEEDED[a]) and why_not(a, c, partner, nfr_holder) is None
    ]
