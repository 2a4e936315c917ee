"""Every state change happens once, however many requests for it arrive at the same moment.

Each test fires PARALLEL requests for one transition at once (a barrier releases them together)
through gunicorn with several worker processes, as in production, then checks the database: the
change was made once, its log entry and emails exist once, the counters match the rows, and every
request got a clear answer (a redirect with "done" or "already done"), never a 500. The requests
come from several organisers at once, or from one member's browser clicking again and again.

Every transition starts with a row lock (eventmgr.database.lock_row) and re-checks its rules on
the row as the last holder committed it; without that, these tests saw 3 of 8 approvals each log
and email, and 8 deletes drive a thread's comment counter below zero (issue 11).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from eventmgr.accounts import service as accounts_service
from eventmgr.accounts.models import User, UserSession
from eventmgr.discussions.models import Comment, ModerationAction, Report, Thread
from eventmgr.events.models import Event, Question
from eventmgr.extensions import db
from eventmgr.mail.models import OutboxMessage
from eventmgr.registrations.models import Registration
from eventmgr.writeups.models import WriteUp
from tests.events.helpers import meeting_form
from tests.registrations.crowd import Server, Visitor, all_at_once, serving
from tests.served import server_environment

#: How many requests for the same change arrive at once.
PARALLEL = 8
FLASH = re.compile(r'<p class="flash flash--(\w+)">([^<]*)</p>')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app as `app.py` builds it, under gunicorn with several workers, on a fresh database."""
    with serving(tmp_path_factory.mktemp("transitions"), "transitions") as server:
        yield server


_numbers = iter(range(1, 1_000_000))


def make_person(server: Server, *, role: str = "member") -> tuple[int, str]:
    """A new confirmed account: (id, email)."""
    number = next(_numbers)
    with server.app.app_context():
        user = accounts_service.create_user(
            email=f"{role}-{number}@example.org",
            display_name=f"{role.title()} {number}",
            password="correct horse battery staple",
            role=role,
        )
        db.session.commit()
        return user.id, user.email


@dataclass
class Browser:
    """A person logged in through the real form, with the CSRF token of their session."""

    visitor: Visitor
    token: str

    def clone(self) -> Visitor:
        """The same browser for one more request in parallel (its own copy of the cookies)."""
        return Visitor(self.visitor.server, copy.deepcopy(self.visitor.cookies))


def logged_in(server: Server, email: str) -> Browser:
    """Log in as `email` through the log-in form, as a person would."""
    visitor = Visitor(server)
    token = visitor.csrf_token("/account/login")
    status, _, _ = visitor.request(
        "POST",
        "/account/login",
        {"email": email, "password": "correct horse battery staple", "csrf_token": token},
    )
    assert status == 302, f"login failed for {email}: {status}"
    return Browser(visitor, visitor.csrf_token("/account/"))


@pytest.fixture(scope="module")
def organisers(server: Server) -> list[Browser]:
    """PARALLEL organisers, each logged in on their own browser."""
    return [logged_in(server, make_person(server, role="organiser")[1]) for _ in range(PARALLEL)]


@dataclass(frozen=True)
class Answer:
    """What one of the parallel requests got: its status and the message on the page it led to."""

    status: int
    kind: str
    message: str


def at_once(
    requests: list[tuple[Visitor, str, dict[str, str]]], *, follow: bool = True
) -> list[Answer]:
    """POST each (browser, path, form) at the same moment; then read each answer's flash."""

    def task(visitor: Visitor, path: str, form: dict[str, str]) -> Callable[[Any], Answer]:
        def run(barrier: Any) -> Answer:
            barrier.wait(timeout=60)
            status, location, body = visitor.request("POST", path, form)
            if status != 302 or not follow:
                return Answer(status, "", body[:200])
            _, _, page = visitor.request("GET", urlsplit(location).path)
            flash = FLASH.search(page)
            return Answer(status, *(flash.groups() if flash else ("", "")))

        return run

    answers, _ = all_at_once([task(*request) for request in requests])
    return answers


