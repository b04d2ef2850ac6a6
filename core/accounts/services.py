"""Everything that writes to accounts goes through here."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from core.accounts.passwords import hash_password, needs_rehash, verify_password
from core.audit import record
from core.models import (
    GRANTABLE_ROLES,
    CensusEntry,
    District,
    EmailToken,
    OIDCIdentity,
    RoleGrant,
    User,
)
from core.security import new_token, token_hash
from core.sessions import revoke_all_sessions

CONFIRM = "confirm"
RESET = "reset"
TOKEN_LIFETIME = {CONFIRM: timedelta(days=3), RESET: timedelta(hours=2)}


class AccountError(ValueError):
    """A request that cannot be carried out; the message is shown to the person."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(db: Session, email: str) -> User | None:
    return db.exec(select(User).where(User.email == normalise_email(email))).first()


def register(db: Session, email: str, password: str, display_name: str,
             now: datetime) -> tuple[User, bool]:
    """Create an unconfirmed local account. Returns (user, created); an existing address
    returns its account with created=False, so the caller can mail without revealing it."""
    existing = find_by_email(db, email)
    if existing is not None:
        return existing, False
    user = User(email=normalise_email(email), password_hash=hash_password(password),
                display_name=display_name, created_at=now)
    db.add(user)
    try:
        db.flush()
    except IntegrityError:  # a parallel sign-up with the same address won the race
        db.rollback()
        found = find_by_email(db, email)
        if found is None:
            raise
        return found, False
    return user, True


def issue_token(db: Session, user: User, purpose: str, now: datetime) -> str:
    """A single-use e-mail link token; earlier unused tokens of the same purpose stop working."""
    assert user.id is not None
    db.execute(
        update(EmailToken)
        .where(col(EmailToken.user_id) == user.id, col(EmailToken.purpose) == purpose)
        .where(col(EmailToken.used_at).is_(None))
        .values(used_at=now)
    )
    token = new_token()
    db.add(EmailToken(token_hash=token_hash(token), user_id=user.id, purpose=purpose,
                      expires_at=now + TOKEN_LIFETIME[purpose]))
    return token


def _use_token(db: Session, token: str, purpose: str, now: datetime) -> User | None:
    row = db.exec(select(EmailToken).where(EmailToken.token_hash == token_hash(token))).first()
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        return None
    # Conditional update: of two clicks on the same link only one consumes it.
    consumed = db.execute(
        update(EmailToken)
        .where(col(EmailToken.id) == row.id, col(EmailToken.used_at).is_(None))
        .values(used_at=now)
    )
    if consumed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.get(User, row.user_id)


def confirm_email(db: Session, token: str, now: datetime) -> User | None:
    user = _use_token(db, token, CONFIRM, now)
    if user is not None and user.email_confirmed_at is None:
        user.email_confirmed_at = now
        db.add(user)
    return user


