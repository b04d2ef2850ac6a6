"""One typed settings object, read from the environment.

Every field here is documented in docs/configuration.md; a test keeps the two in step.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("ru", "ky", "en")


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class OIDCProvider:
    """One OpenID Connect provider, found through its discovery document."""

    name: str
    title: str
    discovery_url: str
    client_id: str
    client_secret: str = ""
    scope: str = "openid email profile"
    verified_claim: str = ""
    district_claim: str = ""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    default_locale: str = "ru"
    time_zone: str = "Asia/Bishkek"
    var_dir: Path = ROOT / "var"
    upload_dir: Path = ROOT / "var" / "uploads"
    max_upload_bytes: int = 10 * 1024 * 1024
    max_request_bytes: int = 60 * 1024 * 1024
    upload_quota_bytes: int = 200 * 1024 * 1024
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Shaar <noreply@localhost>"
    mail_poll_seconds: int = 10
    mail_max_attempts: int = 8
    mail_retry_seconds: int = 60
    mail_lease_seconds: int = 120
    oidc_providers: tuple[OIDCProvider, ...] = ()
    session_idle_minutes: int = 60 * 24 * 7
    session_max_days: int = 30
    census_salt: str = ""
    signin_rate_limit: str = "5/300"
    signup_rate_limit: str = "5/3600"
    reset_rate_limit: str = "5/3600"
    comment_rate_limit: str = "5/60"
    cast_rate_limit: str = "30/3600"
    upload_rate_limit: str = "40/3600"
    report_hide_threshold: int = 3
    page_cache_seconds: int = 10
    trust_proxy_headers: bool = False
    results_signing_key: Path = ROOT / "var" / "results_signing_key.pem"
    city_name: str = "Bishkek"
    open_data_license: str = "https://creativecommons.org/licenses/by/4.0/"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    def provider(self, name: str) -> OIDCProvider | None:
        return next((p for p in self.oidc_providers if p.name == name), None)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting from `environ` (default: os.environ).

        Raises SettingsError when a value is malformed, or when production lacks SECRET_KEY.
        """
        env = dict(os.environ if environ is None else environ)
        mode = env.get("SHAAR_ENV", "development")
        if mode not in ("development", "production", "test"):
            raise SettingsError("SHAAR_ENV must be development, production or test")
        var_dir = Path(env.get("SHAAR_VAR_DIR", str(ROOT / "var")))
        values: dict[str, Any] = {
            "env": mode,
            "var_dir": var_dir,
            "database_url": env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'shaar.db'}",
            "base_url": env.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            "default_locale": _choice(env, "DEFAULT_LOCALE", "ru", LOCALES),
            "time_zone": _time_zone(env.get("TIME_ZONE", "Asia/Bishkek")),
            "upload_dir": Path(env.get("UPLOAD_DIR", str(var_dir / "uploads"))),
            "max_upload_bytes": _int(env, "MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
            "max_request_bytes": _int(env, "MAX_REQUEST_BYTES", 60 * 1024 * 1024),
            "upload_quota_bytes": _int(env, "UPLOAD_QUOTA_BYTES", 200 * 1024 * 1024),
            "smtp_host": env.get("SMTP_HOST", ""),
            "smtp_port": _int(env, "SMTP_PORT", 25),
            "smtp_user": env.get("SMTP_USER", ""),
            "smtp_password": env.get("SMTP_PASSWORD", ""),
            "smtp_starttls": _bool(env, "SMTP_STARTTLS", False),
            "mail_from": env.get("MAIL_FROM", "Shaar <noreply@localhost>"),
            "mail_poll_seconds": _int(env, "MAIL_POLL_SECONDS", 10),
            "mail_max_attempts": _int(env, "MAIL_MAX_ATTEMPTS", 8) or 1,
            "mail_retry_seconds": _int(env, "MAIL_RETRY_SECONDS", 60) or 1,
            "mail_lease_seconds": _int(env, "MAIL_LEASE_SECONDS", 120) or 1,
            "oidc_providers": _providers(env.get("OIDC_PROVIDERS", "")),
            "session_idle_minutes": _int(env, "SESSION_IDLE_MINUTES", 60 * 24 * 7),
            "session_max_days": _int(env, "SESSION_MAX_DAYS", 30),
            "census_salt": env.get("CENSUS_SALT", ""),
            "signin_rate_limit": _rate(env, "SIGNIN_RATE_LIMIT", "5/300"),
            "signup_rate_limit": _rate(env, "SIGNUP_RATE_LIMIT", "5/3600"),
            "reset_rate_limit": _rate(env, "RESET_RATE_LIMIT", "5/3600"),
            "comment_rate_limit": _rate(env, "COMMENT_RATE_LIMIT", "5/60"),
            "cast_rate_limit": _rate(env, "CAST_RATE_LIMIT", "30/3600"),
            "upload_rate_limit": _rate(env, "UPLOAD_RATE_LIMIT", "40/3600"),
            "report_hide_threshold": _int(env, "REPORT_HIDE_THRESHOLD", 3) or 1,
            "page_cache_seconds": _int(env, "PAGE_CACHE_SECONDS", 10),
            "trust_proxy_headers": _bool(env, "TRUST_PROXY_HEADERS", False),
            "results_signing_key": Path(env.get("RESULTS_SIGNING_KEY")
                                        or str(var_dir / "results_signing_key.pem")),
            "city_name": env.get("CITY_NAME", "").strip() or "Bishkek",
            "open_data_license": (env.get("OPEN_DATA_LICENSE", "").strip()
                                  or "https://creativecommons.org/licenses/by/4.0/"),
        }
        values.update(overrides)
        secret = overrides.get("secret_key") or env.get("SECRET_KEY", "")
        if not secret:
            if mode == "production":
                raise SettingsError("SECRET_KEY is required when SHAAR_ENV=production")
            secret = _development_secret(values["var_dir"])
        values["secret_key"] = secret
        return cls(**values)


def _development_secret(var_dir: Path) -> str:
    """Generate a secret on first run and keep it, so sessions survive restarts.

    Several processes may start at once (uvicorn workers): each writes a complete secret to
    its own temporary file and links it into place; only the first link succeeds, and every
    process then reads that one. The file is never seen half-written."""
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        temporary = var_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(8)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process was first; use its secret
        finally:
            temporary.unlink(missing_ok=True)
    secret = path.read_text().strip()
    if not secret:
        raise SettingsError(f"{path} is empty; delete it and a new secret is generated")
    return secret


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _choice(env: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}")
    return value


def _rate(env: dict[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    count, _, seconds = value.partition("/")
    if not (count.isdigit() and seconds.isdigit() and int(count) > 0 and int(seconds) > 0):
        raise SettingsError(f"{name} must look like COUNT/SECONDS, e.g. 5/300")
    return value


def _time_zone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"TIME_ZONE {name!r} is not a known time zone") from None
    return name


def _providers(raw: str) -> tuple[OIDCProvider, ...]:
    if not raw.strip():
        return ()
    try:
        items = json.loads(raw)
        providers = tuple(OIDCProvider(**item) for item in items)
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"OIDC_PROVIDERS must be a JSON list of providers: {exc}") from None
    names = [p.name for p in providers]
    if len(set(names)) != len(names) or not all(n.isidentifier() for n in names):
        raise SettingsError("OIDC_PROVIDERS names must be unique identifiers")
    return providers