def by_everyone(browsers: list[Browser], path: str, **form: str) -> list[Answer]:
    """Every browser presses the same button at once."""
    return at_once([(b.clone(), path, {"csrf_token": b.token, **form}) for b in browsers])


def clicking(browser: Browser, path: str, **form: str) -> list[Answer]:
    """One person's browser sends the same form PARALLEL times at once (an impatient double click)."""
    form = {"csrf_token": browser.token, **form}
    return at_once([(browser.clone(), path, form) for _ in range(PARALLEL)])


def check_once(answers: list[Answer], *, done: str, already: str) -> None:
    """Every request was answered with a redirect: one saying `done`, the rest `already`."""
    assert [a.status for a in answers] == [302] * len(answers), answers
    assert sum(done in a.message for a in answers) == 1, answers
    assert sum(already in a.message for a in answers) == len(answers) - 1, answers


def query(server: Server, statement: Any) -> Any:
    """One scalar from the database the server uses."""
    with server.app.app_context():
        return db.session.scalar(statement)


def log_entries(server: Server, action: str, *, comment_id: int) -> int:
    return query(
        server,
        select(func.count(ModerationAction.id)).where(
            ModerationAction.action == action, ModerationAction.comment_id == comment_id
        ),
    )


def emails(server: Server, kind: str) -> list[str]:
    """The recipients of the outbox's emails of `kind`, sorted."""
    with server.app.app_context():
        return sorted(
            db.session.scalars(
                select(OutboxMessage.to_address).where(OutboxMessage.kind == kind)
            ).all()
        )


def check_counter(server: Server, thread_id: int) -> None:
    """The thread's comment counter is the number of its published comments."""
    with server.app.app_context():
        thread = db.session.get(Thread, thread_id)
        published = db.session.scalar(
            select(func.count(Comment.id)).where(
                Comment.thread_id == thread_id, Comment.status == "published"
            )
        )
        assert thread.comment_count == published


# Arranging ---------------------------------------------------------------------------------------


def make_meeting(server: Server, *, status: str = "published", attendees: int = 0) -> dict:
    """A meeting a week ahead with one key question and `attendees` confirmed members."""
    number = next(_numbers)
    people = [make_person(server) for _ in range(attendees)]
    starts_at = datetime.now(UTC) + timedelta(days=7)
    with server.app.app_context():
        event = Event(
            slug=f"meeting-{number}",
            title=f"Meeting {number}",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            status=status,
            published_at=datetime.now(UTC) if status == "published" else None,
            discussion_policy="members",
        )
        event.questions.append(Question(position=1, title="What do we need personally?"))
        db.session.add(event)
        db.session.flush()
        for queue_number, (user_id, _) in enumerate(people, start=1):
            db.session.add(
                Registration(
                    event_id=event.id,
                    user_id=user_id,
                    status="confirmed",
                    queue_number=queue_number,
                )
            )
        event.last_queue_number = len(people)
        db.session.commit()
        return {
            "id": event.id,
            "slug": event.slug,
            "question_id": event.questions[0].id,
            "attendees": sorted(email for _, email in people),
        }


def make_comments(server: Server, meeting: dict, author_id: int, count: int) -> tuple[int, list]:
    """`count` published comments by `author_id` on the meeting's question: (thread id, ids)."""
    with server.app.app_context():
        thread = Thread(question_id=meeting["question_id"], comment_count=count)
        db.session.add(thread)
        comments = [
            Comment(thread=thread, author_id=author_id, body=f"Point {n}", body_html=f"<p>{n}</p>")
            for n in range(count)
        ]
        db.session.add_all(comments)
        db.session.commit()
        return thread.id, [comment.id for comment in comments]


# Comments ----------------------------------------------------------------------------------------


