"""Organisers add, edit, reorder and remove speakers and key questions on the edit pages."""

from __future__ import annotations

import pytest

from eventmgr.events.models import Question, Speaker
from tests.events.helpers import field_error, field_value, soup


@pytest.fixture
def signed_in(client, organiser, login_as):
    """The test client, signed in as an organiser."""
    login_as(organiser)
    return client


@pytest.fixture
def meeting(make_event):
    """A published meeting with no programme yet."""
    return make_event()


def programme(client, slug: str) -> list[str]:
    """Speaker names in the order the public meeting page lists them."""
    page = soup(client.get(f"/events/{slug}"))
    return [item.select_one(".programme__speaker").get_text(strip=True).split(",")[0]
            for item in page.select(".programme li")]  # fmt: skip


def key_questions(client, slug: str) -> list[str]:
    """Question titles in the order the public meeting page lists them."""
    page = soup(client.get(f"/events/{slug}"))
    return [item.get_text(strip=True) for item in page.select(".questions .questions__title")]


# Speakers ----------------------------------------------------------------------------------------


def test_add_speakers_in_programme_order(signed_in, meeting, stored_event):
    for name in ["Ada", "Bob", "Cy"]:
        response = signed_in.post(
            f"/events/{meeting.slug}/speakers",
            data={"name": name, "affiliation": "NetIKX", "talk_title": f"{name}'s talk"},
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/events/{meeting.slug}/speakers")
    stored = stored_event(meeting.slug)
    assert stored["speakers"] == [(1, "Ada"), (2, "Bob"), (3, "Cy")]
    assert programme(signed_in, meeting.slug) == ["Ada", "Bob", "Cy"]
    assert "Ada's talk" in soup(signed_in.get(f"/events/{meeting.slug}")).get_text()


def test_speaker_needs_a_name(signed_in, meeting, stored_event):
    response = signed_in.post(
        f"/events/{meeting.slug}/speakers", data={"name": "  ", "affiliation": "ISKO UK"}
    )
    assert response.status_code == 200
    assert "Enter the speaker's name." in field_error(response, "name")
    assert field_value(response, "affiliation") == "ISKO UK"
    assert stored_event(meeting.slug)["speakers"] == []


def test_over_long_speaker_fields_are_field_errors(signed_in, meeting, stored_event):
    response = signed_in.post(
        f"/events/{meeting.slug}/speakers",
        data={"name": "n" * 201, "talk_title": "t" * 301, "bio": "b" * 5001},
    )
    assert "longer than 200" in field_error(response, "name")
    assert "longer than 300" in field_error(response, "talk_title")
    assert "longer than 5000" in field_error(response, "bio")
    assert stored_event(meeting.slug)["speakers"] == []


def test_edit_a_speaker(signed_in, make_event, stored_event):
    event = make_event(speakers=[{"name": "Ada", "bio": "Old bio"}])
    speaker_id = stored_event(event.slug)["speaker_ids"][0]
    url = f"/events/{event.slug}/speakers/{speaker_id}/edit"
    form = signed_in.get(url)
    assert field_value(form, "name") == "Ada"
    assert field_value(form, "bio").strip() == "Old bio"

    response = signed_in.post(url, data={"name": "Ada Lovelace", "affiliation": "Henley",
                                         "talk_title": "Engines", "bio": "New bio"})  # fmt: skip
    assert response.status_code == 302
    page = signed_in.get(f"/events/{event.slug}").get_data(as_text=True)
    assert "Ada Lovelace, Henley" in page and "Engines" in page and "New bio" in page


def test_invalid_speaker_edit_changes_nothing(signed_in, make_event, stored_event):
    event = make_event(speakers=[{"name": "Ada"}])
    speaker_id = stored_event(event.slug)["speaker_ids"][0]
    response = signed_in.post(f"/events/{event.slug}/speakers/{speaker_id}/edit",
                              data={"name": "", "affiliation": "Kept"})  # fmt: skip
    assert response.status_code == 200
    assert field_error(response, "name")
    assert field_value(response, "affiliation") == "Kept"
    assert stored_event(event.slug)["speakers"] == [(1, "Ada")]


def test_reorder_speakers_with_move_buttons(signed_in, make_event, stored_event):
    event = make_event(speakers=[{"name": "Ada"}, {"name": "Bob"}, {"name": "Cy"}])
    ada, bob, cy = stored_event(event.slug)["speaker_ids"]

    response = signed_in.post(f"/events/{event.slug}/speakers/{cy}/move/up")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event.slug}/speakers#speaker-{cy}")
    assert programme(signed_in, event.slug) == ["Ada", "Cy", "Bob"]

    signed_in.post(f"/events/{event.slug}/speakers/{ada}/move/down")
    assert programme(signed_in, event.slug) == ["Cy", "Ada", "Bob"]

    # Already at the ends: nothing moves, nothing breaks.
    signed_in.post(f"/events/{event.slug}/speakers/{cy}/move/up")
    signed_in.post(f"/events/{event.slug}/speakers/{bob}/move/down")
    assert stored_event(event.slug)["speakers"] == [(1, "Cy"), (2, "Ada"), (3, "Bob")]


