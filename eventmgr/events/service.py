"""Meeting rules: creating and editing meetings, their life cycle, speakers and key questions."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import nh3
from blinker import Namespace
from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, selectinload

from eventmgr.accounts.models import User
from eventmgr.database import lock_row, utcnow
from eventmgr.events.models import DiscussionPolicy, Event, EventStatus, Question, Speaker
from eventmgr.extensions import db
from eventmgr.web import text as text_rules
from eventmgr.web.markdown import render_markdown
from eventmgr.web.times import is_valid_timezone, to_local

#: The slug column's length; suffixes such as "-2" are kept inside it.
SLUG_MAX_LENGTH = 120
#: What a generated slug looks like; anything else in a URL cannot be a meeting.
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: Schemes an online link may use: a meeting link must open in a browser, never run script.
ONLINE_URL_SCHEMES = frozenset({"http", "https"})
#: Statuses the public sees; drafts are for organisers only.
LISTED_STATUSES = (EventStatus.PUBLISHED, EventStatus.CANCELLED)


class EventError(ValueError):
    """A meeting change that the rules refuse; the message is safe to show."""


class AlreadyDone(EventError):
    """The change was made already (a double click, another organiser); nothing changed again."""


@dataclass(frozen=True, kw_only=True)
class EventDetails:
    """Everything an organiser enters about a meeting, with times already in UTC."""

    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    summary: str = ""
    description: str = ""
    venue_name: str = ""
    venue_address: str = ""
    online_url: str = ""
    capacity: int | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    discussion_policy: str = DiscussionPolicy.ATTENDEES


# Loading -----------------------------------------------------------------------------------------


def can_manage_events(user: Any) -> bool:
    """Whether `user` (possibly anonymous) may create, edit, publish and cancel meetings."""
    return bool(user is not None and user.is_authenticated and user.is_organiser)


def _with_programme(statement: Any) -> Any:
    """The statement with speakers and questions loaded up front: a fixed number of queries."""
    return statement.options(selectinload(Event.speakers), selectinload(Event.questions))


def get_event_by_slug(slug: str) -> Event | None:
    """The meeting with this slug, its speakers and questions loaded, or None (any status)."""
    # Odd strings (too long, NUL bytes, capitals) cannot be slugs; don't send them to the database.
    if len(slug) > SLUG_MAX_LENGTH or not SLUG_PATTERN.fullmatch(slug):
        return None
    return db.session.scalar(_with_programme(select(Event).where(Event.slug == slug)))


def get_event_or_404(slug: str) -> Event:
    """The meeting with this slug whatever its status; aborts with 404 if there is none."""
    event = get_event_by_slug(slug)
    if event is None:
        abort(404)
    return event


def get_visible_event_or_404(slug: str, user: Any) -> Event:
    """The meeting if `user` may see it (drafts: organisers only); aborts with 404 otherwise."""
    event = get_event_or_404(slug)
    if event.is_draft and not can_manage_events(user):
        abort(404)
    return event


def get_speaker_or_404(event: Event, speaker_id: int) -> Speaker:
    """The speaker `speaker_id` of this meeting; aborts with 404 if it belongs elsewhere."""
    speaker = next((speaker for speaker in event.speakers if speaker.id == speaker_id), None)
    if speaker is None:
        abort(404)
    return speaker


def get_question_or_404(event: Event, question_id: int) -> Question:
    """The key question `question_id` of this meeting; aborts with 404 if it belongs elsewhere."""
    question = next((question for question in event.questions if question.id == question_id), None)
    if question is None:
        abort(404)
    return question


# Lists -------------------------------------------------------------------------------------------


def _listing(*conditions: Any) -> Any:
    """Meetings matching `conditions`, without the long description columns lists never show."""
    # raiseload: a template that starts showing descriptions fails loudly instead of issuing one
    # query per meeting.
    return (
        select(Event)
        .where(*conditions)
        .options(
            defer(Event.description, raiseload=True), defer(Event.description_html, raiseload=True)
        )
    )


def upcoming_events(*, page: int, per_page: int, now: datetime | None = None) -> Pagination:
    """Published and cancelled meetings that have not ended, soonest first, one page of them."""
    statement = _listing(
        Event.status.in_(LISTED_STATUSES), Event.ends_at > (now or utcnow())
    ).order_by(Event.starts_at, Event.id)
    return db.paginate(statement, page=page, per_page=per_page)


def past_events(*, page: int, per_page: int, now: datetime | None = None) -> Pagination:
    """Published and cancelled meetings that have ended, latest first, one page of them."""
    statement = _listing(
        Event.status.in_(LISTED_STATUSES), Event.ends_at <= (now or utcnow())
    ).order_by(Event.starts_at.desc(), Event.id.desc())
    return db.paginate(statement, page=page, per_page=per_page)


def next_events(*, limit: int, now: datetime | None = None) -> Sequence[Event]:
    """The next `limit` published or cancelled meetings that have not ended, soonest first."""
    statement = (
        _listing(Event.status.in_(LISTED_STATUSES), Event.ends_at > (now or utcnow()))
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    return db.session.scalars(statement).all()


def draft_events() -> Sequence[Event]:
    """Every draft meeting, soonest first (for organisers)."""
    statement = _listing(Event.status == EventStatus.DRAFT).order_by(Event.starts_at, Event.id)
    return db.session.scalars(statement).all()


# Slugs -------------------------------------------------------------------------------------------


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: 'Café Society!' → 'cafe-society'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _fit(base: str, suffix: str = "") -> str:
    """`base` cut so that base + suffix fits the slug column, without a dangling hyphen."""
    return base[: SLUG_MAX_LENGTH - len(suffix)].rstrip("-") + suffix


def unique_slug(title: str, starts_at: datetime, zone_name: str) -> str:
    """A free slug from the meeting's local start date and title, with -2, -3… on collision."""
    local_date = to_local(starts_at, zone_name).date()
    base = _fit(f"{local_date:%Y-%m-%d}-{slugify(title)}".rstrip("-"))
    taken = set(
        db.session.scalars(select(Event.slug).where(Event.slug.startswith(base[:100]))).all()
    )
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = _fit(base, f"-{number}")
    return candidate