def test_a_comment_hidden_by_eight_moderators_at_once_is_hidden_and_logged_once(server, organisers):
    author_id, _ = make_person(server)
    thread_id, (target, other) = make_comments(server, make_meeting(server), author_id, 2)
    answers = by_everyone(organisers, f"/comments/{target}/hide", reason="Off topic")
    check_once(answers, done="The comment is hidden.", already="already hidden")
    assert log_entries(server, "hide", comment_id=target) == 1
    check_counter(server, thread_id)
    # The counter is right, so the thread's other comment can still be hidden.
    answers = by_everyone(organisers[:1], f"/comments/{other}/hide", reason="Off topic")
    assert answers[0].message == "The comment is hidden."
    check_counter(server, thread_id)


def test_a_hidden_comment_restored_by_eight_moderators_at_once_is_restored_once(server, organisers):
    author_id, _ = make_person(server)
    thread_id, (target,) = make_comments(server, make_meeting(server), author_id, 1)
    by_everyone(organisers[:1], f"/comments/{target}/hide", reason="Checking")
    answers = by_everyone(organisers, f"/comments/{target}/restore", reason="It was fine")
    check_once(answers, done="The comment is shown again.", already="already restored")
    assert log_entries(server, "restore", comment_id=target) == 1
    check_counter(server, thread_id)


def test_a_comment_deleted_by_eight_clicks_at_once_is_counted_off_once(server):
    author_id, email = make_person(server)
    thread_id, (target, *_others) = make_comments(server, make_meeting(server), author_id, 3)
    answers = clicking(logged_in(server, email), f"/comments/{target}/delete")
    check_once(answers, done="Your comment has been deleted.", already="already been deleted")
    check_counter(server, thread_id)
    assert query(server, select(Thread.comment_count).where(Thread.id == thread_id)) == 2


def test_a_comment_reported_by_eight_clicks_at_once_is_reported_once(server):
    author_id, _ = make_person(server)
    _, (target,) = make_comments(server, make_meeting(server), author_id, 1)
    reader = logged_in(server, make_person(server)[1])
    answers = clicking(reader, f"/comments/{target}/report", reason="Not true")
    check_once(answers, done="The organisers will look", already="already reported")
    assert query(server, select(func.count(Report.id)).where(Report.comment_id == target)) == 1


def test_reports_dismissed_by_eight_moderators_at_once_are_dismissed_once(server, organisers):
    author_id, _ = make_person(server)
    _, (target,) = make_comments(server, make_meeting(server), author_id, 1)
    with server.app.app_context():
        for _ in range(2):
            reporter_id, _ = make_person(server)
            db.session.add(Report(comment_id=target, reporter_id=reporter_id, reason="Rude"))
        db.session.commit()
    answers = by_everyone(organisers, f"/comments/{target}/dismiss")
    check_once(answers, done="The reports are dismissed", already="dealt with already")
    assert log_entries(server, "dismiss", comment_id=target) == 1


def test_eight_first_comments_at_once_start_one_thread_and_all_are_posted(server):
    meeting = make_meeting(server)
    members = [logged_in(server, make_person(server)[1]) for _ in range(PARALLEL)]
    path = f"/events/{meeting['slug']}/questions/{meeting['question_id']}"
    answers = at_once(
        [
            (m.clone(), path, {"csrf_token": m.token, "body": f"Point {n}"})
            for n, m in enumerate(members)
        ]
    )
    assert all(a.message == "Your comment has been posted." for a in answers), answers
    with server.app.app_context():
        thread = db.session.scalar(
            select(Thread).where(Thread.question_id == meeting["question_id"])
        )
        assert thread.comment_count == PARALLEL
    check_counter(server, thread.id)


def test_a_comment_sent_by_eight_clicks_at_once_is_posted_once(server):
    meeting = make_meeting(server)
    member = logged_in(server, make_person(server)[1])
    path = f"/events/{meeting['slug']}/questions/{meeting['question_id']}"
    answers = clicking(member, path, body="Networks deliver when people meet.")
    assert [a.status for a in answers] == [302] * PARALLEL, answers
    assert sum(a.message == "Your comment has been posted." for a in answers) == 1, answers
    assert sum("a moment ago" in a.message for a in answers) == PARALLEL - 1, answers
    with server.app.app_context():
        thread = db.session.scalar(
            select(Thread).where(Thread.question_id == meeting["question_id"])
        )
        assert thread.comment_count == 1
    check_counter(server, thread.id)


