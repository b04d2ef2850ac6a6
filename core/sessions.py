"""Server-side sessions: a random token in the cookie, its hash and lifetime in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from core.models import Block, Role, RoleGrant, User, UserSession
from core.security import new_token, token_hash
from core.settings import Settings

#: Writing last_seen on every request would turn each page view into a write.
TOUCH_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True)
class SignedIn:
    session: UserSession
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


def load_session(db: Session, token: str, settings: Settings, now: datetime) -> SignedIn | None:
    """The live session for a cookie token, or None if unknown, revoked, expired or idle."""
    row = db.exec(
        select(UserSession, User)
        .join(User, col(User.id) == UserSession.user_id)
        .where(UserSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        return None
    session, user = row
    idle_limit = timedelta(minutes=settings.session_idle_minutes)
    if session.revoked_at is not None or session.expires_at <= now:
        return None
    if now - session.last_seen_at >= idle_limit:
        return None
    assert user.id is not None
    blocks = db.exec(select(Block).where(Block.user_id == user.id,
                                         col(Block.lifted_at).is_(None))).all()
    block = next((b for b in blocks if b.is_active(now)), None)
    return SignedIn(session=session, user=user, roles=roles_of(db, user.id), block=block)


def needs_touch(session: UserSession, now: datetime) -> bool:
    return now - session.last_seen_at >= TOUCH_INTERVAL


def touch(db: Session, session_id: int, now: datetime) -> None:
    db.execute(
        update(UserSession).where(col(UserSession.id) == session_id).values(last_seen_at=now)
    )
