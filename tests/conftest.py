"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL), the app,
an in-process client, small factories whose defaults include hostile text, and helpers."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from core.accounts.passwords import hash_password
from core.app import create_app
from core.db import Database, make_database, normalise_url
from core.migrate import all_models, upgrade
from core.models import RoleGrant, User, utcnow
from core.settings import Settings

HOSTILE = "<script>alert(1)</script>\"'&"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = make_database(url).write_engine
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return normalise_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture(scope="session")
def database(migrated: str) -> Iterator[Database]:
    db = make_database(migrated)
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "database" not in request.fixturenames:
        return
    database: Database = request.getfixturevalue("database")
    all_models()
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with database.write_engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


def make_settings(tmp: Path, database_url: str, **overrides: Any) -> Settings:
    env = {"SHAAR_ENV": "test", "SHAAR_VAR_DIR": str(tmp), "DATABASE_URL": database_url,
           "SECRET_KEY": "test-secret-key-that-is-long-enough", "BASE_URL": "http://testserver"}
    return Settings.from_env(env, **overrides)


@pytest.fixture
def settings(tmp_path: Path, migrated: str) -> Settings:
    return make_settings(tmp_path, migrated)


@pytest.fixture
def app(settings: Settings, database: Database) -> Any:
    return create_app(settings, database)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c


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
