"""`flask demo load`: the Connecting Knowledge Communities meeting and demo accounts."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import delete, func, select

from eventmgr.accounts import service as accounts_service
from eventmgr.accounts.models import Role, User
from eventmgr.discussions import service as discussions_service
from eventmgr.discussions.models import Comment, Thread
from eventmgr.events.models import Event, EventStatus, Question, Speaker
from eventmgr.extensions import db
from eventmgr.mail.models import OutboxMessage
from eventmgr.registrations.models import Registration, RegistrationStatus
from eventmgr.web.markdown import render_markdown
from eventmgr.web.times import to_utc
from eventmgr.writeups import service as writeups_service

demo_cli = AppGroup("demo", help="Demo data for trying the app.")

ZONE = "Europe/London"

#: Demo accounts; README.md prints the same credentials.
DEMO_ACCOUNTS = [
    {
        "email": "organiser@example.org",
        "display_name": "Olivia Organiser",
        "organisation": "NetIKX",
        "password": "organiser-demo-2015",  # nosec B105: the documented demo login, demo data only
        "role": Role.ORGANISER,
    },
    {
        "email": "member@example.org",
        "display_name": "Max Member",
        "organisation": "ISKO UK",
        "password": "member-demo-2015",  # nosec B105: the documented demo login, demo data only
        "role": Role.MEMBER,
    },
]

CKC_DESCRIPTION = """\
What do KM and IM professionals require in terms of communities and networks? We work in such a \
wide range of situations – some with huge departments in large organisations, while others may \
work alone. There are associations that cover some of what we do – like CILIP, the Chartered \
Institution of Library and Information Professionals – but where you move into knowledge and wider \
information management, we cannot directly identify an organisation that covers our particular field.

This meeting identifies what is out there, invites some key people to talk about their communities, \
and lets participants discuss the issues:

1. **The intellectual and academic end of the spectrum**: Henley Business School and the Knowledge \
and Information Network (KIN) on research, expertise and career advancement.
2. **Social networks for professional development and support**: NetIKX itself and ISKO UK.
3. **Focused networks for specific jobs or interests**: the Information and Records Management \
Society (IRMS).

Among these many groups there must be something for everyone – but how well does this plenty meet \
our career and business requirements? We finish, as usual, with drinks and chat.
"""

CKC_SPEAKERS = [
    ("Guest speaker", "Henley Business School",
     "Research, expertise and career advancement for knowledge professionals",
     "Henley's Knowledge Management Forum links academic research with practitioners."),
    ("Guest speaker", "Knowledge and Information Network (KIN)",
     "KIN: a network for knowledge and information practitioners",
     "KIN brings practitioners together to share research and practice."),
    ("Guest speaker", "NetIKX",
     "NetIKX: a social network for professional development",
     "NetIKX meets in London to share experience and hear excellent speakers."),
    ("Guest speaker", "ISKO UK",
     "ISKO UK: knowledge organisation as a community",
     "The UK chapter of the International Society for Knowledge Organization."),
    ("Guest speaker", "Information and Records Management Society (IRMS)",
     "A focused network for information and records managers",
     "The professional society for records and information management."),
]  # fmt: skip

CKC_QUESTIONS = [
    ("What do we need personally?",
     "Face-to-face support, advice, expertise and career development: can a network of networks "
     "give us what no single professional body does?"),
    ("What are the needs of our organisations?",
     "Case studies, good practice guides and help making the business case, so that we deliver "
     "without constantly reinventing wheels."),
    ("Do these communities and networks deliver effectively?",
     "Could our many support groups work more closely together and offer better organised, more "
     "accessible value to the profession?"),
]  # fmt: skip

FOLLOW_UP_TITLE = "Keeping the Debate Alive: a Network of Networks"

FOLLOW_UP_DESCRIPTION = """\
At *Connecting Knowledge Communities* we promised to keep the debate alive. This evening asks how \
our plentiful supply of support groups – NetIKX, ISKO UK, KIN, IRMS, LIKE, the Gurteen knowledge \
cafés and KIDDM among them – could work more closely together, and how to bring better support to \
new staff and to colleagues away from the metropolis.

