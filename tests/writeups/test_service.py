"""The write-up and guest-comment rules, called directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eventmgr.discussions import service as discussions_service
from eventmgr.writeups import service
from eventmgr.writeups.models import WriteUp


def test_create_refuses_duplicates_and_reserved_slugs(db, organiser):
    service.create_writeup(title="One", slug="one", body="Text.", author=None)
    with pytest.raises(service.WriteUpError, match="already uses") as error:
        service.create_writeup(title="Two", slug="one", body="Text.", author=None)
    assert error.value.field == "slug"
    with pytest.raises(service.WriteUpError, match="lower-case"):
        service.create_writeup(title="New", slug="new", body="Text.", author=None)
    assert service.create_writeup(title="Café Society!", slug="", body="x", author=None).slug == (
        "cafe-society"
    )


def test_form_token_checks_signature_write_up_and_fill_time(app, db):
    writeup = service.create_writeup(title="One", slug="one", body="Text.", author=None)
    other = service.create_writeup(title="Two", slug="two", body="Text.", author=None)
    app.config["WRITEUP_MIN_FILL_SECONDS"] = 3
    token = service.form_token(writeup, now=1_000.0)
    service.check_form_token(writeup, token, now=1_003.5)
    with pytest.raises(service.WriteUpError, match="quick"):
        service.check_form_token(writeup, token, now=1_001.0)
    with pytest.raises(service.WriteUpError, match="could not be accepted"):
        service.check_form_token(other, token, now=1_010.0)
    with pytest.raises(service.WriteUpError, match="could not be accepted"):
        service.check_form_token(writeup, token + "x", now=1_010.0)


def guest(comment):
    """The GuestAddress record of a guest comment's mailbox."""
    return discussions_service.guest_address(comment.guest_email)


def test_guest_comments_are_pending_until_an_email_is_approved(db, organiser):
    from eventmgr.accounts.models import User

    writeup = service.create_writeup(title="One", slug="one", body="Text.", author=None)
    service.publish_writeup(writeup)
    topic = service.topic(writeup)
    earlier = datetime.now(UTC) - timedelta(minutes=1)
    first = discussions_service.add_guest_comment(
        topic, name="Gina", email="GINA@example.org", body="Hello", ip="10.0.0.1", now=earlier
    )
    assert first.is_pending and first.guest_email == "gina@example.org"
    assert first.thread.comment_count == 0
    with pytest.raises(discussions_service.DiscussionError, match="too quickly"):
        discussions_service.add_guest_comment(
            topic, name="Gina", email="gina@example.org", body="Again", ip="10.0.0.2",
            now=earlier + timedelta(seconds=10),
        )  # fmt: skip
    discussions_service.approve_comment(first, db.session.get(User, organiser.id))
    token = discussions_service.guest_confirmation_token(first_address := guest(first))
    assert discussions_service.confirm_guest(token) is first_address
    second = discussions_service.add_guest_comment(
        topic, name="Gina", email="gina@example.org", body="Again", ip="10.0.0.2",
        proven=[first_address.id],
    )  # fmt: skip
    assert second.is_published
    db.session.refresh(second.thread)
    assert second.thread.comment_count == 2


def test_publishing_twice_is_refused_and_unpublishing_keeps_the_date(db):
    writeup = service.create_writeup(title="One", slug="one", body="Text.", author=None)
    service.publish_writeup(writeup)
    published_at = writeup.published_at
    with pytest.raises(service.WriteUpError, match="already published"):
        service.publish_writeup(writeup)
    service.unpublish_writeup(writeup)
    assert db.session.get(WriteUp, writeup.id).published_at == published_at
