"""Guests are trusted only with a mailbox they proved is theirs: confirmation links, the mailbox key,
the browser's guest pass, the moderator's approval and the link count all have to agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from eventmgr.accounts.models import User
from eventmgr.discussions import service
from eventmgr.discussions.models import Comment, GuestAddress
from eventmgr.mail.models import OutboxMessage
from tests.discussions.test_guest_replies import published_topic

START = datetime.now(UTC) - timedelta(hours=2)


def post(topic, email: str, *, minute: int, proven=(), body: str = "Hello.") -> Comment:
    """A guest comment from `email`, `minute` minutes after START (so no flood limit applies)."""
    return service.add_guest_comment(
        topic,
        name="Gina Guest",
        email=email,
        body=body,
        ip=f"10.0.0.{minute}",
        now=START + timedelta(minutes=minute),
        proven=proven,
    )


def links_sent(db) -> list[str]:
    """Recipients of the guest confirmation links queued so far, oldest first."""
    return list(
        db.session.scalars(
            select(OutboxMessage.to_address)
            .where(OutboxMessage.kind == "guest_confirmation")
            .order_by(OutboxMessage.id)
        )
    )


def confirm(email: str) -> GuestAddress:
    """Follow the confirmation link of `email`'s mailbox."""
    return service.confirm_guest(service.guest_confirmation_token(service.guest_address(email)))


@pytest.fixture
def topic(db) -> service.Topic:
    return published_topic(db)


@pytest.fixture
def trusted(db, topic, organiser) -> list[int]:
    """Gina: one comment approved by a moderator, her address confirmed; returns her guest pass."""
    first = post(topic, "gina@example.org", minute=0)
    service.approve_comment(first, db.session.get(User, organiser.id))
    return [confirm("gina@example.org").id]


def test_the_confirmed_approved_guest_posts_at_once_from_the_browser_that_confirmed(
    db, topic, trusted
):
    assert post(topic, "gina@example.org", minute=1, proven=trusted).is_published
    # Her own variants are her mailbox, so they go through too from that browser.
    assert post(topic, " Gina+Reports@EXAMPLE.org ", minute=2, proven=trusted).is_published


@pytest.mark.parametrize(
    "typed",
    [
        "gina@example.org",  # exactly her address, from a browser that never confirmed it
        "GINA@Example.Org",
        "  gina@example.org  ",
        "gina+news@example.org",
        "\uff47\uff49\uff4e\uff41@example.org",  # full-width letters
        "g\u0456na@example.org",  # Cyrillic і: a look-alike, and another mailbox
        "gina@\uff45xample.org",
    ],
)
def test_someone_typing_an_approved_guests_address_waits_for_a_moderator(db, topic, trusted, typed):
    comment = post(topic, typed, minute=5)
    assert comment.is_pending
    db.session.refresh(comment.thread)
    assert comment.thread.comment_count == 1


def test_an_approved_guest_who_never_confirmed_waits(db, topic, organiser):
    first = post(topic, "gina@example.org", minute=0)
    service.approve_comment(first, db.session.get(User, organiser.id))
    address = service.guest_address("gina@example.org")
    # Even a guest pass naming the record does not stand in for following the link.
    assert post(topic, "gina@example.org", minute=1, proven=[address.id]).is_pending
    assert address.confirmed_at is None


def test_a_confirmed_guest_without_an_approved_comment_waits(db, topic):
    post(topic, "gina@example.org", minute=0)
    proven = [confirm("gina@example.org").id]
    assert post(topic, "gina@example.org", minute=1, proven=proven).is_pending


def test_a_published_comment_no_moderator_approved_is_not_an_approval(db, topic):
    # Approval is a moderator's act in the log, not a published status (kept from before this
    # rule, or auto-published).
    post(topic, "hal@example.org", minute=0).status = "published"
    proven = [confirm("hal@example.org").id]
    assert post(topic, "hal@example.org", minute=2, proven=proven).is_pending


def test_a_trusted_guest_with_many_links_waits(db, topic, trusted):
    body = "[one](//a.example) ![two](https://b.example/x.png) and www.c.example"
    assert post(topic, "gina@example.org", minute=1, proven=trusted, body=body).is_pending


def test_confirming_publishes_nothing(db, topic, organiser):
    waiting = post(topic, "gina@example.org", minute=0)
    confirm("gina@example.org")
    db.session.refresh(waiting)
    assert waiting.is_pending


def test_one_link_per_mailbox_while_it_is_unconfirmed_not_one_per_comment(db, topic):
    post(topic, "Gina@example.org", minute=0)
    post(topic, "gina+2@example.org", minute=1)
    post(topic, "GINA@EXAMPLE.ORG", minute=2)
    assert links_sent(db) == ["gina@example.org"]
    assert db.session.scalar(select(GuestAddress.key)) == "gina@example.org"
    # Once that link has expired, the next comment brings a new one.
    later = START + timedelta(days=8)
    service.add_guest_comment(
        published_topic(db, "later"), name="Gina", email="gina@example.org", body="Hi.",
        ip=None, now=later,
    )  # fmt: skip
    assert links_sent(db) == ["gina@example.org", "gina@example.org"]


def test_an_attacker_on_a_confirmed_mailbox_sends_its_owner_one_link_at_most(db, topic, trusted):
    post(topic, "gina+x@example.org", minute=1)
    post(topic, "gina@example.org", minute=2)
    # The victim's first link was used; the attacker's comments bring one more, to her mailbox.
    assert links_sent(db) == ["gina@example.org", "gina+x@example.org"]


def test_confirmation_tokens_must_be_genuine_recent_and_for_that_mailbox(db, topic, app):
    post(topic, "gina@example.org", minute=0)
    address = service.guest_address("gina@example.org")
    token = service.guest_confirmation_token(address)
    assert service.confirm_guest(token + "x") is None
    assert service.confirm_guest("") is None
    too_late = datetime.now(UTC) + timedelta(seconds=app.config["EMAIL_CONFIRMATION_MAX_AGE"] + 5)
    assert service.confirm_guest(token, now=too_late) is None
    address.key = "someone@else.example"
    assert service.confirm_guest(token) is None
    assert address.confirmed_at is None


def test_the_guest_pass_keeps_the_latest_mailboxes_and_refuses_forgeries(db, app):
    addresses = [GuestAddress(key=f"g{n}@example.org", email=f"g{n}@example.org") for n in range(7)]
    db.session.add_all(addresses)
    db.session.flush()
    cookie = None
    for address in addresses:
        cookie = service.guest_pass(address, cookie)
    assert service.proven_guests(cookie) == [a.id for a in addresses[-5:]]
    assert service.proven_guests(cookie[:-2] + "xx") == []
    assert service.proven_guests("[1, 2]") == []
    assert service.proven_guests(None) == []


def test_an_address_whose_key_outgrows_the_column_is_refused_beside_the_field(db, topic):
    # "½" is "1⁄2" in NFKC: the address fits its column, its mailbox key would not.
    email = "\u00bd" * 32 + "@" + ("a" * 60 + ".") * 3 + "org"
    with pytest.raises(service.DiscussionError, match="too long") as refused:
        post(topic, email, minute=0)
    assert refused.value.field == "email"
