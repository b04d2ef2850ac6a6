"""The mail outbox: mail is written in the transaction of the action that causes it, and sent
after commit by a deliverer (the loop in each server process, or `shaar worker`).

A crash between the commit and the send loses nothing: the row waits. Several deliverers may
run at once; each claims rows before sending (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED;
both databases: an UPDATE that only matches rows still due), and a claim is a lease: a row a
dead deliverer had claimed is due again once the lease runs out. The mail is marked sent right
after the SMTP server accepted it; a crash in between sends it again, with the same Message-ID
(at least once; docs/deploy.md). Failed sends retry with exponential backoff and are given up,
and logged, after MAIL_MAX_ATTEMPTS.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import bindparam, event, insert, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from core.db import Database
from core.mail import MailError, Transport, build_message, new_message_id
from core.models import MailOutbox, utcnow
from core.settings import Settings

log = logging.getLogger("shaar.mail")

#: Rows one claim takes. Small, so a batch is sent well within its lease.
BATCH = 20
#: The longest wait between two attempts, however many failed before.
MAX_BACKOFF = timedelta(hours=6)
_QUEUED = "shaar_mail_queued"


_OUTBOX = MailOutbox.__table__  # type: ignore[attr-defined]
#: Inline (no RETURNING of the new id), so a cast can send it with its commit.
_INSERT = insert(_OUTBOX).inline()


def enqueue_mail(db: Session, settings: Settings, to: str, subject: str, body: str, *,
                 kind: str, now: datetime) -> None:
    """Queue one mail in the caller's transaction: it is sent after that transaction commits,
    and never if it rolls back. The Message-ID is made here, once. A plain INSERT (a receipt
    mail is part of every cast; an ORM object to flush cost more than the statement)."""
    db.connection().execute(_INSERT, {
        "kind": kind[:20], "recipient": to, "subject": subject[:300], "body": body,
        "message_id": new_message_id(settings), "created_at": now, "attempts": 0,
        "next_attempt_at": now, "sent_at": None, "failed_at": None, "last_error": ""})
    db.info[_QUEUED] = True


# -- waking the deliverers of this process right after a commit --------------------------------

class Waker:
    """Wakes one delivery loop. Poked from any thread; the loop waits in its event loop."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def poke(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._event.set)
        except RuntimeError:  # that loop has closed
            pass

    async def wait(self, seconds: float) -> None:
        with anyio.move_on_after(seconds):
            await self._event.wait()
        self._event.clear()


_wakers: set[Waker] = set()


def wake() -> None:
    """Tell this process's delivery loops that mail is waiting."""
    for waker in list(_wakers):
        waker.poke()


@event.listens_for(OrmSession, "after_commit")
def _after_commit(session: OrmSession) -> None:
    if session.info.pop(_QUEUED, False):
        wake()


@event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session: OrmSession) -> None:
    session.info.pop(_QUEUED, None)


# -- claiming and delivering ---------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    id: int
    recipient: str
    subject: str
    body: str
    message_id: str
    attempts: int


@dataclass
class Delivery:
    """What one pass did."""

    sent: int = 0
    retrying: int = 0
    given_up: int = 0
    claimed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Delivery) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.given_up += other.given_up
        self.claimed += other.claimed
        self.errors += other.errors


def has_due(database: Database, now: datetime) -> bool:
    """A cheap read, so an idle deliverer never takes SQLite's write lock."""
    with database.session() as s:
        return s.exec(select(MailOutbox.id).where(col(MailOutbox.next_attempt_at) <= now)
                      .limit(1)).first() is not None


def claim(database: Database, settings: Settings, now: datetime,
          limit: int = BATCH) -> list[Claimed]:
    """Take up to `limit` due rows for this deliverer until now + MAIL_LEASE_SECONDS, and
    count the attempt. Two deliverers never get the same row while its lease runs: PostgreSQL
    skips rows another transaction has locked, and the UPDATE matches a row only while it is
    still due (on SQLite, writers take turns, so the second finds it claimed)."""
    lease = now + timedelta(seconds=settings.mail_lease_seconds)
    with database.session(write=True) as s:
        ids = list(s.exec(select(MailOutbox.id).where(col(MailOutbox.next_attempt_at) <= now)
                          .order_by(col(MailOutbox.id)).limit(limit)
                          .with_for_update(skip_locked=True)).all())
        if not ids:
            return []
        s.execute(update(MailOutbox)
                  .where(col(MailOutbox.id).in_(ids), col(MailOutbox.next_attempt_at) <= now,
                         col(MailOutbox.sent_at).is_(None))
                  .values(next_attempt_at=lease, attempts=col(MailOutbox.attempts) + 1))
        rows = s.exec(select(MailOutbox).where(col(MailOutbox.id).in_(ids),
                                               col(MailOutbox.next_attempt_at) == lease)
                      .order_by(col(MailOutbox.id))).all()
        return [Claimed(r.id or 0, r.recipient, r.subject, r.body, r.message_id, r.attempts)
                for r in rows]


