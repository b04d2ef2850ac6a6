"""Fixed-window rate limits kept in the database, so every app process sees the same counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, select

from core.models import RateLimitHit


def parse_rate(spec: str) -> tuple[int, int]:
    count, _, seconds = spec.partition("/")
    return int(count), int(seconds)


def _window(now: datetime, seconds: int) -> int:
    epoch = int(now.timestamp())
    return epoch - epoch % seconds


def is_limited(session: Session, key: str, spec: str, now: datetime) -> bool:
    """True when `key` has used up its attempts in the current window."""
    limit, seconds = parse_rate(spec)
    count = session.exec(
        select(RateLimitHit.count).where(
            RateLimitHit.key == key, RateLimitHit.window_start == _window(now, seconds)
        )
    ).first()
    return (count or 0) >= limit


def record_hit(session: Session, key: str, spec: str, now: datetime) -> int:
    """Count one attempt atomically (an upsert) and return the count in this window."""
    _limit, seconds = parse_rate(spec)
    window = _window(now, seconds)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = RateLimitHit.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .values(key=key, window_start=window, count=1)
        .on_conflict_do_update(index_elements=["key", "window_start"],
                               set_={"count": table.c.count + 1})
        .returning(table.c.count)
    )
    count = session.execute(stmt).scalar_one()
    # Old windows are useless; sweeping a few here keeps the table small without a cron job.
    if count == 1:
        session.execute(
            delete(RateLimitHit).where(col(RateLimitHit.window_start) < window - 86400)
        )
    return int(count)