Short talks, a knowledge café round the three questions below, then drinks.
"""

FOLLOW_UP_SPEAKERS = [
    ("Guest speaker", "NetIKX", "What members told us after Connecting Knowledge Communities", ""),
    ("Café host", "Gurteen Knowledge Café", "Running a knowledge café", ""),
]

FOLLOW_UP_QUESTIONS = [
    ("How could our networks work more closely together?", ""),
    ("What would help colleagues working alone or away from London?", ""),
    ("What should a network of networks offer new staff?", ""),
]


# The conversation after Connecting Knowledge Communities -----------------------------------------

#: Attendees who are not demo logins (they get a random password nobody knows).
CKC_ATTENDEES = [
    ("priya.shah@example.org", "Priya Shah", "Knowledge and Information Network (KIN)"),
    ("tom.hughes@example.org", "Tom Hughes", "Information and Records Management Society (IRMS)"),
]

#: Comments on the key questions: (question position, author email, hours after the meeting
#: ended, body, replies as (author email, hours after, body)).
CKC_COMMENTS = [
    (1, "member@example.org", 14.6,
     "I belong to three of these groups and each covers a different part of my job: ISKO UK for "
     "classification, NetIKX for the people, IRMS for records. One professional body would be "
     "simpler, but I am not sure it would serve me better.",
     [("organiser@example.org", 17.2,
       "That *network of networks* point came up at several tables. Would a shared calendar of "
       "everyone's events be a useful first step?"),
      ("priya.shah@example.org", 40.4,
       "Yes please. KIN members often ask what else is on in London that month.")]),
    (2, "tom.hughes@example.org", 38.9,
     "What my organisation values most are the good practice guides: audit templates, retention "
     "schedules and worked business cases. Nobody should have to start from a blank page.",
     []),
    (3, "priya.shah@example.org", 87.1,
     "We promised to keep the debate alive. Could the groups agree not to schedule their evening "
     "meetings on the same night, as a start?",
     [("member@example.org", 112.75,
       "And share speakers' slides in one place, for those of us outside London.")]),
]  # fmt: skip

CKC_WRITEUP_TITLE = "Connecting Knowledge Communities: what we heard"
CKC_WRITEUP_SLUG = "connecting-knowledge-communities-what-we-heard"
CKC_WRITEUP = """What do KM and IM professionals need from communities and networks? We work in very different \
settings, some in large departments and some alone, and no single professional body covers \
knowledge and wider information management. That was the starting point of our meeting on \
23 September 2015.

# Who spoke

- **Henley Business School** and the **Knowledge and Information Network (KIN)**, from the \
academic end of the spectrum: research, expertise and routes to career advancement.
- **NetIKX** and **ISKO UK**, social networks for professional development and support.
- The **Information and Records Management Society (IRMS)**, a network focused on one profession.

# The three questions

**What do we need personally?** No body caters only for knowledge managers, but between them \
the groups offer face-to-face support, advice, expertise and career development; many of us \
belong to several, a network of networks.

**What are the needs of our organisations?** Case studies, good practice guides, audits and \
"how to" documents, and help making the business case to a reluctant finance director.

**Do these communities and networks deliver effectively?** We asked whether the groups could \
work more closely together and offer better organised, more accessible value to the profession, \
not least to new staff and to colleagues away from London.

We promised to keep the debate alive: carry on in the discussions on each question, and join us \
at the follow-up meeting. As usual, the evening ended with drinks and chat.
"""
#: A guest's reply on the write-up, approved by the organiser: (name, email, hours after, body).
CKC_GUEST_REPLY = (
    "Jo Reader", "jo.reader@example.org", 333.5,
    "Thank you for the write-up. I could not come on the night and this is a useful summary; "
    "I will look out for the follow-up meeting.",
)  # fmt: skip


def _register_attendees(event: Event, users: list[User]) -> None:
    """Seats at a past meeting for `users`, all checked in (registration itself is closed)."""
    for user in users:
        event.last_queue_number += 1
        db.session.add(
            Registration(
                event=event,
                user=user,
                status=RegistrationStatus.CONFIRMED,
                queue_number=event.last_queue_number,
                attended=True,
                created_at=event.starts_at - timedelta(days=14),
                registered_at=event.starts_at - timedelta(days=14),
                changed_at=event.starts_at - timedelta(days=14),
            )
        )
    db.session.flush()


def _dated(comment: Comment, when: datetime) -> Comment:
    """Move a demo comment, and its thread's latest activity, to `when`."""
    comment.created_at = comment.activity_at = when
    thread = db.session.get(Thread, comment.thread_id)
    thread.last_activity_at = when
    return comment


def _load_conversation(event: Event, organiser: User) -> None:
    """Attendees, comments on the key questions, and a published write-up with a guest reply.

    This is history, not news: the reply emails the comments queue are dropped again.
    """
    last_message = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    people = {user.email: user for user in db.session.scalars(select(User))}
    for email, name, organisation in CKC_ATTENDEES:
        if email not in people:
            people[email] = accounts_service.create_user(
                email=email,
                display_name=name,
                organisation=organisation,
                password=secrets.token_urlsafe(24),
            )
    attendees = ["member@example.org"] + [email for email, _, _ in CKC_ATTENDEES]
    _register_attendees(event, [people[email] for email in attendees])
    questions = {question.position: question for question in event.questions}
    for position, email, hours, body, replies in CKC_COMMENTS:
        topic = discussions_service.Topic(event=event, question=questions[position])
        comment = discussions_service.add_comment(topic, people[email], body)
        _dated(comment, event.ends_at + timedelta(hours=hours))
        for reply_email, reply_hours, reply_body in replies:
            reply = discussions_service.add_comment(
                topic, people[reply_email], reply_body, parent=comment
            )
            _dated(reply, event.ends_at + timedelta(hours=reply_hours))
            comment.activity_at = reply.created_at

    writeup = writeups_service.create_writeup(
        title=CKC_WRITEUP_TITLE, slug=CKC_WRITEUP_SLUG, body=CKC_WRITEUP, author=organiser,
        event=event,
    )  # fmt: skip
    # Dated a week after the meeting; its attendees were told then, so nobody is emailed now.
    writeup.published_at = writeup.notified_at = event.ends_at + timedelta(days=7)
    writeups_service.publish_writeup(writeup)
    name, email, hours, body = CKC_GUEST_REPLY
    guest = discussions_service.add_guest_comment(
        writeups_service.topic(writeup), name=name, email=email, body=body, ip=None,
        now=event.ends_at + timedelta(hours=hours),
    )  # fmt: skip
    if guest.is_pending:
        discussions_service.approve_comment(guest, organiser)
    _dated(guest, event.ends_at + timedelta(hours=hours))
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > last_message))
    db.session.flush()