_MARK_SENT = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row"))
              .values(sent_at=bindparam("at"), next_attempt_at=None, body="", last_error=""))


def _mark_sent(database: Database, row: Claimed, at: datetime) -> None:
    """One statement, its own transaction (one round trip): the deliverer marks every mail it
    sends, and under ballot load it shares the process with the casts."""
    with database.single_write() as conn:
        conn.execute(_MARK_SENT, {"row": row.id, "at": at})


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: MAIL_RETRY_SECONDS, doubling each time."""
    seconds = settings.mail_retry_seconds * 2 ** min(max(attempts - 1, 0), 20)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def _record_failure(database: Database, settings: Settings, row: Claimed, error: str,
                    now: datetime) -> bool:
    """Schedule the next attempt, or give up; True when given up."""
    give_up = row.attempts >= settings.mail_max_attempts
    values: dict[str, Any] = {"last_error": error[:500]}
    if give_up:
        values.update(next_attempt_at=None, failed_at=now, body="")
    else:
        values["next_attempt_at"] = now + backoff(settings, row.attempts)
    with database.session(write=True) as s:
        s.execute(update(MailOutbox).where(col(MailOutbox.id) == row.id).values(**values))
    if give_up:
        log.error("gave up mail %s to %s after %d attempts: %s", row.message_id,
                  row.recipient, row.attempts, error)
    else:
        log.warning("mail %s to %s failed (attempt %d), retrying at %s: %s", row.message_id,
                    row.recipient, row.attempts, values["next_attempt_at"].isoformat(), error)
    return give_up


def deliver_due(database: Database, settings: Settings, now: datetime | None = None,
                limit: int = BATCH) -> Delivery:
    """Claim one batch of due mail and send it over one SMTP connection. Blocking.

    Each mail is marked sent in its own commit as soon as the server accepted it, so a crash
    resends at most the one mail in hand. A batch stops early when its lease is nearly over,
    so a row is never sent after another deliverer could have claimed it again."""
    now = now or utcnow()
    report = Delivery()
    if not has_due(database, now):
        return report
    claimed = claim(database, settings, now, limit)
    report.claimed = len(claimed)
    if not claimed:
        return report
    started = time.monotonic()
    deadline = started + settings.mail_lease_seconds * 0.8
    transport = Transport(settings)
    try:
        for row in claimed:
            if time.monotonic() > deadline:
                break  # the rest are due again when the lease ends
            message = build_message(settings, row.recipient, row.subject, row.body,
                                    row.message_id)
            try:
                transport.send(message)
            except MailError as exc:
                failed_at = now + timedelta(seconds=time.monotonic() - started)
                report.errors.append(str(exc))
                if _record_failure(database, settings, row, str(exc), failed_at):
                    report.given_up += 1
                else:
                    report.retrying += 1
                continue
            _mark_sent(database, row, utcnow())
            report.sent += 1
    finally:
        transport.close()
    return report


def deliver_all(database: Database, settings: Settings, now: datetime | None = None) -> Delivery:
    """Deliver batches until nothing is due (`shaar worker --once`, tests). Blocking."""
    total = Delivery()
    while True:
        report = deliver_due(database, settings, now)
        total.add(report)
        if report.claimed < BATCH:
            return total


async def run_delivery(database: Database, settings: Settings, interval: float) -> None:
    """Deliver forever: right away when this process queued mail (see `wake`), and at least
    every `interval` seconds for mail queued by other processes or due for a retry."""
    waker = Waker()
    _wakers.add(waker)
    try:
        while True:
            try:
                await anyio.to_thread.run_sync(deliver_all, database, settings)
            except Exception:  # a database hiccup must not end delivery for good
                log.exception("mail delivery pass failed")
            await waker.wait(interval)
    finally:
        _wakers.discard(waker)
