"""Outgoing mail: SMTP when configured, the console in development."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

import anyio

from core.settings import Settings

log = logging.getLogger("shaar.mail")


class MailError(RuntimeError):
    """The SMTP server refused or could not be reached."""


def build_message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="shaar.local")
    message.set_content(body)
    return message


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(str(exc)) from exc


async def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    """Deliver one plain-text message. Raises MailError when SMTP fails."""
    message = build_message(settings, to, subject, body)
    if not settings.smtp_host:
        print(f"\n--- mail to {to} ---\nSubject: {subject}\n\n{body}\n--- end of mail ---\n",
              flush=True)
        return
    await anyio.to_thread.run_sync(_send_smtp, settings, message)
