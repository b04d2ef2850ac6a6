from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select

from core.db import Database, make_database, send_with_commit
from core.migrate import all_models, upgrade
from core.models import RateLimitHit
from ideas.search import is_search_object


def schema_differences(url: str) -> list[object]:
    all_models()
    engine = make_database(url).write_engine
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_name": lambda name, type_, _parents: not is_search_object(name, type_),
        })
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return list(diff)


def test_migrating_an_empty_sqlite_database_gives_exactly_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    assert schema_differences(url) == []


def test_the_test_database_matches_the_models(migrated: str) -> None:
    # On CI this runs against PostgreSQL too.
    assert schema_differences(migrated) == []


def test_sqlite_connections_are_durable_and_checked(tmp_path: Path) -> None:
    db = make_database(f"sqlite:///{tmp_path / 'p.db'}")
    with db.read_engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    db.dispose()


def test_a_failed_write_leaves_nothing_behind(database: Database) -> None:
    from core.models import District

    try:
        with database.session(write=True) as db:
            db.add(District(slug="x", name_ru="x", name_ky="x", name_en="x"))
            db.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with database.session() as db:
        assert db.exec(select(District)).all() == []


_HIT = insert(RateLimitHit.__table__).inline()  # type: ignore[attr-defined]


def _hits(database: Database) -> list[tuple[str, int]]:
    with database.session() as s:
        return [(h.key, h.count) for h in s.exec(select(RateLimitHit)
                                                   .order_by(col(RateLimitHit.key))).all()]


def test_writes_sent_with_the_commit_are_all_kept(database: Database) -> None:
    with database.session(write=True) as s:
        s.connection().execute(_HIT, {"key": "a", "window_start": 1, "count": 1})
        send_with_commit(s)
        s.connection().execute(_HIT, {"key": "b", "window_start": 1, "count": 2})
        s.connection().execute(_HIT, {"key": "c", "window_start": 1, "count": 3})
    assert _hits(database) == [("a", 1), ("b", 2), ("c", 3)]
    with database.single_write() as conn:
        conn.execute(_HIT, {"key": "d", "window_start": 1, "count": 4})
    assert _hits(database)[-1] == ("d", 4)


def test_an_error_sent_with_the_commit_fails_the_block_and_keeps_nothing(
        database: Database) -> None:
    with pytest.raises(IntegrityError), database.session(write=True) as s:
        send_with_commit(s)
        s.connection().execute(_HIT, {"key": "a", "window_start": 1, "count": 1})
        s.connection().execute(_HIT, {"key": "a", "window_start": 1, "count": 2})  # duplicate
    assert _hits(database) == []
    with database.session(write=True) as s:  # the pooled connection is fine afterwards
        s.connection().execute(_HIT, {"key": "b", "window_start": 1, "count": 1})
    assert _hits(database) == [("b", 1)]


def test_a_block_that_fails_after_a_batch_began_keeps_nothing(database: Database) -> None:
    with pytest.raises(ZeroDivisionError), database.session(write=True) as s:
        send_with_commit(s)
        s.connection().execute(_HIT, {"key": "a", "window_start": 1, "count": 1})
        1 / 0  # noqa: B018
    assert _hits(database) == []
