"""The mail outbox: mail is committed with the action that causes it, delivered once after
commit to a real SMTP server (aiosmtpd), retried with the same Message-ID, never sent for an
action that rolled back, and not sent twice by deliverers running at once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import col, select
from starlette.testclient import TestClient

from core.app import create_app
from core.db import Database
from core.models import MailOutbox, utcnow
from core.outbox import backoff, deliver_all, deliver_due, enqueue_mail
from core.settings import Settings
from tests.conftest import free_port
from tests.helpers import csrf_of, make_settings, make_user, sign_in
from tests.voting.factories import cast, make_voter, make_voting_round, receipt_of


class Sink:
    """An SMTP server's handler that keeps what it accepts; it can refuse the first
    `refuse` messages with a temporary error, and take `delay` seconds over each."""

    def __init__(self, refuse: int = 0, delay: float = 0.0) -> None:
        self.messages: list[Any] = []
        self.refused = 0
        self.refuse, self.delay = refuse, delay
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.refused < self.refuse:
                self.refused += 1
                return "451 4.3.0 try again later"
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def ids(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages)


def serve_sink(sink: Sink, **server: Any) -> Iterator[tuple[Sink, int]]:
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, **server)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    yield from serve_sink(Sink())


@pytest.fixture
def utf8_sink() -> Iterator[tuple[Sink, int]]:
    yield from serve_sink(Sink(), enable_SMTPUTF8=True)


@pytest.fixture
def flaky_sink() -> Iterator[tuple[Sink, int]]:
    yield from serve_sink(Sink(refuse=1))


def smtp_settings(tmp_path: Path, migrated: str, port: int, **overrides: Any) -> Settings:
    return make_settings(tmp_path, migrated, **{"smtp_host": "127.0.0.1", "smtp_port": port,
                                                 "mail_poll_seconds": 0, **overrides})


def outbox(database: Database) -> list[MailOutbox]:
    with database.session() as s:
        return list(s.exec(select(MailOutbox).order_by(col(MailOutbox.id))).all())


def queue(database: Database, settings: Settings, n: int = 1, to: str = "r@example.kg") -> None:
    with database.session(write=True) as s:
        for i in range(n):
            enqueue_mail(s, settings, to, f"Subject {i}", f"Body {i}", kind="test", now=utcnow())


def test_a_cast_commits_its_receipt_mail_and_the_worker_delivers_it_once(
        tmp_path: Path, migrated: str, database: Database, sink: tuple[Sink, int]) -> None:
    smtp, port = sink
    settings = smtp_settings(tmp_path, migrated, port)
    setup = make_voting_round(database, kind="approval", max_choices=2)
    make_voter(database, "voter@example.kg", district=setup.districts[0])
    pot, ideas = setup.pots[0], setup.items[0]
    with TestClient(create_app(settings, database), follow_redirects=False) as client:
        sign_in(client, "voter@example.kg")
        code = receipt_of(cast(client, setup.round.id, pot, {ideas[0]: 1}))
        [row] = outbox(database)  # committed with the ballot, not sent in the request
        assert row.kind == "receipt" and row.recipient == "voter@example.kg"
        assert code in row.body and row.sent_at is None and row.message_id.startswith("<")
        assert smtp.messages == []

        report = deliver_all(database, settings)
        assert (report.sent, report.retrying) == (1, 0)
        assert deliver_all(database, settings).sent == 0  # nothing left to send
    [mail] = smtp.messages
    assert mail["Message-ID"] == row.message_id and mail["To"] == "voter@example.kg"
    assert code in mail.get_content()
    [sent] = outbox(database)
    assert sent.sent_at is not None and sent.next_attempt_at is None and sent.attempts == 1
    assert sent.body == ""  # the receipt does not stay in the database once mailed


def test_a_refused_cast_queues_no_mail(tmp_path: Path, migrated: str, database: Database,
                                       sink: tuple[Sink, int]) -> None:
    _smtp, port = sink
    settings = smtp_settings(tmp_path, migrated, port)
    setup = make_voting_round(database, kind="approval", max_choices=1)
    make_voter(database, "voter@example.kg", district=setup.districts[0])
    pot, ideas = setup.pots[0], setup.items[0]
    with TestClient(create_app(settings, database), follow_redirects=False) as client:
        sign_in(client, "voter@example.kg")
        refused = cast(client, setup.round.id, pot, {ideas[0]: 1, ideas[1]: 1})
        assert refused.status_code == 422
    assert outbox(database) == []


def test_no_mail_is_sent_when_the_transaction_rolls_back(
        tmp_path: Path, migrated: str, database: Database, sink: tuple[Sink, int]) -> None:
    smtp, port = sink
    settings = smtp_settings(tmp_path, migrated, port)
    with pytest.raises(RuntimeError), database.session(write=True) as s:
        enqueue_mail(s, settings, "r@example.kg", "Hello", "Body", kind="test", now=utcnow())
        s.flush()
        raise RuntimeError("the action failed after queuing its mail")
    assert outbox(database) == []
    assert deliver_all(database, settings).sent == 0
    assert smtp.messages == []


def test_a_refused_send_is_retried_later_with_the_same_message_id(
        tmp_path: Path, migrated: str, database: Database,
        flaky_sink: tuple[Sink, int]) -> None:
    smtp, port = flaky_sink
    settings = smtp_settings(tmp_path, migrated, port, mail_retry_seconds=60)
    queue(database, settings)
    [queued] = outbox(database)
    now = utcnow()
    first = deliver_due(database, settings, now)
    assert (first.sent, first.retrying) == (0, 1) and smtp.refused == 1
    [waiting] = outbox(database)
    assert waiting.attempts == 1 and "try again later" in waiting.last_error
    assert waiting.next_attempt_at is not None
    assert waiting.next_attempt_at >= now + timedelta(seconds=59)
    assert deliver_due(database, settings, now + timedelta(seconds=30)).claimed == 0  # not yet
    assert deliver_due(database, settings, now + timedelta(seconds=61)).sent == 1
    assert deliver_due(database, settings, now + timedelta(hours=7)).claimed == 0
    assert smtp.ids() == Counter({queued.message_id: 1})
    [sent] = outbox(database)
    assert sent.attempts == 2 and sent.sent_at is not None and sent.last_error == ""


def test_delivery_gives_up_after_the_last_attempt(tmp_path: Path, migrated: str,
                                                  database: Database,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    with socket_nobody_listens() as port:
        settings = smtp_settings(tmp_path, migrated, port, mail_max_attempts=3,
                                 mail_retry_seconds=10)
        queue(database, settings)
        now = utcnow()
        for attempt in range(3):
            report = deliver_due(database, settings, now)
            assert report.claimed == 1
            now += backoff(settings, attempt + 1) + timedelta(seconds=1)
        assert report.given_up == 1
        assert deliver_due(database, settings, now + timedelta(days=1)).claimed == 0
    [row] = outbox(database)
    assert row.failed_at is not None and row.sent_at is None and row.next_attempt_at is None
    assert row.attempts == 3 and row.body == ""
    assert "gave up mail" in caplog.text
    assert [backoff(settings, n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]


class socket_nobody_listens:
    """A loopback port with nothing behind it: connecting is refused."""

    def __enter__(self) -> int:
        return free_port()

    def __exit__(self, *exc: object) -> None:
        pass


@pytest.fixture
def slow_sink() -> Iterator[tuple[Sink, int]]:
    # Slow enough per message that both deliverers are sending at the same time.
    yield from serve_sink(Sink(delay=0.01))


def test_two_delivery_loops_at_once_send_each_mail_once(
        tmp_path: Path, migrated: str, database: Database,
        slow_sink: tuple[Sink, int]) -> None:
    smtp, port = slow_sink
    settings = smtp_settings(tmp_path, migrated, port)
    queue(database, settings, 60)
    reports = []

    def loop() -> None:
        reports.append(deliver_all(database, settings))

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.sent for r in reports) == 60
    assert all(r.sent > 0 for r in reports), [r.sent for r in reports]  # both took part
    counts = smtp.ids()
    assert len(counts) == 60 and set(counts.values()) == {1}
    assert {r.message_id for r in outbox(database)} == set(counts)


def test_the_server_delivers_soon_after_the_commit(tmp_path: Path, migrated: str,
                                                   database: Database,
                                                   sink: tuple[Sink, int]) -> None:
    """With a long poll, only the wake-up after the commit can bring the mail this fast."""
    smtp, port = sink
    settings = smtp_settings(tmp_path, migrated, port, mail_poll_seconds=300)
    make_user(database, "forgetful@example.kg")
    with TestClient(create_app(settings, database), follow_redirects=False) as client:
        time.sleep(0.3)  # the loop's first look at the (empty) outbox is over
        began = time.monotonic()
        response = client.post("/password/forgot", data={
            "email": "forgetful@example.kg", "csrf_token": csrf_of(client, "/password/forgot")})
        assert response.status_code == 303
        deadline = time.monotonic() + 5
        while not smtp.messages and time.monotonic() < deadline:
            time.sleep(0.02)
        took = time.monotonic() - began
    assert len(smtp.messages) == 1 and took < 3, took
    assert "/password/reset/" in smtp.messages[0].get_content()


def test_development_mail_goes_through_the_outbox_to_the_console(
        tmp_path: Path, migrated: str, database: Database,
        capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(tmp_path, migrated, mail_poll_seconds=0)  # no SMTP_HOST
    queue(database, settings, to="dev@example.kg")
    assert deliver_all(database, settings).sent == 1
    printed = capsys.readouterr().out
    assert "--- mail to dev@example.kg ---" in printed and "Body 0" in printed
    assert outbox(database)[0].sent_at is not None


def test_shaar_worker_once_delivers_and_says_so(tmp_path: Path, migrated: str,
                                                database: Database, sink: tuple[Sink, int],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from core.cli import main

    smtp, port = sink
    settings = smtp_settings(tmp_path, migrated, port)
    queue(database, settings, 3)
    for name, value in {"SHAAR_ENV": "test", "SHAAR_VAR_DIR": str(tmp_path),
                        "DATABASE_URL": migrated, "SECRET_KEY": "x" * 40,
                        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "3 sent, 0 to retry later, 0 given up" in result.output
    assert len(smtp.messages) == 3
    assert "--once" in CliRunner().invoke(main, ["worker", "--help"]).output


@pytest.mark.parametrize("to", ["aigul@example.kg", "айгүл@почта.kg"])
def test_mail_in_any_language_arrives_as_written(
        tmp_path: Path, migrated: str, database: Database, utf8_sink: tuple[Sink, int],
        to: str) -> None:
    """Kyrgyz in the sender's name, the subject and the body; an address in Cyrillic too
    (sent with SMTPUTF8)."""
    smtp, port = utf8_sink
    settings = smtp_settings(tmp_path, migrated, port, mail_from="Шаар шаары <noreply@shaar.kg>")
    body = "Сиздин бюллетениңиз кабыл алынды.\nКвитанция: 0f3a\n"
    subject = "Бюллетениңиздин квитанциясы: добуш берүү жабылганга чейин аны текшере аласыз"
    with database.session(write=True) as s:  # a subject longer than one header line
        enqueue_mail(s, settings, to, subject, body, kind="test", now=utcnow())
    assert deliver_all(database, settings).sent == 1
    [mail] = smtp.messages
    assert mail["From"] == "Шаар шаары <noreply@shaar.kg>" and mail["To"] == to
    # (Sent as raw UTF-8, Python folds a long subject right after "Subject:", and its parser
    # keeps the folding space; mail readers drop it.)
    assert mail["Subject"].lstrip() == subject
    assert mail.get_content().replace("\r\n", "\n") == body  # CRLF on the wire or not


def test_development_mail_is_printed_readable_in_any_language(
        tmp_path: Path, migrated: str, database: Database,
        capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(tmp_path, migrated, mail_poll_seconds=0)  # no SMTP_HOST
    with database.session(write=True) as s:
        enqueue_mail(s, settings, "dev@example.kg", "Бюллетениңиздин квитанциясы",
                     "Добуш берүү аяктаганга чейин өзгөртө аласыз.", kind="test", now=utcnow())
    assert deliver_all(database, settings).sent == 1
    printed = capsys.readouterr().out
    assert "Subject: Бюллетениңиздин квитанциясы\n" in printed
    assert "өзгөртө аласыз.\n--- end of mail ---" in printed
