"""Helpers for tests: factories whose defaults include hostile text, sign-in, forms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from core.accounts.passwords import hash_password
from core.db import Database
from core.models import RoleGrant, User, utcnow
from core.settings import Settings

HOSTILE = "<script>alert(1)</script>\"'&"
PASSWORD = "correct horse battery"


def make_settings(tmp: Path, database_url: str, **overrides: Any) -> Settings:
    env = {"SHAAR_ENV": "test", "SHAAR_VAR_DIR": str(tmp), "DATABASE_URL": database_url,
           "SECRET_KEY": "test-secret-key-that-is-long-enough", "BASE_URL": "http://testserver"}
    return Settings.from_env(env, **overrides)


def make_user(database: Database, email: str = "resident@example.kg", *,
              name: str = f"Resident {HOSTILE}", roles: tuple[str, ...] = (),
              confirmed: bool = True, password: str = PASSWORD) -> User:
    now = utcnow()
    with database.session(write=True) as db:
        user = User(email=email, display_name=name, password_hash=hash_password(password),
                    email_confirmed_at=now if confirmed else None, created_at=now)
        db.add(user)
        db.flush()
        assert user.id is not None
        for role in roles:
            db.add(RoleGrant(user_id=user.id, role=role, granted_at=now))
    return user


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: TestClient, path: str = "/signin") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client, "/signin")
    response = client.post("/signin", data={"email": email, "password": password,
                                            "csrf_token": token})
    assert response.status_code == 303, response.text
    return response


def post_form(client: TestClient, path: str, data: dict[str, str], token_from: str = "/") -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_of(client, token_from)})
