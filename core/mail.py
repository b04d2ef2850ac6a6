"""Outgoing mail, the transport: SMTP when configured, the console in development.

Nothing here is called from a request: actions write their mail to the outbox in their own
transaction (core/outbox.py), and the outbox's deliverers send it through a `Transport`."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.header import Header, decode_header, make_header
from email.message import EmailMessage, Message
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid, parseaddr
from urllib.parse import urlsplit

from core.settings import Settings

log = logging.getLogger("shaar.mail")


class MailError(RuntimeError):
    """The SMTP server refused or could not be reached."""


def new_message_id(settings: Settings) -> str:
    """A fresh Message-ID on this site's host name; made once per mail, when it is queued."""
    host = urlsplit(settings.base_url).hostname or "shaar.local"
    return make_msgid(domain=host)


def build_message(settings: Settings, to: str, subject: str, body: str,
                  message_id: str) -> Message:
    """The message as sent; `message_id` is the one stored with the queued mail, so every
    attempt carries the same Message-ID.

    Plain-ASCII addresses, which nearly all are, get a MIME message of the classic API:
    building and flattening it costs a quarter to a sixth of the modern `EmailMessage`
    (0.22-0.25 against 0.89-1.33 ms on the benchmark machine, and every cast sends a
    receipt). Names, subject and body may be in any language either way (encoded words,
    UTF-8 in base64). An address that is not ASCII goes through `EmailMessage`, which
    smtplib sends with SMTPUTF8."""
    sender_name, sender = parseaddr(settings.mail_from)
    if not (sender.isascii() and to.isascii()):
        return _international_message(settings, to, subject, body, message_id)
    # Ending in a line break, as EmailMessage.set_content makes it.
    message = MIMEText(body if body.endswith("\n") else body + "\n", "plain", "utf-8")
    message["From"] = formataddr((sender_name, sender), "utf-8")
    message["To"] = to
    message["Subject"] = (subject if subject.isascii()
                          else Header(subject, "utf-8", header_name="Subject").encode())
    message["Message-ID"] = message_id
    return message


def _international_message(settings: Settings, to: str, subject: str, body: str,
                           message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(body)
    return message


class Transport:
    """Sends messages one after another over one SMTP connection, opened on first use and
    opened again after the server dropped it; without SMTP_HOST, prints them instead.
    Blocking: deliverers run it in a worker thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: Message) -> None:
        """Hand one message over; returns once the server accepted it. Raises MailError."""
        if not self.settings.smtp_host:
            body = message.get_payload(decode=True)
            assert isinstance(body, bytes)
            subject = make_header(decode_header(message["Subject"]))  # encoded words, read
            print(f"\n--- mail to {message['To']} ---\nSubject: {subject}\n"
                  f"Message-ID: {message['Message-ID']}\n\n"
                  f"{body.decode(message.get_content_charset() or 'utf-8')}"
                  "--- end of mail ---\n", flush=True)
            return
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:  # the connection is still good
            raise MailError(str(exc)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise MailError(str(exc)) from exc

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=15)
        try:
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()
