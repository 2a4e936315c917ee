"""Posting as a guest over HTTP, and reading the comments back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from eventmgr.discussions.models import Comment
from eventmgr.extensions import db as _db

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
