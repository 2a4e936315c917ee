"""Single-line fields (names, titles, venue, reasons) refuse line breaks and control or format
characters beside the field, keeping the input; the services refuse them too, so the CLI and
scripts cannot store what a form would refuse. Multi-line fields keep their line breaks."""

from __future__ import annotations

import pytest

from eventmgr.accounts import service as accounts
from eventmgr.events import service as events
from eventmgr.web.text import SINGLE_LINE_MESSAGE, single_line_problem
from eventmgr.writeups import service as writeups
from tests.discussions.helpers import field_error, soup
from tests.security.conftest import login_clients
from tests.security.test_attack_inputs import CATALOGUE, form_url, world_params

#: Line feed, carriage return, vertical tab, NEL, line and paragraph separators, a right-to-left
#: override, a zero-width space and a byte-order mark.
REFUSED = ["\n", "\r", "\x0b", "\x85", "\u2028", "\u2029", "\u202e", "\u200b", "\ufeff"]
#: One line all the same: accents, a no-break space, Persian's zero-width non-joiner, emoji.
ALLOWED = [
    "José Ñúñez",
    "Anne\u00a0Marie",
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "Ana 👩‍💻",
]

#: A form → the URL rule that tests.security.test_attack_inputs.CATALOGUE describes it by.
FORMS = {
    "signup": "/account/signup",
    "profile": "/account/",
    "meeting": "/events/new",
    "meeting-edit": "/events/<slug>/edit",
    "speaker": "/events/<slug>/speakers",
    "question": "/events/<slug>/questions",
    "writeup": "/writeups/new",
    "guest-reply": "/writeups/<slug>",
}
#: A form → its single-line fields.
SINGLE_LINE_FIELDS = {
    "signup": ["display_name", "organisation"],
    "profile": ["profile-display_name", "profile-organisation"],
    "meeting": ["title", "venue_name", "online_url"],
    "meeting-edit": ["title", "venue_name"],
    "speaker": ["name", "affiliation", "talk_title"],
    "question": ["title"],
    "writeup": ["title"],
    "guest-reply": ["name"],
}
CASES = [(form, field) for form, fields in SINGLE_LINE_FIELDS.items() for field in fields]


@pytest.mark.parametrize(("form", "field"), CASES, ids=[f"{f}.{n}" for f, n in CASES])
def test_single_line_fields_refuse_line_breaks_beside_the_field_and_keep_the_input(
    app, make_world, form, field
):
    world = make_world()
    entry = CATALOGUE[FORMS[form]]
    actor, valid = entry["actor"], entry["valid"]
    url = form_url(FORMS[form], world_params(app, world))
    client = login_clients(app, world)[actor]
    for character in REFUSED:
        value = f"Line one{character}Line two"
        response = client.post(url, data={**valid, field: value})
        assert response.status_code in (200, 400), (field, repr(character))
        # The online link also says what a web address looks like.
        assert field_error(response, field).startswith(SINGLE_LINE_MESSAGE), (
            field,
            repr(character),
        )
        # Kept as sent (an HTML parser reads a carriage return in an attribute as a line feed).
        kept = soup(response).find(attrs={"name": field})["value"]
        assert kept == value.replace("\r", "\n"), (field, repr(character))


def test_a_moderators_reason_is_one_line(app, make_world):
    world = make_world()
    client = login_clients(app, world)["organiser"]
    url = f"/comments/{world.params['comment_id']}/hide"
    response = client.post(url, data={"reason": "Off topic\r\nBcc: everyone"})
    assert response.status_code == 400
    assert field_error(response, "reason") == SINGLE_LINE_MESSAGE


@pytest.mark.parametrize("value", ALLOWED)
def test_ordinary_names_in_any_script_are_one_line(value):
    assert single_line_problem(value) is None


@pytest.mark.parametrize("character", REFUSED + ["\t", "\x1b"])
def test_the_rule_refuses_controls_formats_and_separators(character):
    assert single_line_problem(f"a{character}b", "Title") == (
        "Title: use one line of text, without line breaks or invisible control characters."
    )


def test_account_services_refuse_what_the_forms_refuse(db):
    with pytest.raises(accounts.AccountError, match="one line") as refused:
        accounts.create_user(
            email="new@example.org", display_name="Dear member,\nclick here", password="x" * 12
        )
    assert refused.value.field == "display_name"
    user = accounts.create_user(email="ok@example.org", display_name="Ok", password="x" * 12)
    with pytest.raises(accounts.AccountError, match="one line") as refused:
        accounts.update_profile(
            user, display_name="Ok", organisation="A\u202eB", bio="", notify_replies=True,
            notify_event_updates=True,
        )  # fmt: skip
    assert refused.value.field == "organisation" and user.organisation == ""
    # A bio is several lines and keeps them.
    accounts.update_profile(
        user, display_name="Ok", organisation="", bio="One.\n\nTwo.", notify_replies=True,
        notify_event_updates=True,
    )  # fmt: skip
    assert user.bio == "One.\n\nTwo."


def test_meeting_speaker_question_and_write_up_services_refuse_line_breaks(db, make_event):
    from eventmgr.events.models import Event

    event = db.session.get(Event, make_event().id)
    details = events.EventDetails(
        title="Title\nBcc: all", starts_at=event.starts_at, ends_at=event.ends_at,
        timezone=event.timezone, description="Line one.\nLine two.",
    )  # fmt: skip
    with pytest.raises(events.EventError, match="Title: use one line"):
        events.update_event(event, details)
    with pytest.raises(events.EventError, match="Talk title: use one line"):
        events.add_speaker(event, name="Sue", talk_title="A\r\nB")
    with pytest.raises(events.EventError, match="Question: use one line"):
        events.add_question(event, title="Why\u2028not?")
    with pytest.raises(writeups.WriteUpError, match="one line") as refused:
        writeups.create_writeup(title="Report\nmore", slug="", body="Text.", author=None)
    assert refused.value.field == "title"
    # Multi-line fields keep their line breaks.
    speaker = events.add_speaker(event, name="Sue", bio="Para one.\n\nPara two.")
    assert speaker.bio == "Para one.\n\nPara two."


def test_the_users_command_cannot_create_a_name_with_a_line_break(runner):
    result = runner.invoke(
        args=["users", "create", "cli@example.org", "--name", "Dear\nmember"],
        input="long enough pass 1\nlong enough pass 1\n",
    )
    assert result.exit_code != 0
    assert "Display name: use one line" in result.output
