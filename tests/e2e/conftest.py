"""Browser tests: the real app in a subprocess on a free loopback port, driven by Debian's Chromium.

The server uses its own database of the kind this run tests (an SQLite file, or a PostgreSQL database
named after TEST_DATABASE_URL's with `_e2e` appended), migrated with `flask db upgrade` as in production.
One server serves the whole session, so tests make their own users and meetings with unique names.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from eventmgr import create_app
from eventmgr.extensions import db
from tests.conftest import DEFAULT_PASSWORD, base_config, fresh_database_url
from tests.e2e.harness import CHROMIUM, DESKTOP, PHONE, launch_chromium
from tests.served import PROJECT_ROOT, flask_command, flask_run, free_port, server_environment

#: What browser tests import from here, besides the fixtures.
__all__ = ["CHROMIUM", "DESKTOP", "PHONE", "free_port", "log_in", "run_axe", "unique"]

AXE_SCRIPT = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e carries the `e2e` marker (`pytest -m e2e` runs them alone)."""
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@dataclass
class LiveServer:
    """The running app: its address and its database (for arranging data directly)."""

    url: str
    database_url: str

    def app(self):
        """An app object on the server's database, for creating users and meetings in tests."""
        return create_app(base_config(self.database_url))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Migrate a fresh database and serve the app with `flask run` until the session ends."""
    tmp_path = tmp_path_factory.mktemp("e2e")
    database_url = fresh_database_url(tmp_path, "e2e")
    env = server_environment(database_url, tmp_path / "instance")
    flask_command(env, "db", "upgrade")
    with flask_run(env, tmp_path / "server.log") as served:
        yield LiveServer(url=served.url, database_url=database_url)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    """Playwright's driver for the session."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium; never a browser downloaded by Playwright."""
    browser = launch_chromium(playwright_instance)
    yield browser
    browser.close()


@pytest.fixture
def new_context(
    browser: Browser, live_server: LiveServer
) -> Iterator[Callable[..., BrowserContext]]:
    """Open browser profiles with options (viewport, color_scheme, storage_state); closed after."""
    opened: list[BrowserContext] = []

    def open_context(**options: Any) -> BrowserContext:
        settings = {"viewport": DESKTOP, "locale": "en-GB", **options}
        context = browser.new_context(base_url=live_server.url, **settings)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    """A fresh browser profile (no cookies) at desktop size."""
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in `context`."""
    return context.new_page()


_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    """`prefix` with a suffix no other test in this session uses."""
    return f"{prefix}-{time.time_ns()}-{next(_numbers)}"


@pytest.fixture(scope="session")
def create_user(live_server: LiveServer) -> Callable[..., dict[str, Any]]:
    """Create an account directly in the server's database; returns its email and password."""
    from eventmgr.accounts import service

    def build(role: str = "member", **fields: Any) -> dict[str, Any]:
        number = next(_numbers)
        details = {
            "email": f"{unique('e2e-' + role)}@example.org",
            "display_name": fields.pop("display_name", f"{role.title()} {number}"),
            "organisation": "NetIKX",
            "password": DEFAULT_PASSWORD,
            "role": role,
            **fields,
        }
        app = live_server.app()
        with app.app_context():
            service.create_user(**details)
            db.session.commit()
            db.engine.dispose()
        return details

    return build


@pytest.fixture(scope="session")
def create_event(live_server: LiveServer) -> Callable[..., dict[str, Any]]:
    """Create a meeting through the service (published, 60 days ahead, two talks, two questions).

    create_event(status="draft" | "cancelled", days_ahead=..., speakers=[...], questions=[...],
    any EventDetails field) returns the meeting's slug and title.
    """
    from eventmgr.events import service
    from eventmgr.web.times import to_utc

    def build(
        *,
        status: str = "published",
        days_ahead: int = 60,
        speakers: list[dict[str, str]] | None = None,
        questions: list[dict[str, str]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        day = (datetime.now(UTC) + timedelta(days=days_ahead)).date()
        details = {
            "title": f"Meeting {next(_numbers)}: knowledge cafés in practice",
            "summary": "How knowledge cafés help networks learn from each other.",
            "description": "Two short talks, then **discussion** round the key questions.",
            "starts_at": to_utc(datetime(day.year, day.month, day.day, 18, 0), "Europe/London"),
            "ends_at": to_utc(datetime(day.year, day.month, day.day, 20, 30), "Europe/London"),
            "timezone": "Europe/London",
            "venue_name": "Conway Hall",
            "venue_address": "25 Red Lion Square\nLondon WC1R 4RL",
            "capacity": 40,
            **fields,
        }
        if speakers is None:
            speakers = [
                {"name": "Ada Lovelace", "affiliation": "Henley Business School",
                 "talk_title": "Research and careers", "bio": "Ada runs the KM Forum."},
                {"name": "Bob Brown", "affiliation": "ISKO UK",
                 "talk_title": "Knowledge organisation as a community"},
            ]  # fmt: skip
        if questions is None:
            questions = [
                {"title": "What do we need personally?", "body": "Support, advice, expertise."},
                {"title": "What are the needs of our organisations?"},
            ]
        app = live_server.app()
        with app.app_context():
            event = service.create_event(service.EventDetails(**details), created_by=None)
            for speaker in speakers:
                service.add_speaker(event, **speaker)
            for question in questions:
                service.add_question(event, **question)
            if status in ("published", "cancelled"):
                service.publish_event(event)
            if status == "cancelled":
                service.cancel_event(event)
            result = {
                "slug": event.slug,
                "title": event.title,
                "url": f"/events/{event.slug}",
                "speaker_ids": [speaker.id for speaker in event.speakers],
                "question_ids": [question.id for question in event.questions],
            }
            db.session.commit()
            db.engine.dispose()
        return result

    return build


@pytest.fixture(scope="session")
def signed_in_state(
    browser: Browser, live_server: LiveServer, create_user: Callable[..., dict[str, Any]]
) -> Callable[[str], dict[str, Any]]:
    """The cookies of a session logged in through the form, one per role, for new contexts."""
    states: dict[str, dict[str, Any]] = {}

    def state_for(role: str) -> dict[str, Any]:
        if role not in states:
            user = create_user(role=role)
            context = browser.new_context(base_url=live_server.url)
            log_in(context.new_page(), user["email"])
            states[role] = {"user": user, "storage_state": context.storage_state()}
            context.close()
        return states[role]

    return state_for


def log_in(page: Page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the form, as a person would."""
    page.goto("/account/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def run_axe(
    page: Page, *, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[dict[str, Any]]:
    """Inject axe-core into the page and return its violations of the given impacts."""
    # Evaluated through the DevTools protocol: the page's CSP forbids inline <script> tags.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT.read_text())
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in impacts]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """A readable list of axe violations: rule, impact, help and the offending elements."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(
            f"    {node['target']}: {node['failureSummary']}" for node in violation["nodes"]
        )
    return "\n".join(lines)