def test_remove_speaker_closes_the_gap(signed_in, make_event, stored_event):
    event = make_event(speakers=[{"name": "Ada"}, {"name": "Bob"}, {"name": "Cy"}])
    _ada, bob, _cy = stored_event(event.slug)["speaker_ids"]
    response = signed_in.post(f"/events/{event.slug}/speakers/{bob}/remove", follow_redirects=True)
    assert "Removed Bob from the programme." in response.get_data(as_text=True)
    assert stored_event(event.slug)["speakers"] == [(1, "Ada"), (2, "Cy")]
    signed_in.post(f"/events/{event.slug}/speakers", data={"name": "Di"})
    assert stored_event(event.slug)["speakers"] == [(1, "Ada"), (2, "Cy"), (3, "Di")]


def test_speakers_page_lists_speakers_with_their_actions(signed_in, make_event, stored_event):
    event = make_event(speakers=[{"name": "Ada"}, {"name": "Bob"}])
    ada, bob = stored_event(event.slug)["speaker_ids"]
    page = signed_in.get(f"/events/{event.slug}/speakers").get_data(as_text=True)
    assert f"/speakers/{ada}/move/down" in page and f"/speakers/{ada}/move/up" not in page
    assert f"/speakers/{bob}/move/up" in page and f"/speakers/{bob}/move/down" not in page
    assert f"/speakers/{bob}/remove" in page
    assert (
        soup(signed_in.get(f"/events/{event.slug}/speakers"))
        .select_one('.tabs a[aria-current="page"]')
        .get_text()
        == "Speakers"
    )


# Questions ---------------------------------------------------------------------------------------


def test_add_edit_reorder_and_remove_questions(signed_in, meeting, stored_event):
    base = f"/events/{meeting.slug}/questions"
    for title in ["Personal needs?", "Organisational needs?", "Do networks deliver?"]:
        assert (
            signed_in.post(base, data={"title": title, "body": "Why it matters"}).status_code == 302
        )
    first, second, third = stored_event(meeting.slug)["question_ids"]
    assert key_questions(signed_in, meeting.slug) == [
        "Personal needs?", "Organisational needs?", "Do networks deliver?",
    ]  # fmt: skip

    signed_in.post(f"{base}/{third}/move/up")
    assert key_questions(signed_in, meeting.slug)[1:] == [
        "Do networks deliver?", "Organisational needs?",
    ]  # fmt: skip

    response = signed_in.post(
        f"{base}/{first}/edit", data={"title": "What do we need?", "body": ""}
    )
    assert response.status_code == 302
    signed_in.post(f"{base}/{second}/remove")
    assert stored_event(meeting.slug)["questions"] == [
        (1, "What do we need?"), (2, "Do networks deliver?"),
    ]  # fmt: skip
    assert key_questions(signed_in, meeting.slug) == ["What do we need?", "Do networks deliver?"]


