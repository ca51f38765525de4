"""Domain vocabularies, each with the words the console uses."""

from __future__ import annotations

import enum


class LicenseType(enum.StrEnum):
    ANNUAL = "annual"
    MONTHLY = "monthly"
    MONTHLY_NFR = "monthly_nfr"

    @property
    def label(self) -> str:
        return _LICENSE_LABELS[self]


class Status(enum.StrEnum):
    """Vision One status of a customer."""

    NOT_PROVISIONED = "not_provisioned"
    PROVISIONING = "provisioning"
    FAILED = "failed"
    ACTIVE = "active"
    TRIAL = "trial"
    EXPIRED = "expired"
    DISCONNECTED = "disconnected"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


class Level(enum.StrEnum):
    """Exposure and Security Configuration levels."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]

    @property
    def rank(self) -> int:
        return {"low": 1, "medium": 2, "high": 3}[self.value]


# Labels are looked up per row of every list: computed once here.
_LICENSE_LABELS = {
    LicenseType.ANNUAL: "Annual",
    LicenseType.MONTHLY: "Monthly",
    LicenseType.MONTHLY_NFR: "Monthly (NFR)",
}
_STATUS_LABELS = {s: s.value.replace("_", " ").capitalize() for s in Status}
_LEVEL_LABELS = {lv: lv.value.capitalize() for lv in Level}


class Origin(enum.StrEnum):
    MANUAL = "manual"
    IMPORTED = "imported"
    LMP = "lmp"  # synced from Trend's Licensing Management Platform

    @property
    def label(self) -> str:
        return {"manual": "Created manually", "imported": "Imported", "lmp": "From LMP"}[self.value]


class Role(enum.StrEnum):
    """Ordered: each role can do what the roles before it can."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


class SnapshotSource(enum.StrEnum):
    IMPORT = "import"
    MANUAL = "manual"
    VISION_ONE = "vision_one"


def cri_band(cri: int | None) -> Level | None:
    """Cyber Risk Index band: Low 0-30, Medium 31-69, High 70-100."""
    if cri is None:
        return None
    if cri <= 30:
        return Level.LOW
    if cri <= 69:
        return Level.MEDIUM
    return Level.HIGH


# CRI bounds per band, used by filters and summaries.
CRI_BANDS: dict[Level, tuple[int, int]] = {
    Level.LOW: (0, 30),
    Level.MEDIUM: (31, 69),
    Level.HIGH: (70, 100),
}


class ConnectionState(enum.StrEnum):
    """How the last pull of a customer's Vision One figures went."""

    NEW = "new"  # connected, not synced yet
    OK = "ok"
    NEEDS_TOKEN = "needs_token"  # 401/403, or the token cannot be read: connect again
    FAILING = "failing"  # the API failed; the last known figures stay

    @property
    def label(self) -> str:
        return _CONNECTION_LABELS[self]


_CONNECTION_LABELS = {
    ConnectionState.NEW: "not synced yet",
    ConnectionState.OK: "syncing",
    ConnectionState.NEEDS_TOKEN: "needs a new API token",
    ConnectionState.FAILING: "last sync failed",
}


class PartnerType(enum.StrEnum):
    MSP = "msp"
    DFIR = "dfir"


class ApprovalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # could not be put before an approver (posting failed)


class Action(enum.StrEnum):
    """Everything that changes a customer or access, as the audit log names it."""

    ADD = "add"
    PROVISION = "provision"
    START_TRIAL = "start_trial"
    EXTEND_TRIAL = "extend_trial"
    ASSIGN_NFR = "assign_nfr"
    CONNECT = "connect"
    UPDATE_SIGN_IN = "update_sign_in"
    SET_PRIMARY_USER = "set_primary_user"
    REQUEST_DISCONNECT = "request_disconnect"
    APPROVE_DISCONNECT = "approve_disconnect"
    REJECT_DISCONNECT = "reject_disconnect"
    EXPIRE_DISCONNECT = "expire_disconnect"
    DISCONNECT = "disconnect"
    GRANT_ROLE = "grant_role"
    REVOKE_ROLE = "revoke_role"
    ALLOW_CHANNEL = "allow_channel"
    DISALLOW_CHANNEL = "disallow_channel"
    SUBSCRIBE_DIGEST = "subscribe_digest"
    UNSUBSCRIBE_DIGEST = "unsubscribe_digest"
    LMP_SYNC = "lmp_sync"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()
