"""Posting as a guest over HTTP, and reading the comments back."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from eventmgr.discussions.models import Comment
from eventmgr.extensions import db as _db
from eventmgr.mail.models import OutboxMessage

_LINK = re.compile(r"https?://\S+/writeups/guests/confirm/\S+")

GUEST = {
    "name": "Gina Guest",
    "email": "Gina@Example.org",
    "body": "Thank you for the *report*.",
    "website": "",
}


def guest_post(
    client: Any,
    writeup: dict[str, Any],
    token: Callable[[], str],
    *,
    ip: str = "127.0.0.1",
    url: str | None = None,
    **changes: Any,
) -> Any:
    """Post a guest reply from `ip` (to `url`, the write-up's page unless given) with a valid form
    timestamp unless overridden."""
    return client.post(
        url or writeup["url"],
        data={**GUEST, "started": token(), **changes},
        environ_base={"REMOTE_ADDR": ip},
    )


def comments(in_app: Callable[..., Any]) -> list[tuple[Any, ...]]:
    """Every comment's status, guest email, address and body."""
    return in_app(
        lambda: [
            (c.status, c.guest_email, c.author_ip, c.body)
            for c in _db.session.scalars(select(Comment).order_by(Comment.id))
        ]
    )


def confirmation_links(in_app: Callable[..., Any]) -> list[str]:
    """The paths of the guest confirmation links queued so far, oldest first."""
    rows = in_app(
        lambda: list(
            _db.session.scalars(
                select(OutboxMessage.text_body)
                .where(OutboxMessage.kind == "guest_confirmation")
                .order_by(OutboxMessage.id)
            )
        )
    )
    return [urlsplit(match).path for body in rows for match in _LINK.findall(body)]


def follow_confirmation(client: Any, in_app: Callable[..., Any]) -> Any:
    """Follow the latest guest confirmation link with `client` (which keeps the guest pass)."""
    return client.get(confirmation_links(in_app)[-1])


def replies_emailed(outbox: Callable[[], list[dict[str, Any]]]) -> list[str]:
    """Recipients of the queued emails other than guests' confirmation links, oldest first."""
    return [row["to_address"] for row in outbox() if row["kind"] != "guest_confirmation"]