def test_question_needs_a_title(signed_in, meeting, stored_event):
    response = signed_in.post(f"/events/{meeting.slug}/questions",
                              data={"title": "", "body": "Context kept"})  # fmt: skip
    assert response.status_code == 200
    assert "Enter the question." in field_error(response, "title")
    assert field_value(response, "body").strip() == "Context kept"
    assert stored_event(meeting.slug)["questions"] == []


def test_question_body_shows_on_the_meeting_page(signed_in, meeting):
    signed_in.post(f"/events/{meeting.slug}/questions",
                   data={"title": "Why?", "body": "Because <b>it</b> matters"})  # fmt: skip
    page = signed_in.get(f"/events/{meeting.slug}").get_data(as_text=True)
    assert "Because &lt;b&gt;it&lt;/b&gt; matters" in page


# Items must belong to the meeting in the URL -----------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "method", "suffix"),
    [
        ("speakers", "GET", "edit"),
        ("speakers", "POST", "edit"),
        ("speakers", "POST", "move/up"),
        ("speakers", "POST", "remove"),
        ("questions", "GET", "edit"),
        ("questions", "POST", "edit"),
        ("questions", "POST", "move/down"),
        ("questions", "POST", "remove"),
    ],
)
def test_items_of_another_meeting_are_404(signed_in, make_event, stored_event, kind, method,
                                          suffix):  # fmt: skip
    mine = make_event(speakers=[{"name": "Mine"}], questions=[{"title": "Mine?"}])
    theirs = make_event(speakers=[{"name": "Theirs"}], questions=[{"title": "Theirs?"}])
    other_id = stored_event(theirs.slug)["speaker_ids" if kind == "speakers" else "question_ids"][0]
    url = f"/events/{mine.slug}/{kind}/{other_id}/{suffix}"
    data = {"name": "Hijacked", "title": "Hijacked?"}
    response = signed_in.get(url) if method == "GET" else signed_in.post(url, data=data)
    assert response.status_code == 404
    assert stored_event(theirs.slug)["speakers"] == [(1, "Theirs")]
    assert stored_event(theirs.slug)["questions"] == [(1, "Theirs?")]


@pytest.mark.parametrize("item_id", ["999999", "99999999999999999999999"])
def test_unknown_item_ids_are_404(signed_in, meeting, item_id):
    assert signed_in.get(f"/events/{meeting.slug}/speakers/{item_id}/edit").status_code == 404
    assert signed_in.post(f"/events/{meeting.slug}/questions/{item_id}/remove").status_code == 404


def test_unknown_move_direction_is_404(signed_in, make_event, stored_event):
    event = make_event(speakers=[{"name": "Ada"}])
    speaker_id = stored_event(event.slug)["speaker_ids"][0]
    assert (
        signed_in.post(f"/events/{event.slug}/speakers/{speaker_id}/move/sideways").status_code
        == 404
    )


def test_stored_positions_stay_one_to_n_after_mixed_changes(
    signed_in, make_event, stored_event, positions
):
    event = make_event(speakers=[{"name": n} for n in "ABCDE"], questions=[{"title": "Q"}])
    ids = stored_event(event.slug)["speaker_ids"]
    signed_in.post(f"/events/{event.slug}/speakers/{ids[1]}/remove")
    signed_in.post(f"/events/{event.slug}/speakers/{ids[4]}/move/up")
    signed_in.post(f"/events/{event.slug}/speakers/{ids[0]}/remove")
    signed_in.post(f"/events/{event.slug}/speakers", data={"name": "F"})
    event_id = stored_event(event.slug)["id"]
    assert sorted(positions(Speaker, event_id)) == [1, 2, 3, 4]
    assert positions(Question, event_id) == [1]
    assert [name for _, name in stored_event(event.slug)["speakers"]] == ["C", "E", "D", "F"]