def _demo_user(spec: dict) -> User:
    """The demo account for `spec`, created if missing."""
    user = accounts_service.get_user_by_email(spec["email"])
    if user is None:
        user = accounts_service.create_user(**spec)
    return user


def _next_wednesday_after(day: date, *, days: int) -> date:
    """The first Wednesday at least `days` days after `day`."""
    target = day + timedelta(days=days)
    return target + timedelta(days=(2 - target.weekday()) % 7)


def _build_event(*, slug: str, title: str, summary: str, description: str, day: date,
                 organiser: User, speakers: list, questions: list, capacity: int | None) -> Event:  # fmt: skip
    """A published meeting from 18:00 to 20:30 London time on `day`."""
    event = Event(
        slug=slug,
        title=title,
        summary=summary,
        description=description,
        description_html=render_markdown(description),
        starts_at=to_utc(datetime.combine(day, time(18, 0)), ZONE),
        ends_at=to_utc(datetime.combine(day, time(20, 30)), ZONE),
        timezone=ZONE,
        venue_name="Central London",
        venue_address="London, United Kingdom",
        capacity=capacity,
        status=EventStatus.PUBLISHED,
        published_at=datetime.now(UTC),
        created_by=organiser,
    )
    for position, (name, affiliation, talk_title, bio) in enumerate(speakers, start=1):
        event.speakers.append(
            Speaker(
                position=position,
                name=name,
                affiliation=affiliation,
                talk_title=talk_title,
                bio=bio,
            )  # fmt: skip
        )
    for position, (question_title, body) in enumerate(questions, start=1):
        event.questions.append(Question(position=position, title=question_title, body=body))
    db.session.add(event)
    return event


def load_demo(today: date | None = None) -> list[str]:
    """Create whatever part of the demo data is missing; flushes; returns what it created."""
    created: list[str] = []
    organiser, _member = (_demo_user(spec) for spec in DEMO_ACCOUNTS)

    ckc_slug = "2015-09-23-connecting-knowledge-communities"
    if db.session.scalar(select(Event).where(Event.slug == ckc_slug)) is None:
        ckc = _build_event(
            slug=ckc_slug,
            title="Connecting Knowledge Communities",
            summary="What do KM and IM professionals need from communities and networks? "
            "Speakers from Henley Business School, KIN, NetIKX, ISKO UK and IRMS.",
            description=CKC_DESCRIPTION,
            day=date(2015, 9, 23),
            organiser=organiser,
            speakers=CKC_SPEAKERS,
            questions=CKC_QUESTIONS,
            capacity=60,
        )
        db.session.flush()
        _load_conversation(ckc, organiser)
        created.append(ckc_slug)

    # The follow-up is always upcoming: it is found by title, and dated from the day it is loaded.
    if db.session.scalar(select(Event).where(Event.title == FOLLOW_UP_TITLE)) is None:
        day = _next_wednesday_after(today or datetime.now(UTC).date(), days=28)
        slug = f"{day:%Y-%m-%d}-keeping-the-debate-alive-a-network-of-networks"
        _build_event(
            slug=slug,
            title=FOLLOW_UP_TITLE,
            summary="The follow-up to Connecting Knowledge Communities: how our networks could "
            "work together.",
            description=FOLLOW_UP_DESCRIPTION,
            day=day,
            organiser=organiser,
            speakers=FOLLOW_UP_SPEAKERS,
            questions=FOLLOW_UP_QUESTIONS,
            capacity=40,
        )
        created.append(slug)
    db.session.flush()
    return created


def database_is_empty() -> bool:
    """Whether there are no users and no meetings yet."""
    users = db.session.scalar(select(func.count()).select_from(User))
    events = db.session.scalar(select(func.count()).select_from(Event))
    return users == 0 and events == 0


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing unless the database is empty.")
def load_command(if_empty: bool) -> None:
    """Load the demo meeting and accounts (safe to run again)."""
    if if_empty and not database_is_empty():
        click.echo("Database already has data; demo not loaded.")
        return
    created = load_demo()
    db.session.commit()
    if created:
        click.echo("Created meetings: " + ", ".join(created))
    else:
        click.echo("Demo meetings already present.")
    for spec in DEMO_ACCOUNTS:
        click.echo(f"Demo {spec['role']}: {spec['email']} / {spec['password']}")
