"""Every route of the app × every kind of actor: the status each one gets for GET and POST.

The routes come from `app.url_map`, so a route added without an entry in EXPECTED fails
`test_every_route_has_an_expected_row`. Actors: anonymous, a member, the attendee of the meeting
(confirmed registration, author of the comments), another member, an organiser and an admin.
URL variables point at a published upcoming meeting (its question, speaker, the attendee's
registration and comment). POSTs carry no form fields: the matrix is about who gets in, not about
valid input (CSRF is off here; CSRF has tests/security/test_csrf.py). Refused actors must change
nothing (every row before == after). The attendee, organiser and admin each get a fresh world,
so one's successful POST never changes what the next one sees.

Reading the table: 302 for anonymous is "log in first"; 400 for a privileged POST is "form empty";
an empty POST to an edit form keeps the stored values (302). Each row: (GET, POST) per actor in
the order anonymous, member, attendee, other member, organiser, admin.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup

from eventmgr import create_app
from tests.conftest import base_config, empty_all_tables
from tests.security.conftest import (
    ACTORS,
    DRAFT_SLUG_WORD,
    DRAFT_TITLE,
    DRAFT_WRITEUP_TITLE,
    PENDING_GUEST_TEXT,
    PENDING_TEXT,
    login_clients,
)
from tests.security.routes import fill, routes

#: Actors whose POSTs may succeed: each starts from a fresh world.
PRIVILEGED = {"attendee", "organiser", "admin"}
#: Actors who may see drafts and pending comments (on the pages made for them).
ORGANISERS = {"organiser", "admin"}


def row(*statuses: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """One route's expectations: (GET, POST) per actor, in ACTORS order."""
    return dict(zip(ACTORS, statuses, strict=True))


def same(get: int, post: int) -> dict[str, tuple[int, int]]:
    """Every actor gets the same."""
    return row(*[(get, post)] * len(ACTORS))


EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    "/": same(200, 405),
    "/account/": row((302, 302), (200, 302), (200, 302), (200, 302), (200, 302), (200, 302)),
    "/account/login": row((200, 200), (302, 302), (302, 302), (302, 302), (302, 302), (302, 302)),
    "/account/login/link": row(
        (200, 200), (302, 302), (302, 302), (302, 302), (302, 302), (302, 302)
    ),
    "/account/login/link/<token>": same(302, 302),
    "/account/logout": same(405, 302),
    "/account/password": row(
        (405, 302), (405, 200), (405, 200), (405, 200), (405, 200), (405, 200)
    ),
    "/account/signup": row((200, 200), (302, 302), (302, 302), (302, 302), (302, 302), (302, 302)),
    "/account/users": row((302, 405), (403, 405), (403, 405), (403, 405), (403, 405), (200, 405)),
    "/account/users/<int:user_id>/role": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 403), (405, 302)
    ),
    "/account/confirm/<token>": same(302, 405),
    "/account/confirm/resend": same(302, 302),
    "/account/reset": same(200, 200),
    "/account/reset/<token>": same(302, 302),
    # The session is the other member's second device: only they may sign it out; everyone else is
    # told it is signed out already, as after a double click (test_sessions.py checks it is not).
    "/account/sessions/<int:session_id>/sign-out": same(405, 302),
    "/account/sessions/sign-out-others": same(405, 302),
    "/comments/<int:comment_id>/<any(approve, reject, spam):decision>": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    "/writeups.atom": same(200, 405),
    "/writeups/": same(200, 405),
    # The world's token is not a guest confirmation token: the page says the link is not valid.
    "/writeups/guests/confirm/<token>": same(400, 405),
    "/writeups/<slug>": same(200, 400),
    "/writeups/<slug>/<any(publish, unpublish):change>": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    "/writeups/<slug>/<any(lock, unlock):change>": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    # Guests' reply form under a comment; the world's only comment on the write-up is pending, so
    # nobody may answer it (tests/writeups/test_guest_threads.py covers published ones).
    "/writeups/<slug>/comments/<int:comment_id>/reply": same(404, 404),
    "/writeups/<slug>/edit": row(
        (302, 302), (403, 403), (403, 403), (403, 403), (200, 302), (200, 302)
    ),
    "/writeups/new": row((302, 302), (403, 403), (403, 403), (403, 403), (200, 400), (200, 400)),
    "/comments/<int:comment_id>": same(302, 405),
    "/comments/<int:comment_id>/<any(hide, restore):change>": row(
        (302, 302), (403, 403), (403, 403), (403, 403), (200, 400), (200, 400)
    ),
    "/comments/<int:comment_id>/delete": row(
        (302, 302), (403, 403), (200, 302), (403, 403), (403, 403), (403, 403)
    ),
    # No open reports: dealt with already, so moderators are told so on the moderation page.
    "/comments/<int:comment_id>/dismiss": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    "/comments/<int:comment_id>/edit": row(
        (302, 302), (403, 403), (200, 302), (403, 403), (403, 403), (403, 403)
    ),
    "/comments/<int:comment_id>/reply": row(
        (302, 302), (403, 403), (200, 400), (403, 403), (200, 400), (200, 400)
    ),
    "/comments/<int:comment_id>/report": row(
        (302, 302), (200, 400), (400, 400), (200, 400), (200, 400), (200, 400)
    ),
    "/events.ics": same(200, 405),
    "/events/": same(200, 405),
    "/events/<slug>": same(200, 405),
    "/events/<slug>.ics": same(200, 405),
    "/events/<slug>/attendees": row(
        (302, 405), (403, 405), (403, 405), (403, 405), (200, 405), (200, 405)
    ),
    "/events/<slug>/attendees.csv": row(
        (302, 405), (403, 405), (403, 405), (403, 405), (200, 405), (200, 405)
    ),
    "/events/<slug>/attendees/<int:registration_id>/attendance": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 400), (405, 400)
    ),
    "/events/<slug>/attendees/<int:registration_id>/remove": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    "/events/<slug>/cancel": row(
        (302, 302), (403, 403), (403, 403), (403, 403), (200, 302), (200, 302)
    ),
    "/events/<slug>/discussion": row(
        (200, 302), (200, 403), (200, 400), (200, 403), (200, 400), (200, 400)
    ),
    "/events/<slug>/discussion/<any(lock, unlock):change>": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    "/events/<slug>/edit": row(
        (302, 302), (403, 403), (403, 403), (403, 403), (200, 200), (200, 200)
    ),
    "/events/<slug>/publish": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    "/events/<slug>/questions": row(
        (302, 302), (403, 403), (403, 403), (403, 403), (200, 200), (200, 200)
    ),
    "/events/<slug>/questions/<int:question_id>": row(
        (200, 302), (200, 403), (200, 400), (200, 403), (200, 400), (200, 400)
    ),
    "/events/<slug>/questions/<int:question_id>/<any(lock, unlock):change>": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    "/events/<slug>/questions/<int:question_id>/edit": row(
        (302, 302), (403, 403), (403, 403), (403, 403), (200, 302), (200, 302)
    ),
    "/events/<slug>/questions/<int:question_id>/move/<any(up, down):direction>": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    # The world's question has the attendee's comment: organisers see the page that offers to
    # retire it, and their POST is refused with a redirect (tests/discussions/test_retired_questions.py).
    "/events/<slug>/questions/<int:question_id>/remove": row(
        (302, 302), (403, 403), (403, 403), (403, 403), (200, 302), (200, 302)
    ),
    "/events/<slug>/questions/<int:question_id>/<any(retire, restore):change>": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    "/events/<slug>/register": same(405, 302),
    "/events/<slug>/speakers": row(
        (302, 302), (403, 403), (403, 403), (403, 403), (200, 200), (200, 200)
    ),
    "/events/<slug>/speakers/<int:speaker_id>/edit": row(
        (302, 302), (403, 403), (403, 403), (403, 403), (200, 302), (200, 302)
    ),
    "/events/<slug>/speakers/<int:speaker_id>/move/<any(up, down):direction>": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    "/events/<slug>/speakers/<int:speaker_id>/remove": row(
        (405, 302), (405, 403), (405, 403), (405, 403), (405, 302), (405, 302)
    ),
    "/events/<slug>/unregister": same(405, 302),
    "/events/new": row((302, 302), (403, 403), (403, 403), (403, 403), (200, 200), (200, 200)),
    "/events/past": same(200, 405),
    "/healthz": same(200, 405),
    "/mail/unsubscribe/<token>": same(200, 302),
    "/moderation/": row((302, 405), (403, 405), (403, 405), (403, 405), (200, 405), (200, 405)),
    "/my/events": row((302, 405), (200, 405), (200, 405), (200, 405), (200, 405), (200, 405)),
    "/static/<path:filename>": same(200, 405),
}


#: Routes where an anonymous POST may change data by design, each with the reason.
ANONYMOUS_WRITES = {
    # The signed token in the URL authorises the unsubscribe, not a login: an anonymous POST turns
    # that kind of email off (an UPDATE of the token's user, eventmgr/mail/views.py).
    "/mail/unsubscribe/<token>": "unsubscribe authorised by the URL's signed token",
}

