"""'Draft a write-up' on a past meeting pre-fills the report from its programme and discussions."""

from __future__ import annotations

from datetime import UTC, datetime

from bs4 import BeautifulSoup

from eventmgr.web.markdown import render_markdown
from tests.discussions.helpers import soup, textarea

SEPTEMBER_EVENING = datetime(2015, 9, 23, 17, 0, tzinfo=UTC)


def test_past_meeting_offers_organisers_a_draft_and_nobody_else(
    client, organiser, member, login_as, make_meeting, make_event
):
    past = make_meeting()
    future = make_event()
    login_as(organiser)
    link = soup(client.get(f"/events/{past.slug}")).find("a", string="Draft a write-up")
    assert link["href"] == f"/writeups/new?event={past.slug}"
    assert soup(client.get(f"/events/{future.slug}")).find("a", string="Draft a write-up") is None
    login_as(member)
    assert soup(client.get(f"/events/{past.slug}")).find("a", string="Draft a write-up") is None


def test_draft_body_holds_date_venue_speakers_questions_and_published_comments(
    client, organiser, login_as, make_meeting, make_user, register, post, act_on_hide, counts
):
    meeting = make_meeting(
        title="Connecting Knowledge Communities",
        starts_at=SEPTEMBER_EVENING,
        speakers=[
            {
                "name": "Ada Lovelace",
                "affiliation": "Henley Business School",
                "talk_title": "Research and careers",
            }
        ],
    )
    ada = make_user(display_name="Ada Attendee", organisation="KIN")
    bob = make_user(display_name="Bob Guest", organisation="")
    register(meeting, ada)
    register(meeting, bob)
    first = post(meeting, ada, "We need **support** and advice.\nAnd expertise.")
    post(meeting, bob, "A reply is not quoted.", parent=first)
    hidden = post(meeting, bob, "Hidden words.")
    act_on_hide(hidden, organiser)
    post(meeting, bob, "Who pays?", question=1)

    login_as(organiser)
    response = client.get(f"/writeups/new?event={meeting.slug}")
    assert response.status_code == 200
    body = textarea(response)
    assert counts()["writeups"] == 0  # nothing saved until the organiser presses a button

    # Read the Markdown as the page will show it.
    page = BeautifulSoup(render_markdown(body), "html5lib")
    intro = page.find("p").get_text(" ")
    assert "Wednesday 23 September 2015" in intro and "Conway Hall" in intro
    headings = [h.get_text() for h in page.find_all("h3")]
    assert headings == ["Speakers", "What do communities need?", "Who pays for networks?"]
    speakers = [
        li.get_text(" ") for li in page.find("h3", string="Speakers").find_next("ul").find_all("li")
    ]
    assert speakers == ["Ada Lovelace (Henley Business School) : Research and careers"]
    first_question = page.find("h3", string="What do communities need?")
    assert first_question.find_next("p").get_text() == "2 comments."
    quotes = page.find_all("blockquote")
    assert len(quotes) == 2
    assert quotes[0].find("strong").get_text() == "support"
    assert "And expertise." in quotes[0].get_text()
    assert quotes[0].find_all("p")[-1].get_text() == "— Ada Attendee, KIN"
    assert quotes[1].find_all("p")[-1].get_text() == "— Bob Guest"
    assert "Who pays?" in quotes[1].get_text()
    all_text = page.get_text()
    assert "Hidden words." not in all_text and "A reply is not quoted." not in all_text
    assert (
        page.find("h3", string="Who pays for networks?").find_next("p").get_text() == "1 comment."
    )


def test_saving_the_draft_keeps_it_unpublished(
    client, organiser, login_as, meeting, writeup_row, outbox
):
    login_as(organiser)
    response = client.get(f"/writeups/new?event={meeting.slug}")
    title, body = soup(response).find(id="title")["value"], textarea(response)
    client.post(
        f"/writeups/new?event={meeting.slug}",
        data={"title": title, "slug": "report", "body": body, "action": "save"},
    )
    row = writeup_row("report")
    assert row["status"] == "draft" and row["event_id"] == meeting.id
    assert outbox() == []
