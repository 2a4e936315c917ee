"""One-click unsubscribe links (RFC 8058): signed tokens naming a member and a kind of email."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from eventmgr.accounts.models import User
from eventmgr.extensions import db
from eventmgr.web.urls import external_url

#: Kinds of optional email a member can turn off, and the User preference each one sets.
PREFERENCES = {
    "event-updates": "notify_event_updates",
    "replies": "notify_replies",
}
#: What each kind is called on the confirmation page.
DESCRIPTIONS = {
    "event-updates": "changes to and cancellations of meetings you registered for",
    "replies": "replies to your comments",
}
_SALT = "mail-unsubscribe"


class InvalidToken(ValueError):
    """The token was not signed by this site or does not name a kind of email."""


@dataclass(frozen=True)
class Subscription:
    """What a valid token refers to."""

    user_id: int
    kind: str

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.kind]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def make_token(user: User, kind: str = "event-updates") -> str:
    """A signed token for turning `kind` off for `user`; it does not expire."""
    if kind not in PREFERENCES:
        raise ValueError(f"unknown kind of email: {kind!r}")
    return _serializer().dumps({"user": user.id, "kind": kind})


def read_token(token: str) -> Subscription:
    """The subscription a token names; raises InvalidToken if forged, altered or malformed."""
    try:
        data = _serializer().loads(token)
    except BadData as error:
        raise InvalidToken("This unsubscribe link is not valid.") from error
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("user"), int)
        or data.get("kind") not in PREFERENCES
    ):
        raise InvalidToken("This unsubscribe link is not valid.")
    return Subscription(user_id=data["user"], kind=data["kind"])


def url_for_user(user: User, kind: str = "event-updates") -> str:
    """The absolute unsubscribe address for `user` and `kind`."""
    return external_url("mail.unsubscribe", token=make_token(user, kind))


def headers_for(user: User, kind: str = "event-updates") -> dict[str, str]:
    """List-Unsubscribe and List-Unsubscribe-Post (one click, RFC 8058) for an email to `user`."""
    return {
        "List-Unsubscribe": f"<{url_for_user(user, kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def get_user(subscription: Subscription) -> User | None:
    """The member a valid token names, or None if the account is gone."""
    return db.session.get(User, subscription.user_id)


def unsubscribe(user: User, kind: str) -> bool:
    """Turn `kind` of email off for `user`; flushes; returns whether it was on."""
    attribute = PREFERENCES[kind]
    was_on = bool(getattr(user, attribute))
    setattr(user, attribute, False)
    db.session.flush()
    return was_on


def is_subscribed(user: User, kind: str) -> bool:
    """Whether `user` still receives `kind` of email."""
    return bool(getattr(user, PREFERENCES[kind]))