# Creating and editing ----------------------------------------------------------------------------


def check_single_line(**labelled: tuple[str, str | None]) -> None:
    """Raise EventError naming the first value that holds a line break or control character
    (`name=(label, value)`; the rule of eventmgr.web.text, which the forms apply too)."""
    for label, value in labelled.values():
        problem = text_rules.single_line_problem(value, label)
        if problem:
            raise EventError(problem)


def check_details(details: EventDetails) -> None:
    """Raise EventError unless the details describe a meeting the rules allow."""
    if not details.title.strip():
        raise EventError("A meeting needs a title.")
    check_single_line(
        title=("Title", details.title),
        venue_name=("Venue", details.venue_name),
        online_url=("Online link", details.online_url),
    )
    if not is_valid_timezone(details.timezone):
        raise EventError("Choose a time zone from the list.")
    if details.starts_at.tzinfo is None or details.ends_at.tzinfo is None:
        raise EventError("Start and end times must be timezone-aware.")
    if details.ends_at <= details.starts_at:
        raise EventError("The meeting must end after it starts.")
    if details.capacity is not None and details.capacity < 0:
        raise EventError("Capacity cannot be negative.")
    opens, closes = details.registration_opens_at, details.registration_closes_at
    if opens is not None and closes is not None and closes <= opens:
        raise EventError("Registration must close after it opens.")
    if details.online_url and not is_safe_online_url(details.online_url):
        raise EventError("The online link must be an http:// or https:// address.")
    if details.discussion_policy not in set(DiscussionPolicy):
        raise EventError("Choose who may take part in the discussions.")