def test_a_thread_locked_by_eight_moderators_at_once_is_locked_once(server, organisers):
    meeting = make_meeting(server)
    path = f"/events/{meeting['slug']}/questions/{meeting['question_id']}/lock"
    answers = by_everyone(organisers, path, reason="Heated")
    check_once(answers, done="The discussion is locked.", already="already locked")
    locks = query(
        server, select(func.count(ModerationAction.id)).where(ModerationAction.action == "lock")
    )
    assert locks == 1


def make_pending_reply(server: Server) -> dict:
    """A published write-up whose member comment has a guest's reply awaiting moderation."""
    number = next(_numbers)
    member_id, member_email = make_person(server)
    with server.app.app_context():
        writeup = WriteUp(
            slug=f"write-up-{number}",
            title=f"Write-up {number}",
            body="What we heard.",
            body_html="<p>What we heard.</p>",
            status="published",
            published_at=datetime.now(UTC),
            notified_at=datetime.now(UTC),
        )
        thread = Thread(writeup=writeup, comment_count=1)
        parent = Comment(thread=thread, author_id=member_id, body="Mine", body_html="<p>Mine</p>")
        db.session.add_all([writeup, thread, parent])
        db.session.flush()
        reply = Comment(
            thread=thread,
            parent=parent,
            root_id=parent.id,
            depth=1,
            guest_name="Gina Guest",
            guest_email="gina@example.net",
            body="Agreed",
            body_html="<p>Agreed</p>",
            status="pending",
        )
        db.session.add(reply)
        db.session.commit()
        return {"thread_id": thread.id, "reply": reply.id, "parent_author": member_email}


def test_a_guest_reply_approved_by_eight_moderators_at_once_is_published_and_emailed_once(
    server, organisers
):
    pending = make_pending_reply(server)
    answers = by_everyone(organisers, f"/comments/{pending['reply']}/approve")
    check_once(answers, done="The comment is published.", already="already approved")
    assert log_entries(server, "approve", comment_id=pending["reply"]) == 1
    assert emails(server, "comment-reply").count(pending["parent_author"]) == 1
    check_counter(server, pending["thread_id"])


@pytest.mark.parametrize(
    ("decision", "done", "already", "status"),
    [
        ("reject", "The comment is rejected.", "already rejected", "deleted"),
        ("spam", "The comment is marked as spam.", "already marked as spam", "spam"),
    ],
)
def test_a_guest_reply_refused_by_eight_moderators_at_once_is_refused_once(
    server, organisers, decision, done, already, status
):
    pending = make_pending_reply(server)
    answers = by_everyone(organisers, f"/comments/{pending['reply']}/{decision}")
    check_once(answers, done=done, already=already)
    kind = "reject" if decision == "reject" else "spam"
    assert log_entries(server, kind, comment_id=pending["reply"]) == 1
    assert query(server, select(Comment.status).where(Comment.id == pending["reply"])) == status
    check_counter(server, pending["thread_id"])


# Write-ups and meetings --------------------------------------------------------------------------


def make_writeup(server: Server, meeting: dict) -> str:
    """A draft write-up of the meeting; returns its slug."""
    number = next(_numbers)
    with server.app.app_context():
        writeup = WriteUp(
            event_id=meeting["id"],
            slug=f"report-{number}",
            title=f"Report {number}",
            body="What we heard.",
            body_html="<p>What we heard.</p>",
            status="draft",
        )
        db.session.add(writeup)
        db.session.commit()
        return writeup.slug


def test_a_write_up_published_by_eight_organisers_at_once_emails_each_attendee_once(
    server, organisers
):
    meeting = make_meeting(server, attendees=3)
    slug = make_writeup(server, meeting)
    answers = by_everyone(organisers, f"/writeups/{slug}/publish")
    check_once(answers, done="The write-up is published.", already="already published")
    assert emails(server, "writeup-published") == meeting["attendees"]

    answers = by_everyone(organisers, f"/writeups/{slug}/unpublish")
    check_once(answers, done="The write-up is a draft again.", already="already a draft")
    assert query(server, select(WriteUp.status).where(WriteUp.slug == slug)) == "draft"


