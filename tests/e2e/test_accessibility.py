"""axe-core on every main page, logged out and logged in, in light and dark colour schemes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.conftest import describe_violations, run_axe

SCHEMES = ["light", "dark"]

#: Pages anyone can open.
PUBLIC_PAGES = ["home", "upcoming", "past", "meeting", "login", "signup", "not-found", "write-ups",
                "write-up"]  # fmt: skip
#: Pages an admin (who is also an organiser) sees; login and signup redirect once logged in.
SIGNED_IN_PAGES = [
    "home",
    "upcoming",
    "past",
    "meeting",
    "draft meeting",
    "cancelled meeting",
    "account",
    "users",
    "new meeting",
    "edit meeting",
    "speakers",
    "edit speaker",
    "questions",
    "edit question",
    "cancel meeting",
    "not-found",
    "my meetings",
    "attendees",
    "question thread",
    "follow-up discussion",
    "moderation",
    "write-ups",
    "write-up",
    "new write-up",
    "draft from meeting",
    "edit write-up",
]


@pytest.fixture(scope="module")
def paths(
    create_event: Callable[..., dict[str, Any]], create_writeup: Callable[..., dict[str, Any]]
) -> dict[str, str]:
    """The address of each audited page, with meetings in each state to show."""
    meeting = create_event(online_url="https://stream.example.org/cafe")
    past = create_event(days_ahead=-30)
    writeup = create_writeup()
    draft = create_event(status="draft")
    cancelled = create_event(status="cancelled")
    slug = meeting["slug"]
    return {
        "home": "/",
        "upcoming": "/events/",
        "past": "/events/past",
        "meeting": meeting["url"],
        "draft meeting": draft["url"],
        "cancelled meeting": cancelled["url"],
        "login": "/account/login",
        "signup": "/account/signup",
        "account": "/account/",
        "users": "/account/users",
        "new meeting": "/events/new",
        "edit meeting": f"/events/{slug}/edit",
        "speakers": f"/events/{slug}/speakers",
        "edit speaker": f"/events/{slug}/speakers/{meeting['speaker_ids'][0]}/edit",
        "questions": f"/events/{slug}/questions",
        "edit question": f"/events/{slug}/questions/{meeting['question_ids'][0]}/edit",
        "cancel meeting": f"/events/{slug}/cancel",
        "not-found": "/no/such/page",
        "my meetings": "/my/events",
        "attendees": f"/events/{slug}/attendees",
        "question thread": f"/events/{slug}/questions/{meeting['question_ids'][0]}",
        "follow-up discussion": f"/events/{slug}/discussion",
        "moderation": "/moderation/",
        "write-ups": "/writeups/",
        "write-up": f"/writeups/{writeup['slug']}",
        "new write-up": "/writeups/new",
        "draft from meeting": f"/writeups/new?event={past['slug']}",
        "edit write-up": f"/writeups/{writeup['slug']}/edit",
    }


@pytest.fixture(scope="module")
def create_writeup(live_server: Any) -> Callable[..., dict[str, Any]]:
    """Publish a standalone write-up through the service on the server's database."""
    from eventmgr.extensions import db
    from eventmgr.writeups import service
    from tests.e2e.conftest import unique

    def build() -> dict[str, Any]:
        app = live_server.app()
        with app.app_context(), app.test_request_context():
            slug = unique("writeup")
            writeup = service.create_writeup(
                title="Knowledge cafés in practice",
                slug=slug,
                body="# What we heard\n\nTalks, then **discussion**.\n\n> A quote.",
                author=None,
            )
            service.publish_writeup(writeup)
            db.session.commit()
            db.engine.dispose()
        return {"slug": slug}

    return build


def audit(context: BrowserContext, path: str) -> None:
    """Open `path`; fail on any serious or critical axe violation in light or dark colours."""
    page = context.new_page()
    response = page.goto(path)
    assert response is not None
    assert response.status == (404 if path == "/no/such/page" else 200), path
    found = {}
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        found[scheme] = run_axe(page)
    assert found == {"light": [], "dark": []}, "\n".join(
        f"{path} ({scheme}):\n{describe_violations(violations)}"
        for scheme, violations in found.items()
        if violations
    )


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_has_no_serious_axe_violations(context, paths, name):
    audit(context, paths[name])


@pytest.mark.parametrize("name", SIGNED_IN_PAGES)
def test_signed_in_page_has_no_serious_axe_violations(new_context, signed_in_state, paths, name):
    audit(new_context(storage_state=signed_in_state("admin")["storage_state"]), paths[name])


def test_form_with_errors_has_no_serious_axe_violations(context):
    page = context.new_page()
    page.goto("/account/signup")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_be_visible()
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        violations = run_axe(page)
        assert not violations, f"{scheme}:\n{describe_violations(violations)}"


def test_flash_messages_have_no_serious_axe_violations(new_context, signed_in_state):
    page = new_context(storage_state=signed_in_state("admin")["storage_state"]).new_page()
    page.goto("/account/")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        violations = run_axe(page)
        assert not violations, f"{scheme}:\n{describe_violations(violations)}"


@pytest.mark.parametrize(
    ("scheme", "dark"), [("light", False), ("dark", True)], ids=["light", "dark"]
)
def test_the_colour_scheme_follows_the_browser(new_context, paths, scheme, dark):
    page = new_context(color_scheme=scheme).new_page()
    page.goto(paths["meeting"])
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(part) for part in re.findall(r"\d+", background)[:3])
    assert (red + green + blue < 3 * 128) == dark, background
    assert not run_axe(page), describe_violations(run_axe(page))


def test_axe_reports_serious_violations(page):
    page.goto("/")
    page.evaluate(
        """() => {
            const faint = document.createElement('p');
            faint.textContent = 'Barely readable';
            faint.style.color = '#dddddd';
            const picture = document.createElement('img');
            picture.src = '/static/site.css';
            document.querySelector('main').append(faint, picture);
        }"""
    )
    assert {violation["id"] for violation in run_axe(page)} >= {"color-contrast", "image-alt"}
