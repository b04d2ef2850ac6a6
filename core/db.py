"""Database engines and sessions.

SQLite gets WAL, synchronous=FULL, foreign keys and a busy timeout on every connection.
Writes on SQLite begin with BEGIN IMMEDIATE (a second engine) so that a transaction which
reads and then writes never fails with SQLITE_BUSY halfway; reads keep the cheap deferred
BEGIN. PostgreSQL uses one engine for both, and `send_with_commit` lets a transaction send
its last writes and the COMMIT in one round trip.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


@dataclass
class Database:
    read_engine: Engine
    write_engine: Engine

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A session that commits on success and rolls back on any exception."""
        engine = self.write_engine if write else self.read_engine
        with Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
                _send_batch(session)  # a batch's commit is done once its answers came
            except BaseException as exc:
                _send_batch(session, failed=exc)
                session.rollback()
                raise

    @contextmanager
    def single_read(self) -> Iterator[Connection]:
        """A connection for one SELECT, outside any transaction (a single statement is
        consistent on its own): no BEGIN and no ROLLBACK round trips around it."""
        with _single_statement(self.read_engine) as conn:
            yield conn

    @contextmanager
    def single_write(self) -> Iterator[Connection]:
        """A connection for one UPDATE (or INSERT, DELETE) that is a transaction of its own:
        durable when `execute` returns, without BEGIN and COMMIT round trips around it."""
        with _single_statement(self.write_engine) as conn:
            yield conn

    def dispose(self) -> None:
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()


@contextmanager
def _single_statement(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(single_statement=True)  # make_engine emits no BEGIN
        else:
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


_BATCH = "shaar_batch"


def send_with_commit(session: Session) -> None:
    """From here to the commit of `session` (a `Database.session`), PostgreSQL gets the
    statements without a wait for each answer, and the COMMIT with them: one round trip
    (libpq pipeline mode). Only for a transaction's last writes, whose results nobody reads:
    an INSERT must be `.inline()` (no RETURNING), and nothing may SELECT or read a rowcount
    until the commit. An error of any of them is raised when the session's block ends, as
    the commit's own would be, and nothing of the transaction is kept. SQLite: no change
    (its statements cost no round trips)."""
    if _BATCH in session.info or session.get_bind().dialect.name != "postgresql":
        return
    raw = session.connection().connection.dbapi_connection
    pipeline = raw.pipeline()  # type: ignore[union-attr]
    pipeline.__enter__()
    session.info[_BATCH] = pipeline


def _send_batch(session: Session, failed: BaseException | None = None) -> None:
    """Send what `send_with_commit` held and wait for the answers: raises the first error,
    unless the block `failed` already (then that error is the one that counts; the batch's
    own is logged by psycopg)."""
    pipeline = session.info.pop(_BATCH, None)
    if pipeline is not None:
        pipeline.__exit__(type(failed) if failed else None, failed,
                          failed.__traceback__ if failed else None)


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// and use psycopg 3 for both."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, *, immediate: bool = False, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("single_statement"):
            return  # Database.single_read: the statement is its own transaction
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_database(url: str) -> Database:
    from core.pagecache import track_writes

    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = Database(make_engine(url), make_engine(url, immediate=True))
    else:
        engine = make_engine(url)
        database = Database(engine, engine)
    for engine in {database.read_engine, database.write_engine}:
        track_writes(engine)  # public pages cached for anonymous readers see every change
    return database