def test_a_meeting_published_by_eight_organisers_at_once_is_published_once(server, organisers):
    meeting = make_meeting(server, status="draft")
    answers = by_everyone(organisers, f"/events/{meeting['slug']}/publish")
    check_once(answers, done="The meeting is published.", already="already published")
    assert query(server, select(Event.status).where(Event.id == meeting["id"])) == "published"


def test_a_meeting_moved_by_eight_saves_at_once_is_announced_once(server, organisers):
    meeting = make_meeting(server, attendees=2)
    later = datetime.now(UTC) + timedelta(days=14)
    form = meeting_form(
        title="Moved meeting",
        starts_at=f"{later:%Y-%m-%dT%H:00}",
        ends_at=f"{later + timedelta(hours=2):%Y-%m-%dT%H:00}",
        timezone="UTC",
        capacity="",
        discussion_policy="members",
    )
    answers = by_everyone(organisers, f"/events/{meeting['slug']}/edit", **form)
    assert [a.status for a in answers] == [302] * PARALLEL, answers
    # Each save after the first finds nothing to change, so only the first is announced.
    assert emails(server, "meeting-changed") == meeting["attendees"]
    assert query(server, select(Event.sequence).where(Event.id == meeting["id"])) == 1


def test_a_meeting_cancelled_by_eight_organisers_at_once_emails_each_attendee_once(
    server, organisers
):
    meeting = make_meeting(server, attendees=3)
    answers = by_everyone(organisers, f"/events/{meeting['slug']}/cancel")
    check_once(answers, done="The meeting is cancelled.", already="already cancelled")
    assert emails(server, "meeting-cancelled") == meeting["attendees"]
    assert query(server, select(Event.sequence).where(Event.id == meeting["id"])) == 1


def test_a_question_retired_by_eight_organisers_at_once_is_retired_once(server, organisers):
    meeting = make_meeting(server)
    path = f"/events/{meeting['slug']}/questions/{meeting['question_id']}/retire"
    answers = by_everyone(organisers, path)
    check_once(answers, done="The question is retired", already="already retired")
    answers = by_everyone(organisers, path.replace("/retire", "/restore"))
    check_once(answers, done="The question is back", already="already on the programme")
    position = query(server, select(Question.position).where(Question.id == meeting["question_id"]))
    assert position == 1


# Registrations and sessions ----------------------------------------------------------------------


def waitlist(server: Server, meeting: dict) -> tuple[int, str]:
    """A member on the (full) meeting's waiting list: (id, email)."""
    user_id, email = make_person(server)
    with server.app.app_context():
        event = db.session.get(Event, meeting["id"])
        event.capacity = len(meeting["attendees"])
        event.last_queue_number += 1
        db.session.add(
            Registration(
                event_id=event.id,
                user_id=user_id,
                status="waitlisted",
                queue_number=event.last_queue_number,
            )
        )
        db.session.commit()
    return user_id, email


def test_a_member_registering_with_eight_clicks_at_once_is_registered_and_emailed_once(server):
    meeting = make_meeting(server)
    _, email = make_person(server)
    answers = clicking(logged_in(server, email), f"/events/{meeting['slug']}/register")
    assert [a.status for a in answers] == [302] * PARALLEL, answers
    assert sum("You are registered" in a.message for a in answers) == 1, answers
    assert sum("already registered" in a.message for a in answers) == PARALLEL - 1, answers
    rows = query(
        server, select(func.count(Registration.id)).where(Registration.event_id == meeting["id"])
    )
    assert rows == 1
    assert emails(server, "registration-confirmed").count(email) == 1