def is_safe_online_url(url: str) -> bool:
    """Whether `url` is an absolute http(s) address with a host, safe to link to."""
    if any(character.isspace() or ord(character) < 32 for character in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ONLINE_URL_SCHEMES and bool(parts.hostname)


def _apply(event: Event, details: EventDetails) -> None:
    """Copy the details onto the meeting, rendering its description to sanitised HTML."""
    for name, value in asdict(details).items():
        setattr(event, name, value)
    event.description_html = render_markdown(details.description)


def create_event(details: EventDetails, *, created_by: User | None) -> Event:
    """Add a draft meeting with a fresh slug; flushes; raises EventError for invalid details."""
    check_details(details)
    event = Event(
        slug=unique_slug(details.title, details.starts_at, details.timezone),
        status=EventStatus.DRAFT,
        created_by=created_by,
    )
    _apply(event, details)
    db.session.add(event)
    db.session.flush()
    return event


#: Fields whose change means attendees must hear about it and calendars must update.
SCHEDULE_FIELDS = frozenset(
    {"starts_at", "ends_at", "timezone", "venue_name", "venue_address", "online_url"}
)

# Other domains (registrations, mail) react to meeting changes through these signals, so this
# domain never imports them. Receivers run inside the same transaction, before the commit, and may
# raise EventError to refuse the change.
_signals = Namespace()
#: Sent as event_updated.send(event, changes={field: (old, new)}) after a valid edit, before flush.
event_updated = _signals.signal("event-updated")
#: Sent as event_cancelled.send(event) when a published meeting is cancelled.
event_cancelled = _signals.signal("event-cancelled")
#: Sent as question_removing.send(question) before a key question is deleted; a receiver raises
#: EventError to refuse (the discussions domain does when members have commented on it).
question_removing = _signals.signal("question-removing")


def update_event(event: Event, details: EventDetails) -> Event:
    """Change a meeting's details, keeping its slug; flushes; raises EventError if invalid.

    A change of time or place raises the meeting's calendar SEQUENCE and is announced through
    `event_updated`, whose receivers may refuse it (EventError) before anything is written.
    """
    check_details(details)
    # Compared with the meeting as committed: two saves of one edit announce it once.
    lock_row(db.session, event)
    changes = {
        name: (getattr(event, name), value)
        for name, value in asdict(details).items()
        if getattr(event, name) != value
    }
    event_updated.send(event, changes=changes)
    _apply(event, details)
    if changes.keys() & SCHEDULE_FIELDS:
        event.sequence += 1
    db.session.flush()
    return event


# Life cycle --------------------------------------------------------------------------------------


def publish_event(event: Event) -> Event:
    """Make a draft public; flushes; raises EventError unless the meeting is a draft (AlreadyDone
    if published: the row is locked and re-read first, so racing requests publish it once)."""
    lock_row(db.session, event)
    if event.is_cancelled:
        raise EventError("This meeting has been cancelled and cannot be published.")
    if event.is_published:
        raise AlreadyDone("This meeting is already published.")
    event.status = EventStatus.PUBLISHED
    event.published_at = utcnow()
    db.session.flush()
    return event


def cancel_event(event: Event) -> Event:
    """Cancel a published meeting, which stays visible; flushes; raises EventError otherwise
    (AlreadyDone if cancelled: after the row lock, so attendees hear of it once)."""
    lock_row(db.session, event)
    if event.is_cancelled:
        raise AlreadyDone("This meeting is already cancelled.")
    if event.is_draft:
        raise EventError("A draft is not public yet; edit it instead of cancelling it.")
    event.status = EventStatus.CANCELLED
    event.cancelled_at = utcnow()
    event.sequence += 1
    event_cancelled.send(event)
    db.session.flush()
    return event


# Speakers and key questions ----------------------------------------------------------------------


def _renumber(items: Sequence[Speaker | Question]) -> None:
    """Positions 1..n in list order, whatever gaps or duplicates there were."""
    for position, item in enumerate(items, start=1):
        item.position = position


def _move(items: list[Any], item: Any, offset: int) -> None:
    """Move `item` by `offset` places within `items` (clamped to the ends) and renumber."""
    index = items.index(item)
    target = min(max(index + offset, 0), len(items) - 1)
    items.insert(target, items.pop(index))
    _renumber(items)


def _check_speaker(name: str, affiliation: str, talk_title: str) -> None:
    """Raise EventError without a name, or with a line break in the name, affiliation or talk."""
    if not name.strip():
        raise EventError("A speaker needs a name.")
    check_single_line(
        name=("Name", name),
        affiliation=("Affiliation", affiliation),
        talk=("Talk title", talk_title),
    )


def add_speaker(
    event: Event, *, name: str, affiliation: str = "", talk_title: str = "", bio: str = ""
) -> Speaker:
    """Add a speaker at the end of the programme; flushes; raises EventError without a name or
    with a line break in a single-line field."""
    _check_speaker(name, affiliation, talk_title)
    speaker = Speaker(name=name, affiliation=affiliation, talk_title=talk_title, bio=bio)
    event.speakers.append(speaker)
    _renumber(event.speakers)
    db.session.flush()
    return speaker


def update_speaker(
    speaker: Speaker, *, name: str, affiliation: str = "", talk_title: str = "", bio: str = ""
) -> Speaker:
    """Change a speaker's details; flushes; raises EventError as add_speaker does."""
    _check_speaker(name, affiliation, talk_title)
    speaker.name, speaker.affiliation = name, affiliation
    speaker.talk_title, speaker.bio = talk_title, bio
    db.session.flush()
    return speaker


def move_speaker(speaker: Speaker, *, offset: int) -> None:
    """Move a speaker earlier (negative) or later (positive) in the programme; flushes."""
    _move(speaker.event.speakers, speaker, offset)
    db.session.flush()


def remove_speaker(speaker: Speaker) -> None:
    """Delete a speaker and close the gap in the programme; flushes."""
    event = speaker.event
    event.speakers.remove(speaker)
    _renumber(event.speakers)
    db.session.flush()


def _check_question(title: str) -> None:
    """Raise EventError unless the question's title is one line of text."""
    if not title.strip():
        raise EventError("A key question needs a title.")
    check_single_line(title=("Question", title))


def add_question(event: Event, *, title: str, body: str = "") -> Question:
    """Add a key question after the current ones; flushes; raises EventError without a one-line
    title."""
    _check_question(title)
    question = Question(title=title, body=body)
    event.questions.append(question)
    _renumber_questions(event)
    db.session.flush()
    return question


def update_question(question: Question, *, title: str, body: str = "") -> Question:
    """Change a key question; flushes; raises EventError without a one-line title."""
    _check_question(title)
    question.title, question.body = title, body
    db.session.flush()
    return question


def _renumber_questions(event: Event, current: Sequence[Question] | None = None) -> None:
    """Number the current questions 1..n (in the order of `current` if given), the retired ones
    after them, and keep `event.questions` in that order."""
    current = event.current_questions if current is None else current
    _renumber([*current, *event.retired_questions])
    # Not an instrumented change (no question joins or leaves): only the loaded order follows.
    event.questions.sort(key=lambda question: question.position)


def move_question(question: Question, *, offset: int) -> None:
    """Move a current key question earlier (negative) or later (positive) among the current ones;
    flushes; raises EventError for a retired one."""
    if question.is_retired:
        raise EventError("Bring the question back before moving it.")
    current = question.event.current_questions
    _move(current, question, offset)
    _renumber_questions(question.event, current)
    db.session.flush()


#: Why a question cannot be deleted, shown to organisers beside the Retire button.
DISCUSSED_MESSAGE = (
    "Members have discussed this question, so it cannot be deleted: their comments would go with "
    "it. Retire it instead: it leaves the programme and its discussion stays readable."
)


def remove_question(question: Question) -> None:
    """Delete a key question nobody has discussed and close the gap in the order; flushes; raises
    EventError (DISCUSSED_MESSAGE) if a receiver of `question_removing` finds comments on it."""
    # The discussions domain refuses (or clears away an empty thread) through this signal; the
    # database refuses too (threads.question_id is ON DELETE RESTRICT), whatever calls this.
    question_removing.send(question)
    event = question.event
    event.questions.remove(question)
    _renumber_questions(event)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone started its discussion at this very moment: their comment wins.
        db.session.rollback()
        raise EventError(DISCUSSED_MESSAGE) from None


def _lock_programme(question: Question) -> None:
    """Lock the question's meeting until the transaction ends, then reload the question."""
    lock_row(db.session, question.event)
    db.session.refresh(question)


def retire_question(question: Question) -> None:
    """Take a key question off the programme, keeping its discussion (read-only) at its address;
    flushes; raises AlreadyDone if it is already retired (after locking the meeting, whose programme
    this renumbers, so two clicks retire it once)."""
    _lock_programme(question)
    if question.is_retired:
        raise AlreadyDone("This question is already retired.")
    question.retired_at = utcnow()
    _renumber_questions(question.event)
    db.session.flush()


def restore_question(question: Question) -> None:
    """Put a retired question back at the end of the programme, its discussion open again;
    flushes; raises AlreadyDone if it is not retired (after the meeting's lock, as retiring)."""
    _lock_programme(question)
    if not question.is_retired:
        raise AlreadyDone("This question is already on the programme.")
    event = question.event
    question.retired_at = None
    others = [item for item in event.current_questions if item is not question]
    _renumber_questions(event, [*others, question])
    db.session.flush()


# Sharing: search engines and link previews -------------------------------------------------------

#: How long a description for search results and link previews may be.
DESCRIPTION_MAX_LENGTH = 200
SCHEMA_ORG = "https://schema.org"


def plain_description(event: Event, *, max_length: int = DESCRIPTION_MAX_LENGTH) -> str:
    """The summary, or else the start of the description as plain text, cut at a word boundary."""
    text = event.summary.strip()
    if not text:
        # The sanitised HTML, tags stripped: the raw Markdown would show its ** and [](...).
        text = html.unescape(nh3.clean(event.description_html or "", tags=set()))
    text = " ".join(text.split())
    if len(text) <= max_length:
        return text
    return text[: max_length - 1].rsplit(" ", 1)[0].rstrip(",;:.–—- ") + "…"


def _attendance_mode(event: Event) -> str:
    """schema.org's attendance mode: at a venue, online, or both."""
    at_venue = bool(event.venue_name.strip() or event.venue_address.strip())
    if at_venue and event.online_url:
        return f"{SCHEMA_ORG}/MixedEventAttendanceMode"
    if event.online_url:
        return f"{SCHEMA_ORG}/OnlineEventAttendanceMode"
    return f"{SCHEMA_ORG}/OfflineEventAttendanceMode"


def _locations(event: Event) -> list[dict[str, Any]]:
    """The venue as a Place with its address, and the online link as a VirtualLocation."""
    locations: list[dict[str, Any]] = []
    address = ", ".join(line.strip() for line in event.venue_address.splitlines() if line.strip())
    if event.venue_name.strip() or address:
        place: dict[str, Any] = {"@type": "Place", "name": event.venue_name.strip() or address}
        if address:
            place["address"] = {"@type": "PostalAddress", "streetAddress": address}
        locations.append(place)
    if event.online_url:
        locations.append({"@type": "VirtualLocation", "url": event.online_url})
    return locations


def structured_data(
    event: Event, *, url: str, organiser_name: str, organiser_url: str
) -> dict[str, Any]:
    """schema.org Event data for the meeting page's JSON-LD; times carry the meeting's UTC offset."""
    status = "EventCancelled" if event.is_cancelled else "EventScheduled"
    data: dict[str, Any] = {
        "@context": SCHEMA_ORG,
        "@type": "Event",
        "name": event.title,
        "description": plain_description(event),
        "url": url,
        "startDate": to_local(event.starts_at, event.timezone).isoformat(),
        "endDate": to_local(event.ends_at, event.timezone).isoformat(),
        "eventStatus": f"{SCHEMA_ORG}/{status}",
        "eventAttendanceMode": _attendance_mode(event),
        "organizer": {"@type": "Organization", "name": organiser_name, "url": organiser_url},
        "performer": [
            {
                "@type": "Person",
                "name": speaker.name,
                **(
                    {"affiliation": {"@type": "Organization", "name": speaker.affiliation}}
                    if speaker.affiliation
                    else {}
                ),
            }
            for speaker in event.speakers
        ],
    }
    locations = _locations(event)
    if locations:
        data["location"] = locations[0] if len(locations) == 1 else locations
    if event.capacity is not None:
        data["maximumAttendeeCapacity"] = event.capacity
    return data
