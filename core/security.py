"""Security primitives: tokens, CSRF, safe redirects, and the headers every response carries."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import unquote, urlsplit

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Stored form of a bearer token: a leaked table does not yield working cookies or links."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret: str, binding: str) -> str:
    """A token tied to the browser (anonymous) or to the session (signed in)."""
    return hmac.new(secret.encode(), f"csrf|{binding}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, binding: str, presented: str | None) -> bool:
    if not presented or not binding:
        return False
    return hmac.compare_digest(csrf_token(secret, binding), presented)


def is_cross_site(headers: dict[str, str], own_origin: str, base_origin: str) -> bool:
    """True when the browser says the request came from another site."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site in ("cross-site", "same-site"):
        return True
    origin = headers.get("origin")
    if origin and origin != "null" and origin not in (own_origin, base_origin):
        return True
    return origin == "null"


def safe_next(value: str | None, default: str = "/") -> str:
    """Keep `next=` to same-origin relative paths; anything else falls back to `default`.

    Refuses scheme-relative (`//evil`), backslash (`/\\evil`), scheme (`https:evil`) and
    their percent-encoded and whitespace-padded forms.
    """
    if not value:
        return default
    candidate = value
    for _ in range(3):  # decode layered encodings such as %252F
        decoded = unquote(candidate)
        if decoded == candidate:
            break
        candidate = decoded
    if any(ch in candidate for ch in "\\\r\n\t\x00") or candidate != candidate.strip():
        return default
    if not candidate.startswith("/") or candidate.startswith("//"):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return value


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    form_action = " ".join(("'self'", *form_targets))
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            f"form-action {form_action}",
        )
    )


def security_headers(csp: str, https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers
