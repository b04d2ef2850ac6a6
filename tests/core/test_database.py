from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel, select

from core.db import Database, make_database
from core.migrate import all_models, upgrade
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
