"""The audit log: append-only. This module only ever inserts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.models import AuditEntry


def record(db: Session, actor_id: int | None, action: str, target_type: str,
           target_id: int | str, now: datetime, **details: Any) -> None:
    db.add(AuditEntry(at=now, actor_id=actor_id, action=action, target_type=target_type,
                      target_id=str(target_id),
                      details=json.dumps(details, ensure_ascii=False, sort_keys=True)))


#: Tables the database itself keeps append-only: UPDATE and DELETE raise.
APPEND_ONLY_TABLES = ("auditentry", "decision")
APPEND_ONLY_MESSAGE = "this table is append-only"


def append_only_ddl(dialect: str, tables: tuple[str, ...]) -> list[str]:
    """Triggers that refuse UPDATE and DELETE on `tables`, so even a bug or a stray SQL
    statement through the application's connection cannot rewrite the record."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op} BEFORE {op.upper()} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            for table in tables for op in ("update", "delete")
        ]
    statements = [
        "CREATE OR REPLACE FUNCTION shaar_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$"
    ]
    statements += [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION shaar_append_only()"
        for table in tables
    ]
    return statements


def drop_append_only_ddl(dialect: str, tables: tuple[str, ...]) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for table in tables
                for op in ("update", "delete")]
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in tables] + [
        "DROP FUNCTION IF EXISTS shaar_append_only()"]