#: Routes whose variables point elsewhere: moderation decisions act on the pending comment.
RULE_PARAMS = {
    "/comments/<int:comment_id>/<any(approve, reject, spam):decision>": {
        "comment_id": "guest_pending"
    },
    **{
        rule: {"slug": "writeup_slug"}
        for rule in (
            "/writeups/<slug>",
            "/writeups/<slug>/edit",
            "/writeups/<slug>/<any(publish, unpublish):change>",
            "/writeups/<slug>/<any(lock, unlock):change>",
        )
    },
    "/writeups/<slug>/comments/<int:comment_id>/reply": {
        "slug": "writeup_slug",
        "comment_id": "guest_pending",
    },
}

ROUTES = routes(create_app(base_config("sqlite://")))
ROUTE_IDS = [rule for rule, _ in ROUTES]


def params_for(rule: str, params: dict) -> dict:
    """The world's values for `rule`, with RULE_PARAMS's substitutions."""
    return {**params, **{name: params[key] for name, key in RULE_PARAMS.get(rule, {}).items()}}


def test_every_route_has_an_expected_row(app):
    """The app as built now (with every blueprint other engineers added) is fully covered."""
    present = {rule for rule, _ in routes(app)}
    missing = sorted(present - set(EXPECTED))
    assert not missing, f"add these routes to EXPECTED: {missing}"
    assert not set(EXPECTED) - present, "EXPECTED lists routes the app no longer has"
    assert set(ANONYMOUS_WRITES) <= present, "ANONYMOUS_WRITES lists routes the app no longer has"


@pytest.mark.parametrize(("rule", "methods"), ROUTES, ids=ROUTE_IDS)
def test_route_answers_each_actor_as_expected(app, make_world, rows, cleanup_engine, rule, methods):
    world = make_world()
    actual = {}
    for actor in ACTORS:
        if actor in PRIVILEGED and "POST" in methods:
            empty_all_tables(cleanup_engine)
            world = make_world()
        url = fill(rule, params_for(rule, world.params))
        client = login_clients(app, world)[actor]
        before = rows()
        get = client.get(url).status_code
        post = client.post(url, data={}).status_code
        if post >= 400 or (actor == "anonymous" and rule not in ANONYMOUS_WRITES):
            assert rows() == before, f"{actor} changed rows with a refused POST to {url}"
        actual[actor] = (get, post)
    assert actual == EXPECTED[rule], f"{rule!r}: row{tuple(actual[actor] for actor in ACTORS)}"


def _visible(response) -> str:
    return response.get_data(as_text=True)


def _get_urls(app, world) -> list[tuple[str, str]]:
    """Every GET route filled twice: with the upcoming meeting's values and the draft's."""
    urls = []
    for rule, methods in routes(app):
        if "GET" not in methods or rule.startswith("/static"):
            continue
        urls.append((rule, fill(rule, params_for(rule, world.params))))
        if rule.startswith("/writeups/<slug>"):
            urls.append(
                (rule, fill(rule, {**world.params, "slug": world.params["draft_writeup_slug"]}))
            )
        elif "<slug>" in rule:
            urls.append((rule, fill(rule, {**world.params, **world.draft_params})))
    return urls


def test_drafts_and_pending_comments_never_leak(app, make_world):
    """Every GET route (pages, /events.ics, calendars, CSV) for every actor: the draft's title and
    slug and the pending comment's text appear only for organisers and admins, and never in feeds."""
    world = make_world()
    clients = login_clients(app, world)
    secrets = (DRAFT_TITLE, DRAFT_SLUG_WORD, PENDING_TEXT, DRAFT_WRITEUP_TITLE, "yttrium-unpub",
               PENDING_GUEST_TEXT)  # fmt: skip
    leaks = []
    for actor in ACTORS:
        for rule, url in _get_urls(app, world):
            response = clients[actor].get(url)
            # A redirect to the login page names the address asked for; nothing more.
            body = _visible(response).replace(url.split("?")[0], "")
            body = body.replace(quote(url.split("?")[0], safe=""), "")
            feed = rule.endswith((".ics", ".atom"))
            if actor in ORGANISERS and not feed:
                continue
            leaks += [(actor, url, secret) for secret in secrets if secret in body]
    assert not leaks
    # The check can fail: organisers do see the draft on the meeting list and the pending comment.
    organiser = clients["organiser"]
    assert DRAFT_TITLE in _visible(organiser.get("/events/"))
    thread = fill("/events/<slug>/questions/<int:question_id>", world.params)
    assert PENDING_TEXT in BeautifulSoup(_visible(organiser.get(thread)), "html5lib").get_text()
