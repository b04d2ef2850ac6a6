"""Tables of the core: districts, people, roles, sessions, tokens, limits, census, audit."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC; SQLModel's UTCDateTime stores and returns it the same way on both databases.
    Only endpoints and commands call this; services take `now` as an argument."""
    return datetime.now(UTC)


class Role(StrEnum):
    RESIDENT = "resident"
    MODERATOR = "moderator"
    JURY = "jury"
    CLERK = "clerk"
    ADMIN = "admin"


#: Roles an admin grants; every account is a resident without a grant.
GRANTABLE_ROLES = (Role.MODERATOR, Role.JURY, Role.CLERK, Role.ADMIN)


class Localized:
    """Rows named in each working language: columns `<field>_ru`, `_ky` and `_en`."""

    def localized(self, field: str, locale: str) -> str:
        return str(getattr(self, f"{field}_{locale}", None) or getattr(self, f"{field}_ru"))


class District(Localized, SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    name_ru: str = Field(max_length=120)
    name_ky: str = Field(max_length=120)
    name_en: str = Field(max_length=120)
    population: int = Field(default=0, ge=0)

    def name(self, locale: str) -> str:
        return self.localized("name", locale)


class User(SQLModel, table=True):
    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    email: str | None = Field(default=None, sa_column=Column(String(254), unique=True))
    password_hash: str | None = Field(default=None, max_length=200)
    display_name: str = Field(max_length=80)
    email_confirmed_at: datetime | None = None
    locale: str | None = Field(default=None, max_length=5)
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True)
    is_verified: bool = False
    verified_via: str | None = Field(default=None, max_length=20)
    verified_at: datetime | None = None
    email_notifications: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class RoleGrant(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="account.id", index=True)
    role: str = Field(max_length=20)
    granted_by_id: int | None = Field(default=None, foreign_key="account.id")
    granted_at: datetime = Field(default_factory=utcnow)


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries a random token; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = Field(foreign_key="account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None


class EmailToken(SQLModel, table=True):
    """A single-use link sent by e-mail (confirmation or password reset)."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = Field(foreign_key="account.id", index=True)
    purpose: str = Field(max_length=20)
    expires_at: datetime
    used_at: datetime | None = None


class OIDCIdentity(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="account.id", index=True)
    provider: str = Field(max_length=40)
    issuer: str = Field(max_length=300)
    subject: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)


class OIDCLoginAttempt(SQLModel, table=True):
    """State, nonce and PKCE verifier of one sign-in, bound to the browser that began it."""

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    browser_hash: str = Field(max_length=64)
    provider: str = Field(max_length=40)
    nonce: str = Field(max_length=64)
    code_verifier: str = Field(max_length=128)
    next_path: str = Field(default="/", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class RateLimitHit(SQLModel, table=True):
    """Counts attempts per key and fixed window; kept in the database so processes share it."""

    __table_args__ = (UniqueConstraint("key", "window_start"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    window_start: int
    count: int = 0


class CensusEntry(SQLModel, table=True):
    """A salted hash of a resident's ID number from the city's census list."""

    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    district_id: int = Field(foreign_key="district.id")
    claimed_by_id: int | None = Field(default=None, foreign_key="account.id", unique=True)
    batch: str = Field(max_length=40)


class Block(SQLModel, table=True):
    """An account barred from writing, with a reason and an optional end. Lifting is recorded
    on the row (and in the audit log); rows are never deleted."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="account.id", index=True)
    reason: str = Field(max_length=500)
    starts_at: datetime = Field(default_factory=utcnow)
    ends_at: datetime | None = None
    created_by_id: int = Field(foreign_key="account.id")
    lifted_at: datetime | None = None
    lifted_by_id: int | None = Field(default=None, foreign_key="account.id")

    def is_active(self, now: datetime) -> bool:
        return self.lifted_at is None and (self.ends_at is None or self.ends_at > now)


class AuditEntry(SQLModel, table=True):
    """An append-only record of an administrative or moderation action."""

    __table_args__ = (CheckConstraint("length(action) > 0", name="audit_action_not_empty"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    action: str = Field(max_length=60, index=True)
    target_type: str = Field(max_length=40)
    target_id: str = Field(max_length=60)
    details: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class MailOutbox(SQLModel, table=True):
    """A mail to send, written in the transaction of the action that causes it (core/outbox.py).

    The Message-ID is made once, here, so a retry sends the same one and receivers can drop a
    duplicate. `next_attempt_at` is when a deliverer may next claim the row (NULL once sent or
    given up); a claim moves it forward by the lease. The body is blanked once the mail is sent
    or given up, so receipts and sign-in links do not stay in the database."""

    __tablename__ = "mail_outbox"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    message_id: str = Field(sa_column=Column(String(250), unique=True, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, index=True)
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    last_error: str = Field(default="", max_length=500)


class ContentVersion(SQLModel, table=True):
    """One row: how many commits have changed what public pages show (core/pagecache.py)."""

    id: int | None = Field(default=None, primary_key=True)
    n: int = 0