def test_a_member_unregistering_with_eight_clicks_at_once_frees_one_seat_once(server):
    meeting = make_meeting(server, attendees=2)
    _, waiting = waitlist(server, meeting)
    leaving = logged_in(server, meeting["attendees"][0])
    answers = clicking(leaving, f"/events/{meeting['slug']}/unregister")
    assert [a.status for a in answers] == [302] * PARALLEL, answers
    assert sum("is cancelled" in a.message for a in answers) == 1, answers
    assert emails(server, "registration-cancelled").count(meeting["attendees"][0]) == 1
    assert emails(server, "registration-promoted").count(waiting) == 1


def test_a_registration_removed_by_eight_organisers_at_once_promotes_once(server, organisers):
    meeting = make_meeting(server, attendees=2)
    _, waiting = waitlist(server, meeting)
    with server.app.app_context():
        registration_id = db.session.scalar(
            select(Registration.id)
            .join(User, User.id == Registration.user_id)
            .where(User.email == meeting["attendees"][0])
        )
    path = f"/events/{meeting['slug']}/attendees/{registration_id}/remove"
    answers = by_everyone(organisers, path)
    check_once(answers, done="Removed the registration", already="already cancelled")
    assert emails(server, "registration-promoted").count(waiting) == 1
    confirmed = query(
        server,
        select(func.count(Registration.id)).where(
            Registration.event_id == meeting["id"], Registration.status == "confirmed"
        ),
    )
    assert confirmed == 2


def test_a_member_checked_in_by_eight_organisers_at_once_is_checked_in(server, organisers):
    meeting = make_meeting(server, attendees=1)
    with server.app.app_context():
        registration_id = db.session.scalar(
            select(Registration.id).where(Registration.event_id == meeting["id"])
        )
    path = f"/events/{meeting['slug']}/attendees/{registration_id}/attendance"
    answers = by_everyone(organisers, path, attended="yes")
    assert [a.status for a in answers] == [302] * PARALLEL, answers
    assert all("is checked in" in a.message for a in answers), answers
    assert query(server, select(Registration.attended).where(Registration.id == registration_id))


def test_a_reset_link_used_by_eight_clicks_at_once_changes_the_password_once(server):
    user_id, _ = make_person(server)
    with server.app.app_context():
        # Signed as the served app signs: with its key, not the test app's.
        secret = server.app.config["SECRET_KEY"]
        server.app.config["SECRET_KEY"] = server_environment("", Path())["SECRET_KEY"]
        try:
            token = accounts_service.password_reset_token(db.session.get(User, user_id))
        finally:
            server.app.config["SECRET_KEY"] = secret
    path = f"/account/reset/{token}"
    browsers = []
    for _ in range(PARALLEL):
        visitor = Visitor(server)
        browsers.append(Browser(visitor, visitor.csrf_token(path)))
    new_password = "a brand new passphrase 2015"
    answers = by_everyone(browsers, path, password=new_password, confirm_password=new_password)
    changed = [a for a in answers if a.status == 302 and "password has been changed" in a.message]
    assert len(changed) == 1, answers
    # The others see the form again with "just been used", or (arriving after the first was
    # committed) are told the link was used; none is an error page.
    assert all(a.status in (200, 302) for a in answers), answers
    # One device session: only the first use logged anyone in.
    sessions = query(
        server, select(func.count(UserSession.id)).where(UserSession.user_id == user_id)
    )
    assert sessions == 1


def test_a_device_signed_out_by_eight_clicks_at_once_is_signed_out_once(server):
    _, email = make_person(server)
    other_device = logged_in(server, email)
    this_device = logged_in(server, email)
    with server.app.app_context():
        other_id = db.session.scalar(
            select(func.min(UserSession.id)).join(User).where(User.email == email)
        )
    answers = clicking(this_device, f"/account/sessions/{other_id}/sign-out")
    check_once(answers, done="Signed out the session", already="That session is already signed out")
    # The other device is signed out; this one is still in.
    assert other_device.visitor.request("GET", "/account/")[0] == 302
    assert this_device.visitor.request("GET", "/account/")[0] == 200

    answers = clicking(this_device, "/account/sessions/sign-out-others")
    assert [a.status for a in answers] == [302] * PARALLEL, answers
    assert this_device.visitor.request("GET", "/account/")[0] == 200
