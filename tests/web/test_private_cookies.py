"""A response that sets a cookie is for one browser only: never `Cache-Control: public`, always
`private, no-store` with `Vary: Cookie`; feeds and calendars set no cookie for anonymous visitors,
so they stay cacheable for them (issue 11, item 6)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eventmgr.extensions import db as _db
from eventmgr.writeups.models import WriteUp
from tests.conftest import DEFAULT_PASSWORD

#: Feeds and calendars: fetched by programs, cacheable by proxies when nobody is signed in.
FEEDS = ("/events.ics", "/events/{slug}.ics", "/writeups.atom")
PAGES = (
    "/",
    "/events/",
    "/events/past",
    "/events/{slug}",
    "/events/{slug}/questions/{question}",
    "/events/{slug}/discussion",
    "/writeups/",
    "/writeups/report",
    "/healthz",
)


@pytest.fixture
def urls(make_event, in_app) -> list[str]:
    """Every public URL that could be cached, filled in for a published meeting and write-up."""
    event = make_event(questions=[{"title": "What next?"}])

    def add_writeup() -> int:
        writeup = WriteUp(
            slug="report", title="Report", body="x", body_html="x", status="published",
            published_at=datetime.now(UTC), event_id=event.id,
        )  # fmt: skip
        _db.session.add(writeup)
        _db.session.commit()
        return _db.session.get(type(event), event.id).questions[0].id

    question = in_app(add_writeup)
    return [url.format(slug=event.slug, question=question) for url in (*FEEDS, *PAGES)]


def assert_private(url: str, response) -> None:
    """The response sets a cookie, so no shared cache may keep it."""
    cache_control = response.cache_control
    assert not cache_control.public, (url, response.headers.get("Cache-Control"))
    assert cache_control.private and cache_control.no_store, (url, cache_control)
    assert cache_control.max_age is None, (url, cache_control)
    assert "cookie" in {value.lower() for value in response.vary}, (url, response.vary)


def test_responses_that_set_cookies_for_a_signed_in_member_are_private(client, make_user, urls):
    member = make_user(email="reader@example.org")
    login = client.post(
        "/account/login",
        data={"email": member.email, "password": DEFAULT_PASSWORD, "remember": "y"},
    )
    assert login.status_code == 302
    assert_private("/account/login", login)
    with_cookies = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        if "Set-Cookie" in response.headers:
            with_cookies.append(url)
            assert_private(url, response)
    # Every signed-in request refreshes the session cookie: the rule is what keeps them private.
    assert with_cookies == urls


def test_anonymous_feeds_set_no_cookie_and_stay_cacheable(client, urls):
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        if url.endswith((".ics", ".atom")):
            assert "Set-Cookie" not in response.headers, url
        elif "Set-Cookie" in response.headers:
            assert_private(url, response)
    feed = client.get("/events.ics")
    assert feed.cache_control.public and feed.cache_control.max_age == 15 * 60
