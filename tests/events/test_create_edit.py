"""Creating and editing meetings over HTTP: UTC storage, slugs, field errors, sanitising, CSRF."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.events.helpers import field_error, field_value, meeting_form, soup

CKC_SLUG = "2015-09-23-connecting-knowledge-communities"


@pytest.fixture
def signed_in(client, organiser, login_as):
    """The test client, signed in as an organiser."""
    login_as(organiser)
    return client


def test_create_form_defaults_to_the_app_time_zone(signed_in, app):
    app.config["APP_TIMEZONE"] = "Europe/Paris"
    response = signed_in.get("/events/new")
    assert response.status_code == 200
    assert field_value(response, "timezone") == "Europe/Paris"
    assert field_value(response, "discussion_policy") == "attendees"


@pytest.mark.parametrize("path", ["/events/new", f"/events/{CKC_SLUG}/edit"], ids=["new", "edit"])
def test_the_summary_box_is_short_and_the_description_box_tall(request, signed_in, path):
    if path.endswith("/edit"):
        request.getfixturevalue("ckc")
    page = soup(signed_in.get(path))
    summary = page.find("textarea", attrs={"name": "summary"})
    description = page.find("textarea", attrs={"name": "description"})
    assert 2 <= int(summary["rows"]) <= 4
    assert int(description["rows"]) >= 3 * int(summary["rows"])
    # The short box is not stretched to the minimum height meant for long texts.
    assert "field--short" in summary.find_parent(class_="field")["class"]


def test_create_in_summer_time_stores_utc_and_shows_bst(signed_in, stored_event, organiser):
    response = signed_in.post("/events/new", data=meeting_form())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{CKC_SLUG}")

    stored = stored_event(CKC_SLUG)
    assert stored["starts_at"] == datetime(2015, 9, 23, 17, 0, tzinfo=UTC)
    assert stored["ends_at"] == datetime(2015, 9, 23, 19, 30, tzinfo=UTC)
    assert stored["status"] == "draft"
    assert stored["capacity"] == 60
    assert stored["created_by_id"] == organiser.id
    assert stored["venue_address"] == "25 Red Lion Square\nLondon WC1R 4RL"

    page = signed_in.get(f"/events/{CKC_SLUG}").get_data(as_text=True)
    assert "18:00–20:30 BST" in page
    assert '<time datetime="2015-09-23T17:00:00Z">Wednesday 23 September 2015</time>' in page


def test_create_in_winter_time_stores_utc_and_shows_gmt(signed_in, stored_event):
    form = meeting_form(title="Winter meeting", starts_at="2025-12-03T18:00",
                        ends_at="2025-12-03T20:30")  # fmt: skip
    assert signed_in.post("/events/new", data=form).status_code == 302

    stored = stored_event("2025-12-03-winter-meeting")
    assert stored["starts_at"] == datetime(2025, 12, 3, 18, 0, tzinfo=UTC)
    assert stored["ends_at"] == datetime(2025, 12, 3, 20, 30, tzinfo=UTC)
    page = signed_in.get("/events/2025-12-03-winter-meeting").get_data(as_text=True)
    assert "18:00–20:30 GMT" in page


def test_create_in_another_zone_converts_with_that_zone(signed_in, stored_event):
    form = meeting_form(title="Online", timezone="America/New_York",
                        starts_at="2025-12-03T18:00", ends_at="2025-12-03T19:00",
                        registration_opens_at="2025-11-01T09:00")  # fmt: skip
    assert signed_in.post("/events/new", data=form).status_code == 302
    stored = stored_event("2025-12-03-online")
    assert stored["timezone"] == "America/New_York"
    assert stored["starts_at"] == datetime(2025, 12, 3, 23, 0, tzinfo=UTC)
    assert stored["registration_opens_at"] == datetime(2025, 11, 1, 13, 0, tzinfo=UTC)
    assert "18:00–19:00 EST" in signed_in.get("/events/2025-12-03-online").get_data(as_text=True)


def test_create_stores_every_field(signed_in, stored_event):
    form = meeting_form(
        online_url="https://meet.example.org/ckc",
        capacity="",
        registration_opens_at="2015-09-01T09:00",
        registration_closes_at="2015-09-23T12:00",
        discussion_policy="members",
    )
    signed_in.post("/events/new", data=form)
    stored = stored_event(CKC_SLUG)
    assert stored["online_url"] == "https://meet.example.org/ckc"
    assert stored["capacity"] is None
    assert stored["registration_opens_at"] == datetime(2015, 9, 1, 8, 0, tzinfo=UTC)
    assert stored["registration_closes_at"] == datetime(2015, 9, 23, 11, 0, tzinfo=UTC)
    assert stored["discussion_policy"] == "members"
    assert stored["summary"] == form["summary"]


def test_same_title_and_date_gets_a_suffixed_slug(signed_in):
    first = signed_in.post("/events/new", data=meeting_form())
    second = signed_in.post("/events/new", data=meeting_form())
    assert first.headers["Location"].endswith(f"/events/{CKC_SLUG}")
    assert second.headers["Location"].endswith(f"/events/{CKC_SLUG}-2")


def test_description_markdown_is_sanitised_when_saved(signed_in, stored_event):
    description = "<script>alert('x')</script>\n\n[x](javascript:alert(1)) and **bold**"
    signed_in.post("/events/new", data=meeting_form(description=description))
    stored = stored_event(CKC_SLUG)
    assert stored["description"] == description
    assert "<strong>bold</strong>" in stored["description_html"]
    assert "<script" not in stored["description_html"]
    assert 'href="javascript' not in stored["description_html"]

    page = signed_in.get(f"/events/{CKC_SLUG}").get_data(as_text=True)
    assert "<strong>bold</strong>" in page
    assert "<script>" not in page  # the page's only script is its JSON-LD, <script type=...>
    assert not soup(signed_in.get(f"/events/{CKC_SLUG}")).select('a[href^="javascript"]')


def test_nul_characters_are_refused_and_nothing_is_saved(signed_in, stored_event):
    # NUL cannot be stored in PostgreSQL text; web.security answers 400 before any view runs.
    form = meeting_form(title="Null\x00 island", summary="a\x00b", description="c\x00d")
    assert signed_in.post("/events/new", data=form).status_code == 400
    assert stored_event("2015-09-23-null-island") == {}


INVALID_INPUT = [
    pytest.param("ends_at", {"ends_at": "2015-09-23T17:00"}, "must end after it starts",
                 id="end-before-start"),
    pytest.param("ends_at", {"ends_at": "2015-09-23T18:00"}, "must end after it starts",
                 id="end-equals-start"),
    pytest.param("capacity", {"capacity": "-1"}, "cannot be negative", id="negative-capacity"),
    pytest.param("capacity", {"capacity": "lots"}, "whole number", id="capacity-not-a-number"),
    pytest.param("capacity", {"capacity": "99999999999"}, "at most", id="capacity-huge"),
    pytest.param("timezone", {"timezone": "Mars/Olympus"}, "Choose a time zone",
                 id="unknown-zone"),
    pytest.param("timezone", {"timezone": "Europe"}, "Choose a time zone", id="zone-directory"),
    pytest.param("timezone", {"timezone": "x" * 300}, "Choose a time zone", id="zone-too-long"),
    pytest.param("starts_at", {"starts_at": "2026-03-29T01:30", "ends_at": "2026-03-29T03:00"},
                 "does not exist in Europe/London", id="dst-gap"),
    pytest.param("registration_opens_at", {"registration_opens_at": "2026-03-29T01:15"},
                 "does not exist", id="dst-gap-registration"),
    pytest.param("title", {"title": "x" * 201}, "longer than 200", id="long-title"),
    pytest.param("title", {"title": "   "}, "Enter a title", id="blank-title"),
    pytest.param("summary", {"summary": "s" * 501}, "longer than 500", id="long-summary"),
    pytest.param("venue_name", {"venue_name": "v" * 201}, "longer than 200", id="long-venue"),
    pytest.param("online_url", {"online_url": "javascript:alert(1)"}, "https://",
                 id="javascript-link"),
    pytest.param("online_url", {"online_url": "ftp://example.org/x"}, "https://", id="ftp-link"),
    pytest.param("online_url", {"online_url": "https://" + "a" * 500 + ".org"}, "longer than 500",
                 id="long-link"),
    pytest.param("starts_at", {"starts_at": "next tuesday"}, "Enter a date and time",
                 id="unparseable-start"),
    pytest.param("starts_at", {"starts_at": ""}, "Enter the date and time the meeting starts",
                 id="missing-start"),
    pytest.param("starts_at", {"starts_at": "0001-01-01T00:00"}, "between 1900 and 2100",
                 id="year-one"),
    pytest.param("ends_at", {"ends_at": "9999-12-31T23:59", "timezone": "Pacific/Kiritimati"},
                 "between 1900 and 2100", id="year-9999"),
    pytest.param("registration_closes_at",
                 {"registration_opens_at": "2015-09-10T09:00",
                  "registration_closes_at": "2015-09-01T09:00"},
                 "close after it opens", id="registration-window-reversed"),
    pytest.param("discussion_policy", {"discussion_policy": "everyone"}, "Choose who",
                 id="unknown-policy"),
]  # fmt: skip


@pytest.mark.parametrize(("field", "overrides", "message"), INVALID_INPUT)
def test_invalid_input_shows_a_field_error_keeps_input_and_saves_nothing(
    signed_in, count_events, field, overrides, message
):
    form = meeting_form(**overrides)
    response = signed_in.post("/events/new", data=form)
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert count_events() == 0
    # Everything typed comes back (trimmed), including the value that was refused.
    assert field_value(response, "title") == form["title"].strip()
    assert field_value(response, "venue_name") == form["venue_name"]
    if field != "discussion_policy":  # a select can only show one of its own options
        assert field_value(response, field) == form[field].strip()
    assert soup(response).select_one(".error-summary") is not None


def test_several_errors_at_once_are_all_shown(signed_in, count_events):
    form = meeting_form(ends_at="2015-09-23T17:00", capacity="-1", timezone="Mars/Olympus")
    response = signed_in.post("/events/new", data=form)
    # With an unknown zone the times cannot be compared, so only the zone and capacity complain.
    assert field_error(response, "timezone") and field_error(response, "capacity")
    assert count_events() == 0


# Editing -----------------------------------------------------------------------------------------


@pytest.fixture
def ckc(signed_in):
    """Connecting Knowledge Communities, created through the form; returns its slug."""
    signed_in.post("/events/new", data=meeting_form(registration_opens_at="2015-09-01T09:00"))
    return CKC_SLUG


def test_edit_form_shows_times_on_the_meetings_wall_clock(signed_in, ckc):
    response = signed_in.get(f"/events/{ckc}/edit")
    assert response.status_code == 200
    assert field_value(response, "starts_at") == "2015-09-23T18:00"
    assert field_value(response, "ends_at") == "2015-09-23T20:30"
    assert field_value(response, "registration_opens_at") == "2015-09-01T09:00"
    assert field_value(response, "registration_closes_at") == ""
    assert field_value(response, "timezone") == "Europe/London"
    assert field_value(response, "capacity") == "60"
    assert field_value(response, "title") == "Connecting Knowledge Communities"


def test_edit_keeps_the_slug_when_title_and_date_change(signed_in, ckc, stored_event):
    form = meeting_form(title="Keeping the Debate Alive", starts_at="2016-01-06T18:30",
                        ends_at="2016-01-06T21:00", description="*New*")  # fmt: skip
    response = signed_in.post(f"/events/{ckc}/edit", data=form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{ckc}")
    stored = stored_event(ckc)
    assert stored["title"] == "Keeping the Debate Alive"
    assert stored["starts_at"] == datetime(2016, 1, 6, 18, 30, tzinfo=UTC)
    assert stored["description_html"].strip() == "<p><em>New</em></p>"
    assert "18:30–21:00 GMT" in signed_in.get(f"/events/{ckc}").get_data(as_text=True)


def test_invalid_edit_changes_nothing(signed_in, ckc, stored_event):
    before = stored_event(ckc)
    form = meeting_form(title="Changed title", capacity="-1")
    response = signed_in.post(f"/events/{ckc}/edit", data=form)
    assert response.status_code == 200
    assert "cannot be negative" in field_error(response, "capacity")
    assert field_value(response, "title") == "Changed title"
    assert stored_event(ckc) == before


def test_edit_of_an_unknown_meeting_is_404(signed_in):
    assert signed_in.get("/events/2015-01-01-nothing/edit").status_code == 404
    assert signed_in.post("/events/2015-01-01-nothing/edit", data=meeting_form()).status_code == 404


# CSRF --------------------------------------------------------------------------------------------


def test_create_without_csrf_token_is_refused(csrf_client, organiser, login_as, count_events):
    login_as(organiser, csrf_client)
    response = csrf_client.post("/events/new", data=meeting_form())
    assert response.status_code == 400
    assert count_events() == 0


def test_create_with_csrf_token_works(csrf_client, organiser, login_as, count_events):
    login_as(organiser, csrf_client)
    page = csrf_client.get("/events/new")
    token = soup(page).find("input", attrs={"name": "csrf_token"})["value"]
    response = csrf_client.post("/events/new", data=meeting_form(csrf_token=token))
    assert response.status_code == 302
    assert count_events() == 1


def test_publish_without_csrf_token_is_refused(csrf_client, organiser, login_as, make_event,
                                               stored_event):  # fmt: skip
    draft = make_event(status="draft")
    login_as(organiser, csrf_client)
    assert csrf_client.post(f"/events/{draft.slug}/publish").status_code == 400
    assert stored_event(draft.slug)["status"] == "draft"
