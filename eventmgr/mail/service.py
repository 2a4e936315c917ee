"""Writing emails to the outbox, in the caller's transaction, and delivering them over SMTP."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from eventmgr.database import utcnow
from eventmgr.extensions import db
from eventmgr.mail.models import OutboxMessage
from eventmgr.web.urls import site_host

logger = logging.getLogger(__name__)

#: The outbox's subject column holds this many characters; longer subjects are cut to fit.
SUBJECT_MAX_LENGTH: int = OutboxMessage.__table__.c.subject.type.length
_BLANKS = re.compile(r"\s+")


def header_text(value: str) -> str:
    """`value` made safe for one header line: CR, LF, tabs and every other control or line/paragraph
    separator become a space, runs of spaces one space (a line break would make the email
    unbuildable, or add headers)."""
    spaced = "".join(
        " " if unicodedata.category(character) in ("Cc", "Zl", "Zp") else character
        for character in value
    )
    return _BLANKS.sub(" ", spaced).strip()


def fit_subject(subject: str, limit: int | None = None) -> str:
    """`subject` as one header line of at most `limit` characters (the column's length), cut at a
    word boundary with an ellipsis when too long."""
    limit = limit or SUBJECT_MAX_LENGTH
    line = header_text(subject)
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


@dataclass(frozen=True)
class Attachment:
    """A text attachment: the .ics of a meeting, for instance."""

    filename: str
    content_type: str
    content: str

    def as_json(self) -> dict[str, str]:
        """The form stored in OutboxMessage.attachments."""
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "content": self.content,
        }


def render_bodies(template: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """Render templates/mail/<template>.txt and .html (the HTML one autoescaped)."""
    environment = current_app.jinja_env
    values = {"site_name": current_app.config["SITE_NAME"], **context}
    text = environment.get_template(f"mail/{template}.txt").render(values)
    html = environment.get_template(f"mail/{template}.html").render(values)
    return text, html


def queue_email(
    *,
    kind: str,
    to: str,
    subject: str,
    template: str,
    context: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    attachments: Sequence[Attachment] = (),
    group_key: str | None = None,
    group_items: Sequence[Any] | None = None,
    send_at: datetime | None = None,
) -> OutboxMessage:
    """Add one email to the outbox in the current transaction; flushes, never commits.

    The subject is made one line and cut to fit its column, header values made one line, so a
    long or multi-line title can never make the row unstorable or the email unbuildable.
    `group_key` and `group_items` mark an email that later events may add to while it waits (see
    open_group_email); `send_at` holds it back until then (default: due at once).
    """
    text, html = render_bodies(template, context or {})
    message = OutboxMessage(
        kind=kind,
        to_address=to,
        subject=fit_subject(subject),
        text_body=text,
        html_body=html,
        headers={name: header_text(value) for name, value in (headers or {}).items()},
        attachments=[attachment.as_json() for attachment in attachments],
        message_id=make_msgid(domain=site_host()),
        group_key=group_key,
        group_items=list(group_items) if group_items is not None else None,
        next_attempt_at=send_at or utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    return message


# Emails that gather several events for one recipient ------------------------------------------------
#
# The caller serialises the events of one group (a lock held until its transaction ends), then
# either adds to the group's open email or queues a new one. An email is open until the worker
# first tries it: the worker claims rows with FOR UPDATE SKIP LOCKED, and so does
# open_group_email, so a row being sent is never changed and is simply not open any more.


def open_group_email(group_key: str) -> OutboxMessage | None:
    """The group's email that has not been tried yet, locked until the transaction ends; None if
    there is none, or if the worker holds it at this moment (it is being sent). Flushes nothing."""
    return db.session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.group_key == group_key,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.attempts == 0,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def last_group_email_at(group_key: str) -> datetime | None:
    """When the group's newest email was queued, or None if it has none."""
    return db.session.scalar(
        select(func.max(OutboxMessage.created_at)).where(OutboxMessage.group_key == group_key)
    )


def rewrite_email(
    message: OutboxMessage,
    *,
    subject: str,
    template: str,
    context: Mapping[str, Any],
    group_items: Sequence[Any],
) -> None:
    """Give a waiting email (from open_group_email) a new subject, bodies and items; flushes."""
    message.subject = fit_subject(subject)
    message.text_body, message.html_body = render_bodies(template, context)
    message.group_items = list(group_items)
    db.session.flush()


# Delivery ------------------------------------------------------------------------------------------


class DeliveryError(RuntimeError):
    """The transport could not hand a message over; the row stays pending for a retry."""


@dataclass
class DeliveryReport:
    """What one run of the worker did."""

    sent: int = 0
    failed: int = 0
    gave_up: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, failed {self.failed} (will retry), gave up {self.gave_up}"


def build_message(message: OutboxMessage, *, sender: str) -> EmailMessage:
    """The RFC 5322 email for an outbox row: text and HTML alternatives, then any attachments."""
    email = EmailMessage()
    # header_text again: rows queued before the outbox cleaned its headers may still hold breaks.
    email["Subject"] = header_text(message.subject)
    email["From"] = sender
    email["To"] = header_text(message.to_address)
    email["Date"] = format_datetime(message.created_at.astimezone(UTC))
    email["Message-ID"] = message.message_id
    # RFC 3834: an automatic message, so autoresponders do not answer it.
    email["Auto-Submitted"] = "auto-generated"
    for name, value in (message.headers or {}).items():
        email[header_text(name)] = header_text(value)
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    for attachment in message.attachments or []:
        media_type, *parameters = (part.strip() for part in attachment["content_type"].split(";"))
        maintype, subtype = media_type.split("/", 1)
        params = dict(parameter.split("=", 1) for parameter in parameters if "=" in parameter)
        if maintype != "text":
            raise ValueError(f"only text attachments are supported, not {media_type}")
        email.add_attachment(
            attachment["content"], subtype=subtype, filename=attachment["filename"], params=params
        )
    return email


class LogTransport:
    """Development: print each message to the log instead of sending it."""

    def send(self, email: EmailMessage, message: OutboxMessage) -> None:
        """Log the message's headers and text body."""
        logger.info(
            "Email %s (%s) to %s: %s\n\n%s",
            message.message_id,
            message.kind,
            message.to_address,
            message.subject,
            message.text_body,
        )

    def close(self) -> None:
        """Nothing to close."""


class SMTPTransport:
    """One SMTP connection, opened when first needed and reused for the rest of a run."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
        if config["MAIL_USE_SSL"]:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if config["MAIL_USE_TLS"]:
                connection.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, email: EmailMessage, message: OutboxMessage) -> None:
        """Hand the message to the server; raises DeliveryError if it is not accepted."""
        try:
            if self.connection is None:
                self.connection = self._connect()
            refused = self.connection.send_message(email, to_addrs=[message.to_address])
        except (smtplib.SMTPException, OSError) as error:
            # The connection may be half-broken; start afresh for the next message.
            self.close()
            raise DeliveryError(f"{type(error).__name__}: {error}") from error
        if refused:
            raise DeliveryError(f"recipient refused: {refused}")

    def close(self) -> None:
        """Say goodbye to the server, ignoring a connection that is already gone."""
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


def make_transport(config: Mapping[str, Any]) -> LogTransport | SMTPTransport:
    """The transport MAIL_BACKEND names."""
    if config["MAIL_BACKEND"] == "log":
        return LogTransport()
    return SMTPTransport(config)


def retry_delay(attempts: int, config: Mapping[str, Any]) -> timedelta:
    """How long to wait after the `attempts`-th failure: doubling from MAIL_RETRY_BASE_SECONDS."""
    seconds = config["MAIL_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config["MAIL_RETRY_MAX_SECONDS"]))


def _claim_next(now: datetime, max_attempts: int, skip: set[int]) -> OutboxMessage | None:
    """Lock the next due row; other workers skip it (PostgreSQL; SQLite ignores FOR UPDATE)."""
    statement = (
        select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.attempts < max_attempts,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if skip:
        statement = statement.where(OutboxMessage.id.not_in(skip))
    return db.session.scalar(statement)


def deliver_pending(*, now: datetime | None = None, limit: int | None = None) -> DeliveryReport:
    """Send every due outbox row, each in its own transaction (commits); returns the counts.

    A failure records the error, counts the attempt and schedules a retry with exponential
    backoff; after MAIL_MAX_ATTEMPTS the row is left unsent, marked with its last error.
    """
    config = current_app.config
    max_attempts = config["MAIL_MAX_ATTEMPTS"]
    sender = config["MAIL_DEFAULT_SENDER"]
    transport = make_transport(config)
    report, tried = DeliveryReport(), set()
    try:
        while limit is None or len(tried) < limit:
            moment = now or utcnow()
            message = _claim_next(moment, max_attempts, tried)
            if message is None:
                break
            tried.add(message.id)
            message.attempts += 1
            try:
                transport.send(build_message(message, sender=sender), message)
            except Exception as error:
                # A row that cannot even be built must not block the rows behind it either.
                if not isinstance(error, DeliveryError):
                    logger.exception("Could not build %r", message)
                message.last_error = str(error)[:2000] or type(error).__name__
                if message.attempts >= max_attempts:
                    report.gave_up += 1
                    logger.error("Gave up on %r after %d attempts: %s", message,
                                 message.attempts, error)  # fmt: skip
                else:
                    report.failed += 1
                    message.next_attempt_at = moment + retry_delay(message.attempts, config)
                    logger.warning("Could not send %r (attempt %d): %s", message,
                                   message.attempts, error)  # fmt: skip
            else:
                message.sent_at = utcnow()
                message.last_error = ""
                report.sent += 1
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        transport.close()
    return report


def requeue_failed() -> int:
    """Give rows that ran out of attempts a fresh set of retries, due now; flushes; returns how many."""
    statement = select(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"],
    )
    messages = db.session.scalars(statement).all()
    for message in messages:
        message.attempts = 0
        message.next_attempt_at = utcnow()
    db.session.flush()
    return len(messages)
