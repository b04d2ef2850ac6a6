"""Server-side sessions: a random token in the cookie, its hash and lifetime in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, func, select, update

from core.models import Block, Role, RoleGrant, User, UserSession
from core.security import new_token, token_hash
from core.settings import Settings

#: Writing last_seen on every request would turn each page view into a write.
TOUCH_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True)
class LiveSession:
    """What a request needs of its session row: which one, and when it was last touched."""

    id: int
    last_seen_at: datetime


@dataclass(frozen=True)
class SignedIn:
    session: LiveSession
    user: User
    roles: frozenset[str]
    block: Block | None


def start_session(db: Session, user: User, settings: Settings, now: datetime) -> str:
    """Create a fresh session for `user` and return the cookie token (shown once)."""
    token = new_token()
    assert user.id is not None
    db.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(days=settings.session_max_days),
        )
    )
    return token


def revoke_session(db: Session, token: str, now: datetime) -> None:
    db.execute(
        update(UserSession)
        .where(col(UserSession.token_hash) == token_hash(token))
        .where(col(UserSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def revoke_all_sessions(db: Session, user_id: int, now: datetime) -> None:
    db.execute(
        update(UserSession)
        .where(col(UserSession.user_id) == user_id)
        .where(col(UserSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def roles_of(db: Session, user_id: int) -> frozenset[str]:
    granted = db.exec(select(RoleGrant.role).where(RoleGrant.user_id == user_id)).all()
    return frozenset({Role.RESIDENT, *granted})


_S = UserSession.__table__  # type: ignore[attr-defined]
_U = User.__table__  # type: ignore[attr-defined]
_B = Block.__table__  # type: ignore[attr-defined]
_USER_COLUMNS = tuple(c.name for c in _U.columns)
_BLOCK_COLUMNS = tuple(c.name for c in _B.columns)


def _session_statement() -> Any:
    """The session, its account, the account's roles (aggregated into one string) and its
    longest-lasting unlifted block: one Core statement, built once per process (building
    and loading it through the ORM cost more than the query itself)."""
    roles = (select(func.aggregate_strings(col(RoleGrant.role), ","))
             .where(RoleGrant.user_id == _U.c.id).correlate(_U).scalar_subquery())
    longest_block = (select(_B.c.id)
                     .where(_B.c.user_id == _U.c.id, _B.c.lifted_at.is_(None))
                     .order_by(_B.c.ends_at.desc().nulls_first(), _B.c.id)
                     .limit(1).correlate(_U).scalar_subquery())
    columns = [_S.c.id, _S.c.last_seen_at, _S.c.expires_at, _S.c.revoked_at,
               roles.label("roles"), *(c.label(f"u_{c.name}") for c in _U.columns),
               *(c.label(f"b_{c.name}") for c in _B.columns)]
    return (select(*columns)
            .select_from(_S.join(_U, _U.c.id == _S.c.user_id)
                         .outerjoin(_B, _B.c.id == longest_block))
            .where(_S.c.token_hash == bindparam("token_hash")))


SESSION_STATEMENT = _session_statement()


def _detached(model: Any, values: dict[str, Any]) -> Any:
    """A model instance filled the way the ORM fills a loaded row (no per-field events or
    validation), for reading only: it is in no session and must not be added to one."""
    instance = model._sa_class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


def load_session(conn: Connection, token: str, settings: Settings,
                 now: datetime) -> SignedIn | None:
    """The live session for a cookie token, or None if unknown, revoked, expired or idle.

    One statement (SESSION_STATEMENT). If the longest-lasting unlifted block has ended,
    every unlifted one has, so the person is not blocked. The account and block are
    read-only copies: code that changes an account loads it in its own session."""
    row = conn.execute(SESSION_STATEMENT, {"token_hash": token_hash(token)}).first()
    if row is None:
        return None
    values = row._mapping
    idle_limit = timedelta(minutes=settings.session_idle_minutes)
    if values["revoked_at"] is not None or values["expires_at"] <= now:
        return None
    if now - values["last_seen_at"] >= idle_limit:
        return None
    user = _detached(User, {name: values[f"u_{name}"] for name in _USER_COLUMNS})
    block = None
    if values["b_id"] is not None:
        block = _detached(Block, {name: values[f"b_{name}"] for name in _BLOCK_COLUMNS})
        if not block.is_active(now):
            block = None
    granted = values["roles"]
    names = frozenset(granted.split(",")) if granted else frozenset()
    return SignedIn(session=LiveSession(values["id"], values["last_seen_at"]), user=user,
                    roles=frozenset({Role.RESIDENT, *names}), block=block)


def needs_touch(session: LiveSession, now: datetime) -> bool:
    return now - session.last_seen_at >= TOUCH_INTERVAL


def touch(db: Session, session_id: int, now: datetime) -> None:
    db.execute(
        update(UserSession).where(col(UserSession.id) == session_id).values(last_seen_at=now)
    )
