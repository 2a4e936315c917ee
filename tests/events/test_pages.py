"""The public pages: home, upcoming and past lists, the programme page, and their query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.events.helpers import assert_headings_in_order, soup

SEPTEMBER_EVENING = datetime(2015, 9, 23, 17, 0, tzinfo=UTC)


def titles(response) -> list[str]:
    """The meeting titles listed on a page, in order."""
    return [link.get_text(strip=True) for link in soup(response).select(".card h2 a, .card h3 a")]


# The meeting page --------------------------------------------------------------------------------


@pytest.fixture
def ckc(make_event):
    """A past meeting with a full programme."""
    return make_event(
        slug="2015-09-23-connecting-knowledge-communities",
        title="Connecting Knowledge Communities",
        summary="What do KM and IM professionals need from communities and networks?",
        description="This meeting identifies **what is out there**.",
        starts_at=SEPTEMBER_EVENING,
        capacity=60,
        online_url="https://stream.example.org/ckc",
        registration_closes_at=datetime(2015, 9, 22, 11, 0, tzinfo=UTC),
        speakers=[
            {
                "name": "Ada Lovelace",
                "affiliation": "Henley Business School",
                "talk_title": "Research and careers",
                "bio": "Ada runs the KM Forum.",
            },
            {"name": "Bob Brown", "affiliation": "ISKO UK", "talk_title": "Knowledge organisation"},
        ],  # fmt: skip
        questions=[
            {"title": "What do we need personally?", "body": "Support, advice, expertise."},
            {"title": "What are the needs of our organisations?"},
        ],
    )


def test_meeting_page_reads_like_a_programme(client, ckc):
    response = client.get(f"/events/{ckc.slug}")
    assert response.status_code == 200
    page = soup(response)
    assert page.h1.get_text(" ", strip=True) == "Connecting Knowledge Communities"
    text = page.get_text(" ", strip=True)
    for expected in [
        "Wednesday 23 September 2015",
        "18:00–20:30 BST",
        "Conway Hall",
        "25 Red Lion Square, London WC1R 4RL",
        "60 places",
        "What do KM and IM professionals need",
        "22 September 2015, 12:00 BST",
    ]:
        assert expected in text
    assert page.select_one(".prose strong").get_text() == "what is out there"
    assert page.select_one('a[href="https://stream.example.org/ckc"]') is not None

    programme = [item.get_text(" ", strip=True) for item in page.select(".programme li")]
    assert programme == [
        "Ada Lovelace, Henley Business School Research and careers Ada runs the KM Forum.",
        "Bob Brown, ISKO UK Knowledge organisation",
    ]
    questions = [item.get_text(" ", strip=True) for item in page.select(".questions li")]
    assert questions == [
        "What do we need personally? Support, advice, expertise.",
        "What are the needs of our organisations?",
    ]


def test_every_date_on_the_meeting_page_is_a_time_element(client, ckc):
    page = soup(client.get(f"/events/{ckc.slug}"))
    times = {element["datetime"]: element.get_text() for element in page.find_all("time")}
    assert times["2015-09-23T17:00:00Z"] == "Wednesday 23 September 2015"
    assert times["2015-09-22T11:00:00Z"] == "22 September 2015, 12:00 BST"


def test_meeting_without_capacity_shows_no_limit(client, make_event):
    event = make_event(capacity=None)
    assert "No limit" in client.get(f"/events/{event.slug}").get_data(as_text=True)


def test_cancelled_meeting_stays_visible_with_a_notice(client, make_event):
    event = make_event(status="cancelled", cancelled_at=datetime.now(UTC))
    response = client.get(f"/events/{event.slug}")
    assert response.status_code == 200
    page = soup(response)
    assert "Cancelled" in page.select_one(".event-header").get_text()
    assert page.select_one(".badge--cancelled") is not None
    assert "will not take place" in page.get_text()


def test_visitors_see_no_organiser_actions(client, ckc, member, login_as):
    assert "/edit" not in client.get(f"/events/{ckc.slug}").get_data(as_text=True)
    login_as(member)
    assert "/edit" not in client.get(f"/events/{ckc.slug}").get_data(as_text=True)


def test_organisers_see_edit_publish_and_cancel_actions(client, make_event, organiser, login_as):
    login_as(organiser)
    draft, published = make_event(status="draft"), make_event()
    draft_page = client.get(f"/events/{draft.slug}").get_data(as_text=True)
    assert f"/events/{draft.slug}/edit" in draft_page
    assert f'action="/events/{draft.slug}/publish"' in draft_page
    published_page = client.get(f"/events/{published.slug}").get_data(as_text=True)
    assert f'href="/events/{published.slug}/cancel"' in published_page
    assert "/publish" not in published_page


@pytest.mark.parametrize(
    "path",
    [
        "/events/Not-A-Slug",
        "/events/2015-09-23-connecting-knowledge-communities-nope",
        "/events/%00",
        "/events/a%00b",
        "/events/" + "a" * 500,
        "/events/..%2f..%2fetc",
        "/events/%C3%BCber",
        "/events/a--b",
        "/events/%27%3B%20DROP%20TABLE%20events%3B--",
    ],
)
def test_odd_slugs_are_404(client, ckc, path):
    assert client.get(path).status_code == 404


# Home and the lists ------------------------------------------------------------------------------


def test_home_shows_the_next_few_meetings_and_an_intro(client, make_event):
    now = datetime.now(UTC)
    for days, title in [(30, "Fourth"), (3, "First"), (10, "Second"), (20, "Third")]:
        make_event(starts_at=now + timedelta(days=days), title=title)
    make_event(starts_at=now + timedelta(days=1), title="Secret draft", status="draft")
    response = client.get("/")
    assert response.status_code == 200
    assert titles(response) == ["First", "Second", "Third"]
    assert soup(response).select_one(".lead") is not None


def test_home_without_meetings_says_so(client):
    assert "No meetings are scheduled" in client.get("/").get_data(as_text=True)


def test_upcoming_lists_soonest_first_and_paginates(client, app, make_event):
    app.config["EVENTS_PER_PAGE"] = 2
    now = datetime.now(UTC)
    for days, title in [(9, "Third"), (2, "First"), (30, "Fifth"), (5, "Second"), (12, "Fourth")]:
        make_event(starts_at=now + timedelta(days=days), title=title)
    make_event(starts_at=now - timedelta(days=2), title="Over")
    make_event(starts_at=now + timedelta(days=1), title="Draft", status="draft")

    first = client.get("/events/")
    assert titles(first) == ["First", "Second"]
    assert soup(first).select_one('a[rel="next"]')["href"].endswith("/events/?page=2")
    assert titles(client.get("/events/?page=2")) == ["Third", "Fourth"]
    last = client.get("/events/?page=3")
    assert titles(last) == ["Fifth"]
    assert soup(last).select_one('a[rel="next"]') is None
    assert client.get("/events/?page=4").status_code == 404


def test_upcoming_includes_cancelled_meetings_marked_as_such(client, make_event):
    make_event(title="Called off", status="cancelled")
    response = client.get("/events/")
    assert titles(response) == ["Called off"]
    assert soup(response).select_one(".badge--cancelled") is not None


def test_past_lists_latest_first_and_paginates(client, app, make_event):
    app.config["EVENTS_PER_PAGE"] = 2
    now = datetime.now(UTC)
    for days, title in [(300, "Oldest"), (10, "Recent"), (100, "Middle")]:
        make_event(starts_at=now - timedelta(days=days), title=title)
    make_event(starts_at=now + timedelta(days=3), title="Coming")
    assert titles(client.get("/events/past")) == ["Recent", "Middle"]
    assert titles(client.get("/events/past?page=2")) == ["Oldest"]


def test_organisers_see_a_drafts_section_on_the_upcoming_list(
    client, make_event, organiser, member, login_as
):
    make_event(title="Published one")
    make_event(title="Draft one", status="draft")
    login_as(member)
    assert titles(client.get("/events/")) == ["Published one"]
    login_as(organiser)
    response = client.get("/events/")
    assert titles(response) == ["Draft one", "Published one"]
    drafts = soup(response).find(id="drafts-heading").find_parent("section")
    assert "Draft one" in drafts.get_text()
    assert_headings_in_order(response)


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=99999999999999999999"])
def test_impossible_page_numbers_are_404(client, query):
    assert client.get(f"/events/?{query}").status_code == 404
    assert client.get(f"/events/past?{query}").status_code == 404


def test_a_page_number_that_is_not_a_number_means_the_first_page(client, make_event):
    make_event(title="Only")
    assert titles(client.get("/events/?page=abc")) == ["Only"]


# Markup rules ------------------------------------------------------------------------------------


def organiser_pages(event) -> list[str]:
    """Every page an organiser sees for `event`."""
    slug = event.slug
    return [
        "/",
        "/events/",
        "/events/past",
        f"/events/{slug}",
        "/events/new",
        f"/events/{slug}/edit",
        f"/events/{slug}/cancel",
        f"/events/{slug}/speakers",
        f"/events/{slug}/questions",
    ]


def test_pages_have_one_h1_ordered_headings_and_no_inline_script_or_style(
    client, make_event, organiser, login_as, in_app
):
    from eventmgr.events.models import Question, Speaker
    from eventmgr.extensions import db

    make_event(status="draft")
    event = make_event(speakers=[{"name": "Ada"}], questions=[{"title": "Why?"}])
    speaker_id, question_id = in_app(
        lambda: (
            db.session.scalar(db.select(Speaker.id)),
            db.session.scalar(db.select(Question.id)),
        )
    )
    login_as(organiser)
    pages = [
        *organiser_pages(event),
        f"/events/{event.slug}/speakers/{speaker_id}/edit",
        f"/events/{event.slug}/questions/{question_id}/edit",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_headings_in_order(response)
        html = soup(response)
        assert not html.select("[style]"), path
        inline = [script for script in html.find_all("script") if not script.get("src")]
        # JSON-LD is data, not code: the CSP never runs it.
        assert all(script.get("type") == "application/ld+json" for script in inline), path
        for element in html.select("input:not([type=hidden]), select, textarea"):
            assert html.find("label", attrs={"for": element["id"]}), (path, element["id"])


def test_form_errors_keep_headings_in_order(client, organiser, login_as):
    login_as(organiser)
    response = client.post("/events/new", data={"title": ""})
    assert response.status_code == 200
    assert_headings_in_order(response)


# Query counts ------------------------------------------------------------------------------------


def test_meeting_page_query_count_does_not_grow_with_speakers(client, make_event, count_queries):
    small = make_event(speakers=[{"name": f"S{n}"} for n in range(2)],
                       questions=[{"title": f"Q{n}"} for n in range(2)])  # fmt: skip
    large = make_event(speakers=[{"name": f"S{n}"} for n in range(20)],
                       questions=[{"title": f"Q{n}"} for n in range(20)])  # fmt: skip
    client.get(f"/events/{small.slug}")  # warm up: first connection, caches
    with count_queries() as few:
        assert client.get(f"/events/{small.slug}").status_code == 200
    with count_queries() as many:
        assert client.get(f"/events/{large.slug}").status_code == 200
    assert len(few) == len(many)
    # The meeting with its speakers and questions, then one each for the discussion threads, the
    # meeting's write-up and (for members) the registration panel.
    assert len(few) <= 6


@pytest.mark.parametrize("role", [None, "organiser"])
def test_upcoming_query_count_does_not_grow_with_meetings(
    client, make_event, make_user, login_as, count_queries, role
):
    if role:
        login_as(make_user(role=role))
    now = datetime.now(UTC)

    def add(count: int) -> None:
        for number in range(count):
            make_event(starts_at=now + timedelta(days=number + 1))
            make_event(starts_at=now + timedelta(days=number + 1), status="draft")

    add(3)
    client.get("/events/")
    with count_queries() as few:
        client.get("/events/")
    add(9)
    with count_queries() as many:
        client.get("/events/")
    assert len(few) == len(many)


def test_home_query_count_does_not_grow_with_meetings(client, make_event, count_queries):
    make_event()
    client.get("/")
    with count_queries() as few:
        client.get("/")
    for _ in range(5):
        make_event()
    with count_queries() as many:
        client.get("/")
    assert len(few) == len(many)
