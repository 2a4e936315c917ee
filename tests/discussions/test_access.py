"""Who may use which discussion URL: anonymous visitors, members, attendees, authors, organisers."""

from __future__ import annotations

from typing import Any

import pytest

from eventmgr.discussions import service
from tests.discussions.conftest import Meeting

LOGIN = "login"  # a redirect to the login page
DONE = "done"  # a redirect after the action succeeded
ROLES = ("anonymous", "member", "attendee", "author", "organiser")

#: (method, URL template, form data, expected outcome per role in ROLES' order).
#: {comment} is published (by the author, reported by someone else), {hidden} is hidden.
MATRIX: list[tuple[str, str, dict[str, str] | None, tuple[Any, ...]]] = [
    ("GET", "{question}", None, (200, 200, 200, 200, 200)),
    ("POST", "{question}", {"body": "Hi"}, (LOGIN, 403, DONE, DONE, DONE)),
    ("GET", "{follow_up}", None, (200, 200, 200, 200, 200)),
    ("POST", "{follow_up}", {"body": "Hi"}, (LOGIN, 403, DONE, DONE, DONE)),
    ("POST", "{question}/lock", {"reason": "Heat"}, (LOGIN, 403, 403, 403, DONE)),
    ("POST", "{question}/unlock", {}, (LOGIN, 403, 403, 403, DONE)),
    ("POST", "{follow_up}/lock", {}, (LOGIN, 403, 403, 403, DONE)),
    ("POST", "{follow_up}/unlock", {}, (LOGIN, 403, 403, 403, DONE)),
    ("GET", "/comments/{comment}", None, (DONE, DONE, DONE, DONE, DONE)),
    ("GET", "/comments/{comment}/reply", None, (LOGIN, 403, 200, 200, 200)),
    ("POST", "/comments/{comment}/reply", {"body": "Re"}, (LOGIN, 403, DONE, DONE, DONE)),
    ("GET", "/comments/{comment}/edit", None, (LOGIN, 403, 403, 200, 403)),
    ("POST", "/comments/{comment}/edit", {"body": "New"}, (LOGIN, 403, 403, DONE, 403)),
    ("GET", "/comments/{comment}/delete", None, (LOGIN, 403, 403, 200, 403)),
    ("POST", "/comments/{comment}/delete", {}, (LOGIN, 403, 403, DONE, 403)),
    ("GET", "/comments/{comment}/report", None, (LOGIN, 200, 200, 400, 200)),
    ("POST", "/comments/{comment}/report", {"reason": "No"}, (LOGIN, DONE, DONE, 400, DONE)),
    ("GET", "/comments/{comment}/hide", None, (LOGIN, 403, 403, 403, 200)),
    ("POST", "/comments/{comment}/hide", {"reason": "Rude"}, (LOGIN, 403, 403, 403, DONE)),
    ("GET", "/comments/{hidden}/restore", None, (LOGIN, 403, 403, 403, 200)),
    ("POST", "/comments/{hidden}/restore", {}, (LOGIN, 403, 403, 403, DONE)),
    ("POST", "/comments/{comment}/dismiss", {}, (LOGIN, 403, 403, 403, DONE)),
    ("GET", "/moderation/", None, (LOGIN, 403, 403, 403, 200)),
]
CASES = [
    pytest.param(method, path, data, role, expected[index], id=f"{method} {path} {role}")
    for method, path, data, expected in MATRIX
    for index, role in enumerate(ROLES)
]
#: Outcomes that leave everything as it was.
REFUSALS = (LOGIN, 400, 403, 404)


@pytest.fixture
def scene(meeting: Meeting, make_user, register, post, act_on, organiser) -> dict[str, Any]:
    """The meeting, one user per role, a reported comment by `author` and a hidden comment."""
    member = make_user(display_name="Max Member")
    attendee = make_user(display_name="Ada Attendee")
    author = make_user(display_name="Aaron Author")
    reporter = make_user(display_name="Rita Reporter")
    for user in (attendee, author, reporter):
        register(meeting, user)
    comment = post(meeting, author, "Communities need time.")
    hidden = post(meeting, author, "Something regrettable.")
    act_on(service.hide_comment, hidden, organiser, "Personal remarks")
    act_on(service.report_comment, comment, reporter, "Off topic")
    users = {"member": member, "attendee": attendee, "author": author, "organiser": organiser}
    places = {
        "question": meeting.question_url(),
        "follow_up": meeting.follow_up_url,
        "comment": comment,
        "hidden": hidden,
    }
    return {"users": users, "places": places, "meeting": meeting}


def send(client, method: str, path: str, data: dict[str, str] | None, places: dict[str, Any]):
    """Send `method` to `path` filled in with the scene's addresses and ids."""
    url = path.format(**places)
    return client.get(url) if method == "GET" else client.post(url, data=data or {})


def outcome(response) -> Any:
    """LOGIN, DONE or the status code, comparable with the matrix."""
    if response.status_code == 302:
        return LOGIN if "/account/login" in response.headers["Location"] else DONE
    return response.status_code


@pytest.mark.parametrize(("method", "path", "data", "role", "expected"), CASES)
def test_access_matrix(client, scene, login_as, snapshot, method, path, data, role, expected):
    if role != "anonymous":
        login_as(scene["users"][role])
    before = snapshot()
    response = send(client, method, path, data, scene["places"])
    assert outcome(response) == expected
    if expected in REFUSALS or method == "GET":
        assert snapshot() == before


@pytest.fixture
def draft_scene(make_meeting, organiser, post) -> dict[str, Any]:
    """A draft meeting with a comment an organiser wrote while preparing it."""
    draft = make_meeting(status="draft", discussion_policy="members")
    comment = post(draft, organiser, "Draft note")
    return {
        "question": draft.question_url(),
        "follow_up": draft.follow_up_url,
        "comment": comment,
        "hidden": comment,
    }


PUBLIC_ON_PUBLISHED = [
    ("GET", "{question}", None),
    ("POST", "{question}", {"body": "Hi"}),
    ("GET", "{follow_up}", None),
    ("GET", "/comments/{comment}", None),
    ("GET", "/comments/{comment}/reply", None),
    ("GET", "/comments/{comment}/report", None),
    ("POST", "/comments/{comment}/report", {"reason": "x"}),
]


@pytest.mark.parametrize(
    ("method", "path", "data"),
    PUBLIC_ON_PUBLISHED,
    ids=[f"{m} {p}" for m, p, _ in PUBLIC_ON_PUBLISHED],
)
def test_draft_meetings_discussions_are_404_for_members(
    client, draft_scene, member, login_as, snapshot, method, path, data
):
    login_as(member)
    before = snapshot()
    assert send(client, method, path, data, draft_scene).status_code == 404
    assert snapshot() == before


def test_draft_meetings_discussions_are_404_for_anonymous_visitors(client, draft_scene):
    for path in ("{question}", "{follow_up}", "/comments/{comment}"):
        assert send(client, "GET", path, None, draft_scene).status_code == 404


def test_organisers_read_draft_meetings_discussions(client, draft_scene, organiser, login_as):
    login_as(organiser)
    assert send(client, "GET", "{question}", None, draft_scene).status_code == 200
    assert outcome(send(client, "GET", "/comments/{comment}", None, draft_scene)) == DONE


def test_unknown_comments_are_404_for_every_action(client, organiser, login_as):
    login_as(organiser)
    for suffix in ("", "/reply", "/edit", "/delete", "/report", "/hide", "/restore"):
        assert client.get(f"/comments/424242{suffix}").status_code == 404, suffix
    assert client.post("/comments/424242/dismiss").status_code == 404
