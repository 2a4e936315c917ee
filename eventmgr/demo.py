"""`flask demo load`: the Connecting Knowledge Communities meeting and demo accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from eventmgr.accounts import service as accounts_service
from eventmgr.accounts.models import Role, User
from eventmgr.events.models import Event, EventStatus, Question, Speaker
from eventmgr.extensions import db
from eventmgr.web.markdown import render_markdown
from eventmgr.web.times import to_utc

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
        _build_event(
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
