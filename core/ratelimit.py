"""Rate limits kept in the database, so every app process sees the same counts.

Counts are kept per fixed window, but a limit is judged over a sliding window: the previous
window's count weighs in by the share of it the sliding window still covers. A burst at the end
of one window and another at the start of the next therefore cannot pass twice the limit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete

from core.models import RateLimitHit

#: One new window in this many sweeps the table of windows older than a day.
SWEEP_ODDS = 50


def parse_rate(spec: str) -> tuple[int, int]:
    count, _, seconds = spec.partition("/")
    return int(count), int(seconds)


def _stored(key: str) -> str:
    """The key as the table holds it. Keys carry what people typed (an e-mail address of up
    to 254 characters on the sign-in form); a longer key keeps its start, readable, and a hash
    of the whole, so distinct keys stay distinct and fit the column."""
    if len(key) <= _KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[:_KEY_LENGTH - len(digest) - 1]}#{digest}"


def _window(now: datetime, seconds: int) -> int:
    epoch = int(now.timestamp())
    return epoch - epoch % seconds


# Built once per process: every limited form (sign-in, cast) runs these.
_T = RateLimitHit.__table__  # type: ignore[attr-defined]
_KEY_LENGTH: int = _T.c.key.type.length
_COUNTS = (select(_T.c.window_start, _T.c.count)
           .where(_T.c.key == bindparam("key"),
                  or_(_T.c.window_start == bindparam("current"),
                      _T.c.window_start == bindparam("previous"))))


def _upsert(insert: Any) -> Any:
    """Count one hit in the current window; returns the new count and the previous window's
    (read in the same statement: its row is not the one written)."""
    previous = (select(_T.c.count).where(_T.c.key == bindparam("hit_key"),
                                         _T.c.window_start == bindparam("previous"))
                .scalar_subquery())
    return (insert(_T).values(key=bindparam("hit_key"), window_start=bindparam("window"), count=1)
            .on_conflict_do_update(index_elements=["key", "window_start"],
                                   set_={"count": _T.c.count + 1})
            .returning(_T.c.count, previous))


_UPSERT = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}
_TAKE_BACK = (update(_T).where(_T.c.key == bindparam("hit_key"),
                               _T.c.window_start == bindparam("window"))
              .values(count=_T.c.count - 1))


def _weighted(current: int, previous: int, now: datetime, window: int, seconds: int) -> float:
    return current + previous * (1 - (now.timestamp() - window) / seconds)


def is_limited(session: Session, key: str, spec: str, now: datetime) -> bool:
    """True when `key` has used up its attempts in the sliding window ending at `now`."""
    limit, seconds = parse_rate(spec)
    current = _window(now, seconds)
    counts: dict[int, int] = dict(session.connection().execute(  # type: ignore[arg-type]
        _COUNTS, {"key": _stored(key), "current": current, "previous": current - seconds}).all())
    return _weighted(counts.get(current, 0), counts.get(current - seconds, 0), now, current,
                     seconds) >= limit


def _hit(session: Session, key: str, window: int, seconds: int) -> tuple[int, int]:
    conn = session.connection()
    count, previous = conn.execute(_UPSERT[conn.dialect.name], {
        "hit_key": _stored(key), "window": window, "previous": window - seconds}).one()
    # Old windows are useless; sweeping them now and then keeps the table small without a
    # cron job. Not on every new window: the sweep reads the whole table (no index serves
    # it), and with many people each first attempt opens a window.
    if count == 1 and secrets.randbelow(SWEEP_ODDS) == 0:
        session.execute(
            delete(RateLimitHit).where(col(RateLimitHit.window_start) < window - 86400)
        )
    return int(count), int(previous or 0)


def record_hit(session: Session, key: str, spec: str, now: datetime) -> int:
    """Count one attempt atomically (an upsert) and return the count in this window."""
    _limit, seconds = parse_rate(spec)
    return _hit(session, key, _window(now, seconds), seconds)[0]


def attempt(session: Session, key: str, spec: str, now: datetime) -> bool:
    """`is_limited` and then `record_hit` in one statement: counts the attempt and returns
    True, or returns False (and counts nothing) when `key` has used up its attempts."""
    limit, seconds = parse_rate(spec)
    window = _window(now, seconds)
    count, previous = _hit(session, key, window, seconds)
    if _weighted(count - 1, previous, now, window, seconds) < limit:
        return True
    session.connection().execute(_TAKE_BACK, {"hit_key": _stored(key), "window": window})
    return False
