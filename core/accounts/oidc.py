"""OpenID Connect sign-in (authorization code flow with PKCE S256, state and nonce).

Any provider given by its discovery URL works. State, nonce and the PKCE verifier live in
the database, bound to the browser that started the sign-in, so any app process can finish it.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlmodel import Session, col, delete, select

from core.models import OIDCLoginAttempt
from core.security import token_hash
from core.settings import OIDCProvider

ATTEMPT_LIFETIME = timedelta(minutes=10)
DISCOVERY_TTL = 3600.0
_discovery_cache: dict[str, tuple[float, dict[str, Any]]] = {}


class OIDCError(Exception):
    """The sign-in cannot be completed; the reason is for the log, not the person."""


async def discover(provider: OIDCProvider) -> dict[str, Any]:
    cached = _discovery_cache.get(provider.discovery_url)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL:
        return cached[1]
    try:
        async with AsyncOAuth2Client(timeout=10) as client:
            response = await client.request("GET", provider.discovery_url,
                                            withhold_token=True)
        metadata: dict[str, Any] = response.json() if response.status_code == 200 else {}
    except Exception as exc:  # network and JSON errors alike: the provider is unavailable
        raise OIDCError(f"discovery failed: {exc}") from exc
    for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise OIDCError(f"discovery document lacks {key}")
    _discovery_cache[provider.discovery_url] = (time.monotonic(), metadata)
    return metadata


def _client(provider: OIDCProvider, redirect_uri: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret or None,
        scope=provider.scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=10,
    )


async def begin(db: Session, provider: OIDCProvider, redirect_uri: str, browser_id: str,
                next_path: str, now: datetime) -> str:
    """Record a new attempt and return the provider's authorization URL."""
    metadata = await discover(provider)
    state, nonce, verifier = generate_token(40), generate_token(40), generate_token(64)
    db.execute(delete(OIDCLoginAttempt).where(
        col(OIDCLoginAttempt.created_at) < now - ATTEMPT_LIFETIME))
    db.add(OIDCLoginAttempt(state=state, browser_hash=token_hash(browser_id),
                            provider=provider.name, nonce=nonce, code_verifier=verifier,
                            next_path=next_path, created_at=now))
    async with _client(provider, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
    return str(url)


def take_attempt(db: Session, provider: OIDCProvider, state: str, browser_id: str,
                 now: datetime) -> OIDCLoginAttempt:
    """Consume the attempt named by `state`; it must belong to this browser and be fresh."""
    attempt = db.exec(select(OIDCLoginAttempt).where(OIDCLoginAttempt.state == state)).first()
    if attempt is None:
        raise OIDCError("unknown state")
    db.delete(attempt)
    if attempt.provider != provider.name:
        raise OIDCError("state belongs to another provider")
    if attempt.browser_hash != token_hash(browser_id):
        raise OIDCError("state belongs to another browser")
    if now - attempt.created_at > ATTEMPT_LIFETIME:
        raise OIDCError("sign-in attempt expired")
    return attempt


async def finish(provider: OIDCProvider, attempt: OIDCLoginAttempt, code: str,
                 redirect_uri: str) -> tuple[str, dict[str, Any]]:
    """Exchange the code and validate the ID token. Returns (issuer, claims)."""
    metadata = await discover(provider)
    async with _client(provider, redirect_uri) as client:
        try:
            token = await client.fetch_token(metadata["token_endpoint"], code=code,
                                             code_verifier=attempt.code_verifier)
        except Exception as exc:  # Authlib raises several kinds; all mean "no token"
            raise OIDCError(f"token request failed: {exc}") from exc
        try:
            jwks_response = await client.request("GET", metadata["jwks_uri"],
                                                 withhold_token=True)
            jwks = jwks_response.json()
        except Exception as exc:
            raise OIDCError(f"could not read the provider's keys: {exc}") from exc
    id_token = token.get("id_token")
    if not id_token:
        raise OIDCError("no id_token in the token response")
    try:
        decoded = jwt.decode(id_token, KeySet.import_key_set(jwks))
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": provider.client_id},
                "nonce": {"essential": True},
            },
            params={"nonce": attempt.nonce, "client_id": provider.client_id},
        )
        claims.validate(leeway=60)
    except (JoseError, ValueError) as exc:
        raise OIDCError(f"invalid id_token: {exc}") from exc
    if claims.get("nonce") != attempt.nonce:
        raise OIDCError("nonce mismatch")
    return str(metadata["issuer"]), dict(claims)
