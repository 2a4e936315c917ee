"""Fixtures for the mail tests: a real SMTP server on loopback, registrations, the outbox as data."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from eventmgr.extensions import db as _db
from eventmgr.mail.models import OutboxMessage
from eventmgr.registrations.models import Registration
from tests.served import free_port

BASE_URL = "https://events.example.org"


@dataclass
class Collector:
    """aiosmtpd handler keeping every message it accepts; refuses recipients in `refuse`."""

    received: list[Any] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        """What arrived, parsed as a mail client would."""
        return [message_from_bytes(env.content, policy=policy.default) for env in self.received]


class SMTPServer:
    """A local SMTP server on a fixed port that tests can stop (an outage) and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = Collector()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages


@pytest.fixture
def smtp_port() -> int:
    """The port the app sends to; nothing listens there unless `smtp_server` is used."""
    return free_port()


@pytest.fixture
def smtp_server(smtp_port: int) -> Iterator[SMTPServer]:
    """A running SMTP server on `smtp_port`, stopped after the test."""
    server = SMTPServer(smtp_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(make_app: Callable[..., Flask], smtp_port: int) -> Flask:
    """The app, sending over SMTP to the loopback port, with absolute links on BASE_URL."""
    return make_app(
        MAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        MAIL_TIMEOUT=5,
        MAIL_DEFAULT_SENDER="Meetings <meetings@events.example.org>",
        BASE_URL=BASE_URL,
    )


_queue_numbers = itertools.count(1)


@pytest.fixture
def make_registration(app: Flask) -> Callable[..., Registration]:
    """Add and commit a registration directly (inside the test's app context), no emails."""

    def build(event: Any, user: Any, status: str = "confirmed") -> Registration:
        registration = Registration(
            event_id=event.id, user_id=user.id, status=status, queue_number=next(_queue_numbers)
        )
        _db.session.add(registration)
        _db.session.commit()
        return registration

    return build


@pytest.fixture
def outbox(app: Flask) -> Callable[[], list[OutboxMessage]]:
    """The outbox rows, oldest first, read in a fresh app context (detached, columns loaded)."""

    def read() -> list[OutboxMessage]:
        with app.app_context():
            rows = _db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            _db.session.expunge_all()
            return list(rows)

    return read
