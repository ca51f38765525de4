"""Tables. Operations live in their own modules; this file is only the shape."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.enums import (
    Action,
    ApprovalStatus,
    ConnectionState,
    Level,
    LicenseType,
    Origin,
    Role,
    SnapshotSource,
    Status,
)
from store.regions import DataCenter

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _enum(cls: type[enum.Enum], length: int = 20) -> SAEnum:
    # Stored as plain strings (the enum values) so both backends read the same rows.
    return SAEnum(
        cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company: Mapped[str] = mapped_column(String(200))
    # Case-folded company name: the key for lookups and the import's upsert.
    company_key: Mapped[str] = mapped_column(String(200), unique=True)
    license_type: Mapped[LicenseType | None] = mapped_column(_enum(LicenseType))
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.NOT_PROVISIONED)
    cri: Mapped[int | None] = mapped_column(Integer)
    exposure: Mapped[Level | None] = mapped_column(_enum(Level))
    security_configuration: Mapped[Level | None] = mapped_column(_enum(Level))
    expiration_date: Mapped[dt.date | None] = mapped_column(Date)
    sign_in_account: Mapped[str | None] = mapped_column(String(320))

    origin: Mapped[Origin] = mapped_column(_enum(Origin))
    data_center: Mapped[DataCenter | None] = mapped_column(_enum(DataCenter))
    license_start_date: Mapped[dt.date | None] = mapped_column(Date)
    trial_start_date: Mapped[dt.date | None] = mapped_column(Date)
    trial_extensions: Mapped[int] = mapped_column(Integer, default=0)
    is_nfr: Mapped[bool] = mapped_column(Boolean, default=False)
    primary_user_account: Mapped[str | None] = mapped_column(String(320))
    auditor_account: Mapped[str | None] = mapped_column(String(320))
    v1_connected: Mapped[bool] = mapped_column(Boolean, default=False)
    v1_company_id: Mapped[str | None] = mapped_column(String(64))

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Bumped by every change: a card drawn from version N can tell it is stale.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # What the partner platform said when provisioning last failed. (Declared last, as
    # migration 0002 added it: the SELECT then matches the table's own column order.)
    status_detail: Mapped[str | None] = mapped_column(String(500))
    # Trend's Licensing Management Platform (migration 0005): the customer's LMP id, its
    # Vision One console link, and since when LMP no longer lists it (never deleted silently).
    lmp_customer_id: Mapped[str | None] = mapped_column(String(64))
    service_url: Mapped[str | None] = mapped_column(String(500))
    lmp_missing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    snapshots: Mapped[list[RiskSnapshot]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint("cri IS NULL OR (cri >= 0 AND cri <= 100)", name="cri_range"),
        CheckConstraint("trial_extensions >= 0", name="trial_extensions_nonneg"),
        # A partner has one NFR licence: at most one customer holds it.
        Index(
            "uq_customer_one_nfr",
            "is_nfr",
            unique=True,
            sqlite_where=text("is_nfr"),
            postgresql_where=text("is_nfr"),
        ),
        Index("ix_customer_cri", "cri"),
        Index("ix_customer_expiration_date", "expiration_date"),
        # An index, not a constraint: SQLite adds it without rebuilding the table (a
        # rebuild drops the table's triggers, see migration 0004).
        Index("uq_customer_lmp_customer_id", "lmp_customer_id", unique=True),
    )


# "Holds the NFR licence", written exactly as uq_customer_one_nfr's WHERE so that both
# databases use that partial index (SQLAlchemy renders `is_nfr = 1` on SQLite, which misses it).
HOLDS_NFR = text("customer.is_nfr")


class RiskSnapshot(Base):
    __tablename__ = "risk_snapshot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    cri: Mapped[int | None] = mapped_column(Integer)
    exposure: Mapped[Level | None] = mapped_column(_enum(Level))
    security_configuration: Mapped[Level | None] = mapped_column(_enum(Level))
    source: Mapped[SnapshotSource] = mapped_column(_enum(SnapshotSource))
    # From Vision One only (migration 0004): the attack level and the top risk events,
    # each {"factor", "eventCount", "affectedAssetCount"}.
    attack: Mapped[Level | None] = mapped_column(_enum(Level))
    events: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    customer: Mapped[Customer] = relationship(back_populates="snapshots")

    __table_args__ = (Index("ix_risk_snapshot_customer_taken", "customer_id", "taken_at"),)


class CustomerTotal(Base):
    """How many customers there are, kept by database triggers (migration 0004).

    An exact count(*) of every customer costs PostgreSQL a scan on each unfiltered
    `/customers list`; the triggers keep this one row right whoever writes.
    """

    __tablename__ = "customer_total"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


class VisionOneConnection(Base):
    """A customer's Vision One API access: region, sealed token, how the last sync went."""

    __tablename__ = "vision_one_connection"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[DataCenter] = mapped_column(_enum(DataCenter))
    # Fernet ciphertext (store/secrets.py); never the token itself.
    sealed_token: Mapped[str] = mapped_column(Text)
    state: Mapped[ConnectionState] = mapped_column(
        _enum(ConnectionState), default=ConnectionState.NEW
    )
    connected_by: Mapped[str] = mapped_column(String(32))
    connected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_vision_one_connection_state", "state"),)

    def __repr__(self) -> str:  # the sealed token stays out of logs and tracebacks
        return f"VisionOneConnection(customer_id={self.customer_id}, state={self.state})"


