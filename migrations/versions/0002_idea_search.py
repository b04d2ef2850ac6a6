"""full-text search of ideas

SQLite: an FTS5 table over idea.search_text (external content, so the text is stored once),
kept in step by triggers. PostgreSQL: a GIN index on to_tsvector('simple', search_text); the
stems in search_text are made in Python (ideas/search.py), so 'simple' is all either needs.

Careful: a later batch migration of `idea` on SQLite copies the table and drops the old one,
and its triggers with it. Such a migration must create the triggers again and rebuild idea_fts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE idea_fts USING fts5(search_text, content='idea', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER idea_fts_insert AFTER INSERT ON idea BEGIN"
    " INSERT INTO idea_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    # An external-content index must be told the old text to forget it.
    "CREATE TRIGGER idea_fts_delete AFTER DELETE ON idea BEGIN"
    " INSERT INTO idea_fts(idea_fts, rowid, search_text)"
    " VALUES ('delete', old.id, old.search_text); END",
    # Only when the text changes: supports and comments update the row far more often.
    "CREATE TRIGGER idea_fts_update AFTER UPDATE OF id, search_text ON idea BEGIN"
    " INSERT INTO idea_fts(idea_fts, rowid, search_text)"
    " VALUES ('delete', old.id, old.search_text);"
    " INSERT INTO idea_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO idea_fts(idea_fts) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS idea_fts_update",
    "DROP TRIGGER IF EXISTS idea_fts_delete",
    "DROP TRIGGER IF EXISTS idea_fts_insert",
    "DROP TABLE IF EXISTS idea_fts",
)
POSTGRESQL_UPGRADE = (
    "CREATE INDEX ix_idea_search_text ON idea"
    " USING gin (to_tsvector('simple'::regconfig, search_text))",
)
POSTGRESQL_DOWNGRADE = ("DROP INDEX IF EXISTS ix_idea_search_text",)


def _run(statements: dict[str, tuple[str, ...]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
