"""The events service, called directly: slugs, details rules, life cycle, lists, speakers, questions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.exceptions import NotFound

from eventmgr.events import service
from eventmgr.events.models import Event, EventStatus
from eventmgr.events.service import EventDetails, EventError
from eventmgr.web.times import is_valid_timezone

LONDON = "Europe/London"


def details(**overrides) -> EventDetails:
    """Valid details for an evening meeting on 23 September 2015, 18:00–20:30 BST."""
    fields = {
        "title": "Connecting Knowledge Communities",
        "starts_at": datetime(2015, 9, 23, 17, 0, tzinfo=UTC),
        "ends_at": datetime(2015, 9, 23, 19, 30, tzinfo=UTC),
        "timezone": LONDON,
        "description": "Talks, then **discussion**.",
    }
    fields.update(overrides)
    return EventDetails(**fields)


# Slugs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Connecting Knowledge Communities", "connecting-knowledge-communities"),
        ("Café  Society: Ça va?", "cafe-society-ca-va"),
        ("  KM & IM -- 2.0!  ", "km-im-2-0"),
        ("ﬁnding ｆｕｌｌ-width", "finding-full-width"),
        ("会議", ""),
    ],
)
def test_slugify_makes_lowercase_ascii_words(title, expected):
    assert service.slugify(title) == expected


def test_create_event_slug_uses_local_date_and_title(db):
    event = service.create_event(details(), created_by=None)
    assert event.slug == "2015-09-23-connecting-knowledge-communities"


def test_slug_date_is_the_local_date_not_the_utc_date(db):
    # 00:30 BST on the 24th is still the 23rd in UTC.
    starts_at = datetime(2015, 9, 23, 23, 30, tzinfo=UTC)
    event = service.create_event(
        details(title="Late night", starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)),
        created_by=None,
    )
    assert event.slug == "2015-09-24-late-night"


def test_slug_collisions_get_numbered_suffixes(db):
    slugs = [service.create_event(details(), created_by=None).slug for _ in range(3)]
    assert slugs == [
        "2015-09-23-connecting-knowledge-communities",
        "2015-09-23-connecting-knowledge-communities-2",
        "2015-09-23-connecting-knowledge-communities-3",
    ]


def test_long_titles_make_slugs_that_fit_even_with_a_suffix(db):
    title = "Knowledge " * 20
    first = service.create_event(details(title=title[:200]), created_by=None).slug
    second = service.create_event(details(title=title[:200]), created_by=None).slug
    assert len(first) <= 120 and len(second) <= 120
    assert not first.endswith("-")
    assert second.endswith("-2") and second != first


def test_title_without_latin_letters_still_gets_a_slug(db):
    event = service.create_event(details(title="会議"), created_by=None)
    assert event.slug == "2015-09-23"


# Creating and editing ----------------------------------------------------------------------------


def test_create_event_stores_a_draft_with_rendered_description(db, make_user):
    organiser = make_user(role="organiser")
    event = service.create_event(details(), created_by=organiser)
    assert event.status == EventStatus.DRAFT
    assert event.created_by is organiser
    assert event.description_html.strip() == "<p>Talks, then <strong>discussion</strong>.</p>"
    assert db.session.get(Event, event.id) is event


def test_description_html_is_sanitised_on_save(db):
    event = service.create_event(
        details(description="<script>alert(1)</script> [x](javascript:alert(1)) **bold**"),
        created_by=None,
    )
    assert "<script" not in event.description_html
    assert 'href="javascript' not in event.description_html
    assert "<strong>bold</strong>" in event.description_html


def test_update_event_keeps_the_slug_and_rerenders_the_description(db):
    event = service.create_event(details(), created_by=None)
    later = datetime(2016, 1, 6, 18, 0, tzinfo=UTC)
    service.update_event(
        event,
        details(title="A new title", starts_at=later, ends_at=later + timedelta(hours=2),
                description="*Changed*"),
    )  # fmt: skip
    assert event.slug == "2015-09-23-connecting-knowledge-communities"
    assert event.title == "A new title"
    assert event.description_html.strip() == "<p><em>Changed</em></p>"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": "  "}, "needs a title"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"timezone": "Europe"}, "time zone"),
        ({"ends_at": datetime(2015, 9, 23, 17, 0, tzinfo=UTC)}, "end after it starts"),
        ({"capacity": -1}, "negative"),
        ({"online_url": "javascript:alert(1)"}, "http"),
        ({"online_url": "https://"}, "http"),
        ({"discussion_policy": "everyone"}, "discussions"),
        (
            {
                "registration_opens_at": datetime(2015, 9, 10, tzinfo=UTC),
                "registration_closes_at": datetime(2015, 9, 1, tzinfo=UTC),
            },
            "close after it opens",
        ),
    ],
)
def test_create_event_refuses_invalid_details(db, overrides, message):
    with pytest.raises(EventError, match=message):
        service.create_event(details(**overrides), created_by=None)
    assert db.session.query(Event).count() == 0


def test_update_event_refuses_invalid_details_without_changing_anything(db):
    event = service.create_event(details(), created_by=None)
    with pytest.raises(EventError):
        service.update_event(event, details(title="Changed", capacity=-5))
    assert event.title == "Connecting Knowledge Communities"
    assert event.capacity is None


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://meet.example.org/abc", True),
        ("HTTP://example.org", True),
        ("javascript:alert(1)", False),
        ("ftp://example.org/file", False),
        ("https://exa mple.org", False),
        ("//example.org", False),
        ("https://[::1", False),
    ],
)
def test_is_safe_online_url(url, safe):
    assert service.is_safe_online_url(url) is safe


@pytest.mark.parametrize(
    ("name", "known"),
    [("Europe/London", True), ("UTC", True), ("Mars/Olympus", False), ("Europe", False),
     ("x" * 300, False), ("Europe/London\x00", False), ("", False)],
)  # fmt: skip
def test_is_valid_timezone_never_raises(name, known):
    assert is_valid_timezone(name) is known


# Life cycle --------------------------------------------------------------------------------------


def test_publish_sets_status_and_time(db):
    event = service.create_event(details(), created_by=None)
    service.publish_event(event)
    assert event.status == EventStatus.PUBLISHED
    assert event.published_at is not None


def test_publish_refuses_published_and_cancelled_meetings(db):
    event = service.create_event(details(), created_by=None)
    service.publish_event(event)
    with pytest.raises(EventError, match="already published"):
        service.publish_event(event)
    service.cancel_event(event)
    with pytest.raises(EventError, match="cancelled"):
        service.publish_event(event)
    assert event.status == EventStatus.CANCELLED


def test_cancel_sets_status_and_time(db, make_event):
    event = make_event()
    service.cancel_event(event)
    assert event.status == EventStatus.CANCELLED
    assert event.cancelled_at is not None


def test_cancel_refuses_drafts_and_cancelled_meetings(db, make_event):
    draft = make_event(status="draft")
    with pytest.raises(EventError, match="draft"):
        service.cancel_event(draft)
    assert draft.status == EventStatus.DRAFT
    cancelled = make_event(status="cancelled")
    with pytest.raises(EventError, match="already cancelled"):
        service.cancel_event(cancelled)


# Loading and visibility --------------------------------------------------------------------------


def test_get_visible_event_hides_drafts_from_everyone_but_organisers(db, make_event, make_user):
    draft = make_event(status="draft")
    organiser, member = make_user(role="organiser"), make_user()
    assert service.get_visible_event_or_404(draft.slug, organiser) is draft
    assert service.get_visible_event_or_404(draft.slug, make_user(role="admin")) is draft
    with pytest.raises(NotFound):
        service.get_visible_event_or_404(draft.slug, member)
    with pytest.raises(NotFound):
        service.get_visible_event_or_404(draft.slug, None)


@pytest.mark.parametrize("slug", ["", "UPPER", "a" * 121, "x\x00y", "a--b", "-a", "a b", "ü"])
def test_get_event_or_404_refuses_strings_that_cannot_be_slugs(db, slug):
    with pytest.raises(NotFound):
        service.get_event_or_404(slug)


def test_can_manage_events(db, make_user):
    assert service.can_manage_events(make_user(role="organiser"))
    assert service.can_manage_events(make_user(role="admin"))
    assert not service.can_manage_events(make_user(role="member"))
    assert not service.can_manage_events(None)


# Lists -------------------------------------------------------------------------------------------


def test_upcoming_lists_unfinished_public_meetings_soonest_first(db, make_event):
    now = datetime.now(UTC)
    later = make_event(starts_at=now + timedelta(days=20))
    soon = make_event(starts_at=now + timedelta(days=2))
    running = make_event(starts_at=now - timedelta(hours=1))
    cancelled = make_event(starts_at=now + timedelta(days=5), status="cancelled")
    make_event(starts_at=now + timedelta(days=1), status="draft")
    make_event(starts_at=now - timedelta(days=3))
    page = service.upcoming_events(page=1, per_page=10)
    assert page.items == [running, soon, cancelled, later]


def test_past_lists_finished_public_meetings_latest_first(db, make_event):
    now = datetime.now(UTC)
    old = make_event(starts_at=now - timedelta(days=400))
    recent = make_event(starts_at=now - timedelta(days=3))
    make_event(starts_at=now - timedelta(days=10), status="draft")
    make_event(starts_at=now + timedelta(days=3))
    assert service.past_events(page=1, per_page=10).items == [recent, old]


def test_next_events_and_drafts(db, make_event):
    now = datetime.now(UTC)
    events = [make_event(starts_at=now + timedelta(days=days)) for days in (9, 3, 6, 12)]
    draft = make_event(status="draft")
    assert service.next_events(limit=3) == [events[1], events[2], events[0]]
    assert service.draft_events() == [draft]


# Speakers and questions --------------------------------------------------------------------------


def test_speakers_keep_positions_one_to_n(db, make_event):
    event = make_event()
    ada, bob, cy = (service.add_speaker(event, name=name) for name in ("Ada", "Bob", "Cy"))
    assert [(s.position, s.name) for s in event.speakers] == [(1, "Ada"), (2, "Bob"), (3, "Cy")]

    service.move_speaker(cy, offset=-1)
    assert [(s.position, s.name) for s in event.speakers] == [(1, "Ada"), (2, "Cy"), (3, "Bob")]
    service.move_speaker(ada, offset=-1)  # already first: stays put
    service.move_speaker(bob, offset=1)  # already last: stays put
    assert [s.name for s in event.speakers] == ["Ada", "Cy", "Bob"]

    service.remove_speaker(cy)
    assert [(s.position, s.name) for s in event.speakers] == [(1, "Ada"), (2, "Bob")]
    db.session.commit()
    db.session.expire_all()
    reloaded = service.get_event_or_404(event.slug)
    assert [(s.position, s.name) for s in reloaded.speakers] == [(1, "Ada"), (2, "Bob")]


def test_add_speaker_after_existing_ones_and_update(db, make_event):
    event = make_event(speakers=[{"name": "First"}])
    speaker = service.add_speaker(
        event, name="Second", affiliation="ISKO UK", talk_title="Taxonomies", bio="Bio."
    )
    assert speaker.position == 2
    service.update_speaker(speaker, name="Renamed", affiliation="", talk_title="T", bio="")
    assert (speaker.name, speaker.affiliation, speaker.talk_title) == ("Renamed", "", "T")
    with pytest.raises(EventError):
        service.update_speaker(speaker, name=" ")
    with pytest.raises(EventError):
        service.add_speaker(event, name="")


def test_questions_keep_positions_one_to_n(db, make_event):
    event = make_event()
    first = service.add_question(event, title="What do we need personally?")
    second = service.add_question(event, title="What do our organisations need?", body="Why")
    third = service.add_question(event, title="Do networks deliver?")
    service.move_question(first, offset=1)
    assert [q.title for q in event.questions] == [second.title, first.title, third.title]
    service.remove_question(second)
    assert [(q.position, q.title) for q in event.questions] == [(1, first.title), (2, third.title)]
    service.update_question(third, title="Do networks deliver effectively?", body="More")
    assert third.body == "More"
    with pytest.raises(EventError):
        service.add_question(event, title="  ")


def test_get_speaker_or_404_requires_the_speaker_to_belong_to_the_event(db, make_event):
    one = make_event(speakers=[{"name": "Ada"}])
    other = make_event(speakers=[{"name": "Bob"}])
    assert service.get_speaker_or_404(one, one.speakers[0].id) is one.speakers[0]
    with pytest.raises(NotFound):
        service.get_speaker_or_404(one, other.speakers[0].id)
    with pytest.raises(NotFound):
        service.get_question_or_404(one, 10**20)
