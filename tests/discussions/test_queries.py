"""Rendering a thread costs the same number of SQL queries whatever its size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from eventmgr.accounts.models import User
from eventmgr.discussions import service
from eventmgr.discussions.models import Comment
from eventmgr.extensions import db as _db
from tests.discussions.conftest import Meeting, topic_for
from tests.discussions.helpers import comment_ids, listed_reports

#: Deepest reply the seeded threads contain (depth 7: eight levels, three past the display limit).
SEED_DEPTH = 7


@pytest.fixture
def seed_thread(in_app: Callable[..., Any]) -> Callable[..., None]:
    """Post `count` comments through the service in one transaction: every tenth one top-level,
    the others replying to the comment before (nesting up to SEED_DEPTH); the last one hidden."""

    def seed(meeting: Meeting, authors: list[Any], count: int, *, moderator: Any) -> None:
        def act() -> None:
            people = [_db.session.get(User, author.id) for author in authors]
            topic = topic_for(meeting)
            previous: Comment | None = None
            for number in range(count):
                parent = None
                if number % 10 and previous is not None:
                    parent = previous if previous.depth < SEED_DEPTH else previous.parent
                author = people[number % len(people)]
                previous = service.add_comment(
                    topic, author, f"Comment **{number}**", parent=parent
                )
            # Leaves only, so that every reply above still has a published parent.
            service.hide_comment(
                previous, _db.session.get(User, moderator.id), "Testing placeholders"
            )
            _db.session.commit()

        in_app(act)

    return seed


def test_thread_page_query_count_does_not_depend_on_its_size(
    client, make_meeting, make_user, register, organiser, seed_thread, count_queries, login_as
):
    small, large = make_meeting(), make_meeting()
    attendee = make_user(display_name="Ada Attendee")
    for meeting in (small, large):
        register(meeting, attendee)
    # One author, so that seeding queues no reply emails (they are tested elsewhere).
    seed_thread(small, [attendee], 10, moderator=organiser)
    seed_thread(large, [attendee], 1_000, moderator=organiser)

    for viewer in (None, attendee, organiser):
        if viewer is not None:
            login_as(viewer)
        counts, shown = [], []
        for meeting in (small, large):
            with count_queries() as statements:
                response = client.get(meeting.question_url())
            assert response.status_code == 200
            counts.append(len(statements))
            shown.append(len(comment_ids(response)))
        assert counts[0] == counts[1], (viewer, counts)
        assert counts[0] <= 10, (viewer, counts)
        # The large thread really does render more: 20 top-level comments with their replies.
        assert shown == [10, 200]

        with count_queries() as statements:
            assert client.get(large.question_url() + "?page=5&sort=active").status_code == 200
        assert len(statements) == counts[1]


def test_meeting_and_home_pages_add_one_query_each_for_discussions(
    client, make_meeting, attendee, meeting, organiser, seed_thread, count_queries
):
    seed_thread(meeting, [attendee, organiser], 30, moderator=organiser)
    with count_queries() as statements:
        client.get(f"/events/{meeting.slug}")
    discussion_queries = [sql for sql in statements if "threads" in sql]
    assert len(discussion_queries) == 1
    with count_queries() as statements:
        client.get("/")
    assert len([sql for sql in statements if "threads" in sql]) == 1


def test_moderation_page_query_count_does_not_depend_on_reports(
    client, meeting, attendee, organiser, make_user, post, act_on, count_queries, login_as
):
    login_as(organiser)
    reporters = [make_user() for _ in range(6)]
    first = post(meeting, attendee, "First")
    act_on(service.report_comment, first, reporters[0], "One")
    with count_queries() as statements:
        first_page = client.get("/moderation/")
    assert first_page.status_code == 200
    few = len(statements)
    for number, reporter in enumerate(reporters[1:]):
        comment = post(meeting, attendee, f"Comment {number}", question=1)
        act_on(service.report_comment, comment, reporter, "Again")
        if number % 2:
            act_on(service.hide_comment, comment, organiser, "Logged")
    with count_queries() as statements:
        second_page = client.get("/moderation/")
    assert second_page.status_code == 200
    assert len(statements) == few
    # The second page really shows more reports, so the equal counts cover rows that grew.
    assert listed_reports(second_page) > listed_reports(first_page)
