"""Rate limits kept in the database, so every app process sees the same counts.

Counts are kept per fixed window, but a limit is judged over a sliding window: the previous
window's count weighs in by the share of it the sliding window still covers. A burst at the end
of one window and another at the start of the next therefore cannot pass twice the limit."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, select

from core.models import RateLimitHit

#: One new window in this many sweeps the table of windows older than a day.
SWEEP_ODDS = 50


def parse_rate(spec: str) -> tuple[int, int]:
    count, _, seconds = spec.partition("/")
    return int(count), int(seconds)


def _window(now: datetime, seconds: int) -> int:
    epoch = int(now.timestamp())
    return epoch - epoch % seconds


def is_limited(session: Session, key: str, spec: str, now: datetime) -> bool:
    """True when `key` has used up its attempts in the sliding window ending at `now`."""
    limit, seconds = parse_rate(spec)
    current = _window(now, seconds)
    counts = dict(session.exec(
        select(RateLimitHit.window_start, RateLimitHit.count).where(
            RateLimitHit.key == key,
            col(RateLimitHit.window_start).in_([current, current - seconds]))
    ).all())
    elapsed = now.timestamp() - current
    weighted = counts.get(current, 0) + counts.get(current - seconds, 0) * (1 - elapsed / seconds)
    return weighted >= limit


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
    # Old windows are useless; sweeping them now and then keeps the table small without a
    # cron job. Not on every new window: the sweep reads the whole table (no index serves
    # it), and with many people each first attempt opens a window.
    if count == 1 and secrets.randbelow(SWEEP_ODDS) == 0:
        session.execute(
            delete(RateLimitHit).where(col(RateLimitHit.window_start) < window - 86400)
        )
    return int(count)

