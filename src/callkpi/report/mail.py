"""Sending a report by e-mail over SMTP (:mod:`smtplib`), with the settings of ``[mail]``."""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from callkpi.config import MailSettings


class MailError(RuntimeError):
    """The mail could not be sent (no server set, refused, unreachable...)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: str  # "application/pdf"


def build_message(settings: MailSettings, to: Sequence[str], subject: str, body: str,
                  attachment: Attachment) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or "callkpi")
    message.set_content(body)
    maintype, _, subtype = attachment.mime.partition("/")
    message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message


def send(settings: MailSettings, message: EmailMessage) -> None:
    """Deliver ``message``; :class:`MailError` with the reason when it cannot be."""
    if not settings.host:
        raise MailError("no SMTP server: set [mail] host in the settings")
    try:
        with _connect(settings) as smtp:
            if settings.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, os.environ.get(settings.password_env, ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc


def _connect(settings: MailSettings) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_s,
                                context=ssl.create_default_context())
    return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