class AccessGrant(Base):
    """A role given to one Slack user, beyond the workspace default."""

    __tablename__ = "access_grant"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Approval(Base):
    """A request for a second person's decision (today: disconnecting a customer)."""

    __tablename__ = "approval"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    action: Mapped[Action] = mapped_column(_enum(Action, 30))
    status: Mapped[ApprovalStatus] = mapped_column(
        _enum(ApprovalStatus), default=ApprovalStatus.PENDING
    )
    requested_by: Mapped[str] = mapped_column(String(32))
    requested_by_name: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    customer_version: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_by_name: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Where the request was posted, so it can be updated in place.
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))

    customer: Mapped[Customer] = relationship()

    __table_args__ = (
        # One open request per customer: a second "Disconnect" finds the first.
        Index(
            "uq_approval_one_pending",
            "customer_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_approval_status_expires", "status", "expires_at"),
    )


class AuditEntry(Base):
    """Append-only record of every change: database triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[str] = mapped_column(String(32))
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[Action] = mapped_column(_enum(Action, 30))
    customer_id: Mapped[int | None] = mapped_column(Integer)  # kept when the customer goes
    company: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    approval_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_audit_entry_customer_at", "customer_id", "at"),
        Index("ix_audit_entry_at", "at"),
    )


class ActionChannel(Base):
    """Channels where state-changing commands are allowed; none listed means anywhere."""

    __tablename__ = "action_channel"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestSubscription(Base):
    """A channel's daily risk digest: when (local time and days) and which customers."""

    __tablename__ = "digest_subscription"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    at_time: Mapped[dt.time] = mapped_column(Time)
    tz: Mapped[str] = mapped_column(String(64))  # IANA zone, e.g. Europe/Berlin
    weekdays: Mapped[str] = mapped_column(String(7), default="0123456")  # Monday = 0
    filters: Mapped[str] = mapped_column(String(1000), default="")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestRun(Base):
    """One digest for one channel and local day: claimed before posting, so it is posted once.

    A run holds a lease while it posts; a run whose process died is taken over after the
    lease ends and resumes from the parts already posted.
    """

    __tablename__ = "digest_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    local_date: Mapped[dt.date] = mapped_column(Date)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="posting")  # posting|done|failed
    claimed_by: Mapped[str] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    parts_total: Mapped[int] = mapped_column(Integer, default=0)
    parts_posted: Mapped[int] = mapped_column(Integer, default=0)
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(500))
    # What this digest reported (band counts), so the next one can show the change.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Tries so far: a transient failure (Slack 5xx, a lost connection) is tried again later.
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __table_args__ = (
        Index(
            "uq_digest_run_once_a_day",
            "channel_id",
            "local_date",
            unique=True,
            sqlite_where=text("NOT forced"),
            postgresql_where=text("NOT forced"),
        ),
        Index("ix_digest_run_channel_started", "channel_id", "started_at"),
    )


class JobLease(Base):
    """Who runs a periodic job right now, so that bot processes sharing a database (and the
    CLI) don't run it twice at once. A lease whose holder died runs out and is taken over."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
