"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL), the app,
an in-process client, small factories whose defaults include hostile text, and helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from core.accounts import passwords
from core.app import create_app
from core.audit import APPEND_ONLY_TABLES, append_only_ddl, drop_append_only_ddl
from core.db import Database, make_database, normalise_url
from core.migrate import all_models, upgrade
from core.settings import Settings
from tests.helpers import DeliveringClient, make_settings

# The suite hashes and checks passwords thousands of times (every user it makes, every
# sign-in). argon2id at its production cost (64 MiB, 3 passes: about 0.2 s of CPU each)
# would be a large share of the suite's time; the same algorithm and code paths at its
# lowest cost test the same things. Servers the tests start in other processes keep the
# production cost (and upgrade these hashes when someone signs in there).
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
passwords._DUMMY_HASH = passwords._hasher.hash("shaar-timing-equaliser")


def worker_database_url(url: str, worker: str) -> str:
    """The PostgreSQL database of one pytest-xdist worker: `<db>_gw0`, `<db>_gw1`, ... on the
    server of TEST_DATABASE_URL, created on demand (the plain name without xdist)."""
    url = normalise_url(url)
    if not worker.startswith("gw"):
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": name}).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Each xdist worker has a database of its own: a SQLite file in its own temporary
    folder, or its own PostgreSQL database."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = worker_database_url(url, os.environ.get("PYTEST_XDIST_WORKER", ""))
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


def _no_fsync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


@pytest.fixture(scope="session")
def database(migrated: str) -> Iterator[Database]:
    db = make_database(migrated)
    if migrated.startswith("sqlite"):
        # The suite commits thousands of times; on SQLite each commit waits for the disk
        # (synchronous=FULL, tested in tests/core/test_database.py). WAL without fsync still
        # survives a killed process, only not a power cut, which no test simulates; servers
        # the tests start in other processes (the crash tests) keep FULL.
        for engine in {db.read_engine, db.write_engine}:
            event.listen(engine, "connect", _no_fsync)
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "database" not in request.fixturenames:
        return
    database: Database = request.getfixturevalue("database")
    all_models()
    # The content version's one row stays (core/pagecache.py); the cleanup itself bumps it.
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)
              if t.name != "contentversion"]
    with database.write_engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # The append-only guards refuse DELETE; tests lift them only to clean up.
            for statement in drop_append_only_ddl("sqlite", APPEND_ONLY_TABLES):
                conn.execute(text(statement))
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
            for statement in append_only_ddl("sqlite", APPEND_ONLY_TABLES):
                conn.execute(text(statement))


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




def free_port() -> int:
    """A free loopback port; from TEST_PORTS ("8150-8159") when set, else any."""
    import socket

    first, _sep, last = os.environ.get("TEST_PORTS", "0").partition("-")
    for port in range(int(first), int(last or first) + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError(f"no free port in TEST_PORTS={os.environ['TEST_PORTS']}")


class MailSink:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def last_body(self) -> str:
        assert self.messages, "no mail arrived"
        return str(self.messages[-1].get_content())


@pytest.fixture
def mail_sink() -> Iterator[tuple[MailSink, int]]:
    from aiosmtpd.controller import Controller

    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def mail_app(tmp_path: Path, migrated: str, database: Database, mail_sink: Any) -> Any:
    """The app sending to the sink. Its own delivery loop is off (MAIL_POLL_SECONDS=0):
    `mail_client` delivers the outbox after each request instead, so tests see the mail at
    once and in order."""
    sink, port = mail_sink
    settings = make_settings(tmp_path, migrated, smtp_host="127.0.0.1", smtp_port=port,
                             mail_poll_seconds=0)
    return create_app(settings, database)


@pytest.fixture
def mail_client(mail_app: Any) -> Iterator[TestClient]:
    with DeliveringClient(mail_app, follow_redirects=False) as c:
        yield c