def authenticate(db: Session, email: str, password: str) -> User | None:
    user = find_by_email(db, email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    assert user is not None and user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.add(user)
    return user


def reset_password(db: Session, token: str, password: str, now: datetime) -> User | None:
    """Set a new password from a reset link and sign the account out everywhere."""
    user = _use_token(db, token, RESET, now)
    if user is None:
        return None
    assert user.id is not None
    user.password_hash = hash_password(password)
    # Following the link proves control of the address.
    user.email_confirmed_at = user.email_confirmed_at or now
    db.add(user)
    revoke_all_sessions(db, user.id, now)
    return user


def oidc_sign_in(db: Session, provider: str, issuer: str, claims: dict[str, Any],
                 now: datetime, verified_claim: str = "", district_claim: str = "") -> User:
    """Find the account linked to (issuer, subject) or create one. Never links by e-mail."""
    subject = str(claims["sub"])
    identity = db.exec(
        select(OIDCIdentity).where(OIDCIdentity.issuer == issuer,
                                   OIDCIdentity.subject == subject)
    ).first()
    if identity is not None:
        user = db.get(User, identity.user_id)
        assert user is not None
    else:
        name = str(claims.get("name") or claims.get("preferred_username") or "")[:80]
        email = claims.get("email")
        usable_email = (
            normalise_email(email)
            if isinstance(email, str) and claims.get("email_verified") is True
            and find_by_email(db, email) is None
            else None
        )
        user = User(email=usable_email, display_name=name or subject[:80], created_at=now,
                    email_confirmed_at=now if usable_email else None)
        db.add(user)
        db.flush()
        assert user.id is not None
        db.add(OIDCIdentity(user_id=user.id, provider=provider, issuer=issuer, subject=subject,
                            created_at=now))
    _apply_residency_claims(db, user, claims, now, verified_claim, district_claim)
    db.flush()
    return user


def _apply_residency_claims(db: Session, user: User, claims: dict[str, Any], now: datetime,
                            verified_claim: str, district_claim: str) -> None:
    if verified_claim and claims.get(verified_claim) in (True, "true", "1", 1):
        district = None
        if district_claim and claims.get(district_claim):
            district = db.exec(
                select(District).where(District.slug == str(claims[district_claim]))
            ).first()
        set_residency(db, user, district.id if district else user.district_id, True, "oidc",
                      now, actor_id=None)


def set_residency(db: Session, user: User, district_id: int | None, verified: bool, via: str,
                  now: datetime, actor_id: int | None) -> None:
    before = (user.district_id, user.is_verified)
    user.district_id = district_id
    if verified != user.is_verified:
        user.is_verified = verified
        user.verified_via = via if verified else None
        user.verified_at = now if verified else None
    db.add(user)
    if actor_id is not None and before != (district_id, verified):
        assert user.id is not None
        record(db, actor_id, "residency.set", "account", user.id, now,
               district_id=district_id, verified=verified)


def update_profile(db: Session, user: User, display_name: str, locale: str | None,
                   district_id: int | None, email_notifications: bool) -> None:
    user.display_name = display_name
    user.locale = locale
    user.email_notifications = email_notifications
    # A verified resident's district comes from the verification, not from the resident.
    if not user.is_verified:
        user.district_id = district_id
    db.add(user)


def grant_role(db: Session, user: User, role: str, actor_id: int, now: datetime) -> bool:
    if role not in GRANTABLE_ROLES:
        raise AccountError(role)
    assert user.id is not None
    exists = db.exec(select(RoleGrant).where(RoleGrant.user_id == user.id,
                                             RoleGrant.role == role)).first()
    if exists:
        return False
    db.add(RoleGrant(user_id=user.id, role=role, granted_by_id=actor_id, granted_at=now))
    record(db, actor_id, "role.grant", "account", user.id, now, role=role)
    return True


def revoke_role(db: Session, user: User, role: str, actor_id: int, now: datetime) -> bool:
    assert user.id is not None
    grant = db.exec(select(RoleGrant).where(RoleGrant.user_id == user.id,
                                            RoleGrant.role == role)).first()
    if grant is None:
        return False
    if role == "admin" and user.id == actor_id:
        raise AccountError("self-demotion")
    db.delete(grant)
    record(db, actor_id, "role.revoke", "account", user.id, now, role=role)
    return True


def census_hash(salt: str, id_number: str) -> str:
    """The hash a city puts in its census list: SHA-256 of salt and the digits of the ID."""
    digits = "".join(ch for ch in id_number if ch.isalnum()).upper()
    return hashlib.sha256(f"{salt}{digits}".encode()).hexdigest()


def import_census(db: Session, text: str, batch: str, actor_id: int, now: datetime) -> int:
    """Load `id_hash,district` rows (district by slug). Raises AccountError naming the line."""
    districts = {d.slug: d.id for d in db.exec(select(District)).all()}
    known = set(db.exec(select(CensusEntry.id_hash)).all())
    added = 0
    reader = csv.reader(io.StringIO(text))
    for line_no, row in enumerate(reader, start=1):
        if not row or (line_no == 1 and row[0].strip().lower() == "id_hash"):
            continue
        if len(row) != 2:
            raise AccountError(f"line {line_no}: expected id_hash,district")
        id_hash, slug = row[0].strip().lower(), row[1].strip()
        if len(id_hash) != 64 or any(c not in "0123456789abcdef" for c in id_hash):
            raise AccountError(f"line {line_no}: not a SHA-256 hex hash")
        if slug not in districts:
            raise AccountError(f"line {line_no}: unknown district {slug!r}")
        if id_hash in known:
            continue
        known.add(id_hash)
        district_id = districts[slug]
        assert district_id is not None
        db.add(CensusEntry(id_hash=id_hash, district_id=district_id, batch=batch))
        added += 1
    record(db, actor_id, "census.import", "census", batch, now, added=added)
    return added


@dataclass(frozen=True)
class CensusClaim:
    """A census entry being claimed, as passed to the hooks of `on_census_claim`."""

    user_id: int
    id_hash: str
    now: datetime
    secret_key: str


CensusClaimHook = Callable[[Session, CensusClaim], None]
#: Domains that keep per-person state by ID hash (voting: one counted ballot per person)
#: register here, so that core never imports them.
CENSUS_CLAIM_HOOKS: list[CensusClaimHook] = []


def on_census_claim(hook: CensusClaimHook) -> CensusClaimHook:
    """Register `hook(session, claim)`: called in the claim's transaction, after the census
    entry is locked and found claimable and before it is marked claimed. A hook may lock
    rows of its own (after the census entry: that is the lock order) and write."""
    if hook not in CENSUS_CLAIM_HOOKS:
        CENSUS_CLAIM_HOOKS.append(hook)
    return hook


def claims_another_entry(db: Session, user_id: int, id_hash: str) -> bool:
    """Whether the account already holds a census entry other than `id_hash`: an account
    verifies with one ID number, so nobody votes for two people with one account."""
    return db.exec(select(CensusEntry.id).where(CensusEntry.claimed_by_id == user_id,
                                                CensusEntry.id_hash != id_hash)).first() \
        is not None


def claim_census(db: Session, user: User, salt: str, id_number: str, now: datetime,
                 secret_key: str = "") -> bool:
    """Verify a resident whose ID number is on the census list; each entry verifies one account.

    Locks the census entry (a paper reading of the same ID waits, or is waited for), then
    runs the `on_census_claim` hooks. `secret_key`: the site's SECRET_KEY, for hooks that
    derive pseudonyms from it."""
    assert user.id is not None
    id_hash = census_hash(salt, id_number)
    entry = db.exec(select(CensusEntry).where(CensusEntry.id_hash == id_hash)
                    .with_for_update()).first()
    if entry is None or (entry.claimed_by_id not in (None, user.id)):
        return False
    if claims_another_entry(db, user.id, id_hash):  # one person, one ID number
        return False
    if entry.claimed_by_id is None:
        claim = CensusClaim(user.id, id_hash, now, secret_key)
        for hook in CENSUS_CLAIM_HOOKS:
            hook(db, claim)
    entry.claimed_by_id = user.id
    db.add(entry)
    set_residency(db, user, entry.district_id, True, "census", now, actor_id=None)
    return True
