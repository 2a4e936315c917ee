"""Every POST route refuses a request without a CSRF token (400) and changes nothing.

The client is logged in as an admin (organiser rights and more) so authorisation never answers
first, and the URLs point at real objects, so "not found" never answers first either.
"""

from __future__ import annotations

import pytest

from tests.security.conftest import login_clients, table_rows
from tests.security.routes import fill, routes
from tests.security.test_authorisation_matrix import ROUTES, params_for

#: POST routes that take no CSRF token, each with the reason.
EXEMPT = {
    # RFC 8058 one-click unsubscribe: mail clients POST `List-Unsubscribe=One-Click` without a
    # token; the signed token in the URL authorises it (eventmgr/mail/views.py).
    "/mail/unsubscribe/<token>": "RFC 8058 one-click unsubscribe, authorised by the URL's signed token",
}
POST_ROUTES = [rule for rule, methods in ROUTES if "POST" in methods]
#: The CSRF error page's own words (eventmgr/web/errors.py): a route that refuses the form with 400
#: for another reason (fields missing) does not show them.
CSRF_MESSAGE = "did not come from this site"


def test_exempt_routes_exist():
    assert set(EXEMPT) <= set(POST_ROUTES)


def test_every_post_route_is_checked(make_app):
    """A POST route added after this file was written is still in POST_ROUTES (from url_map)."""
    app = make_app()
    assert {rule for rule, methods in routes(app) if "POST" in methods} == set(POST_ROUTES)


@pytest.fixture
def csrf_app(make_app):
    """An app that enforces CSRF tokens, as production does."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.mark.parametrize("rule", [r for r in POST_ROUTES if r not in EXEMPT])
def test_post_without_token_is_refused_and_changes_nothing(csrf_app, make_user, make_event, rule):
    from tests.security.conftest import build_world

    world = build_world(csrf_app, make_user, make_event)
    client = login_clients(csrf_app, world)["admin"]
    url = fill(rule, params_for(rule, world.params))
    with csrf_app.app_context():
        before = table_rows()
    response = client.post(url, data={"body": "x", "title": "x", "name": "x", "reason": "x"})
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    assert CSRF_MESSAGE in response.get_data(as_text=True), response.get_data(as_text=True)[:500]
    with csrf_app.app_context():
        assert table_rows() == before
    # Still logged in: logout without a token did not log out.
    assert client.get("/my/events").status_code == 200


def test_exempt_unsubscribe_still_needs_its_signed_token(csrf_app, make_user, make_event):
    from tests.security.conftest import build_world

    world = build_world(csrf_app, make_user, make_event)
    client = csrf_app.test_client()
    forged = world.params["token"][:-4] + "AAAA"
    response = client.post(f"/mail/unsubscribe/{forged}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    # Without a token, the page's own (non one-click) form is refused too.
    response = client.post(f"/mail/unsubscribe/{world.params['token']}", data={})
    assert response.status_code == 400
