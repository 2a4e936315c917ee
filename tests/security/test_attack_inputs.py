"""Hostile input through every text field of every form and the query parameters of GET pages.

No 500s, nothing injected into the page (parsed as a browser would, with html5lib), and a refused
form saves nothing. The Big List of Naughty Strings (tests/security/data/blns.json, MIT licence in
data/LICENSE) goes through three representative inputs in full; a smaller set of XSS vectors goes
through every field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from tests.events.helpers import meeting_form
from tests.security.conftest import login_clients, table_rows

BLNS = json.loads((Path(__file__).parent / "data" / "blns.json").read_text())
XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "[click](javascript:alert(1))",
    "[click](java\nscript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>@import 'http://evil.example/x.css';</style>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '![x](x"onerror="alert(1))',
    "</textarea><script>alert(1)</script>",
    "{{ 7*7 }}{% raw %}",
    "nul\x00byte",
    "A" * 100_000,
]
#: URL attributes whose value must never carry a script.
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data")
FORBIDDEN_TAGS = ("iframe", "object", "embed", "base", "frame", "frameset")


def injected(html: str) -> list[str]:
    """What in `html` could run script: inline scripts (except JSON-LD), on* attributes,
    javascript:/vbscript:/data:text URLs and embedding elements."""
    found = []
    for tag in BeautifulSoup(html, "html5lib").find_all(True):
        if tag.name == "script" and not tag.get("src") and tag.get("type") != "application/ld+json":
            found.append(str(tag)[:200])
        if tag.name in FORBIDDEN_TAGS:
            found.append(str(tag)[:200])
        for name, value in tag.attrs.items():
            if name.lower().startswith("on"):
                found.append(f"{tag.name} {name}")
            if name.lower() in URL_ATTRIBUTES and isinstance(value, str):
                compact = "".join(value.split()).lower()
                if compact.startswith(("javascript:", "vbscript:", "data:text")):
                    found.append(f"{tag.name} {name}={value[:80]}")
    return found


def check_response(response: Any, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code}"
    if "html" in response.content_type:
        assert not injected(response.get_data(as_text=True)), where


#: Each form: the actor, the URL, valid data, the text fields to attack and pages that show them.
def forms(world) -> dict[str, tuple[str, str, dict[str, str], list[str], list[str]]]:
    p = world.params
    thread = f"/events/{p['slug']}/questions/{p['question_id']}"
    return {
        "signup": ("anonymous", "/account/signup", {"email": "new@example.org",
                   "display_name": "New", "organisation": "", "password": "long enough pass 1",
                   "confirm_password": "long enough pass 1"},
                   ["email", "display_name", "organisation", "password"], []),
        "login": ("anonymous", "/account/login", {"email": "x@example.org", "password": "p",
                  "next": "/"}, ["email", "password", "next"], []),
        "profile": ("member", "/account/", {"profile-display_name": "Plain Member"},
                    ["profile-display_name", "profile-organisation", "profile-bio"],
                    ["/account/"]),
        "meeting": ("organiser", "/events/new", meeting_form(),
                    ["title", "summary", "description", "venue_name", "venue_address",
                     "online_url", "timezone"], ["/events/"]),
        "meeting-edit": ("organiser", f"/events/{p['slug']}/edit", meeting_form(),
                         ["title", "summary", "description", "venue_name"],
                         [f"/events/{p['slug']}", "/events.ics"]),
        "speaker": ("organiser", f"/events/{p['slug']}/speakers", {"name": "Sue"},
                    ["name", "affiliation", "talk_title", "bio"], [f"/events/{p['slug']}"]),
        "question": ("organiser", f"/events/{p['slug']}/questions", {"title": "Why?"},
                     ["title", "body"], [f"/events/{p['slug']}"]),
        "comment": ("attendee", thread, {"body": "ok"}, ["body"], [thread]),
        "reply": ("attendee", f"/comments/{p['comment_id']}/reply", {"body": "ok"}, ["body"],
                  [thread]),
        "report": ("other", f"/comments/{p['comment_id']}/report", {"reason": "spam"},
                   ["reason"], ["/moderation/"]),
        "writeup": ("organiser", "/writeups/new", {"title": "T", "slug": "t-one", "body": "b"},
                    ["title", "slug", "body"], ["/writeups/"]),
        "guest-reply": ("anonymous", f"/writeups/{p['writeup_slug']}",
                        {"name": "Gus", "email": "gus@example.org", "body": "hi"},
                        ["name", "email", "body"], [f"/writeups/{p['writeup_slug']}"]),
    }  # fmt: skip


FORM_NAMES = ["signup", "login", "profile", "meeting", "meeting-edit", "speaker", "question",
              "comment", "reply", "report", "writeup", "guest-reply"]  # fmt: skip


def send(
    app, client, url: str, data: dict[str, str], where: str, before: dict[str, list[tuple]]
) -> dict:
    """POST, check the answer; a refused form must have changed nothing (rows as `before`).
    Returns the rows now, the next call's `before`."""
    response = client.post(url, data=data)
    check_response(response, where)
    with app.app_context():
        after = table_rows()
    if response.status_code != 302:
        assert after == before, f"{where}: refused form changed rows"
    return after


def rows_now(app) -> dict[str, list[tuple]]:
    """Each table's sorted rows, read in a fresh app context."""
    with app.app_context():
        return table_rows()


@pytest.mark.parametrize("form", FORM_NAMES)
def test_xss_vectors_in_every_field(app, make_world, form):
    world = make_world()
    actor, url, valid, fields, pages = forms(world)[form]
    clients = login_clients(app, world)
    before = rows_now(app)
    for number, field in enumerate(fields):
        # The 100 KB string through the first field only: parsing its echo is slow.
        for vector in XSS if number == 0 else XSS[:-1]:
            client = login_clients(app, world)[actor] if actor == "anonymous" else clients[actor]
            before = send(app, client, url, {**valid, field: vector},
                          f"{form}.{field}={vector[:30]!r}", before)  # fmt: skip
    viewer = clients["organiser"]
    for page in pages:
        check_response(viewer.get(page), f"{form} shown on {page}")
    for actor_name in ("anonymous", "attendee"):
        for page in pages:
            check_response(clients[actor_name].get(page), f"{form} on {page} for {actor_name}")


def test_naughty_strings_as_comments(app, make_world):
    world = make_world()
    p = world.params
    thread = f"/events/{p['slug']}/questions/{p['question_id']}"
    client = login_clients(app, world)["attendee"]
    before = rows_now(app)
    for string in BLNS:
        before = send(app, client, thread, {"body": string}, f"comment {string[:40]!r}", before)
    for page in range(1, 30):
        response = client.get(f"{thread}?page={page}")
        if response.status_code == 404:
            break
        check_response(response, f"thread page {page}")


def test_naughty_strings_as_display_names(app, make_world):
    world = make_world()
    client = login_clients(app, world)["member"]
    before = rows_now(app)
    for string in BLNS:
        before = send(app, client, "/account/", {"profile-display_name": string},
                      f"display name {string[:40]!r}", before)  # fmt: skip
        check_response(client.get("/account/"), f"account page after {string[:40]!r}")


def test_naughty_strings_in_query_parameters(app, make_world):
    world = make_world()
    p = world.params
    client = login_clients(app, world)["attendee"]
    thread = f"/events/{p['slug']}/questions/{p['question_id']}"
    for string in BLNS:
        response = client.get(thread, query_string={"sort": string})
        check_response(response, f"{thread}?sort={string[:40]!r}")
    for string in XSS[:-1]:
        for path, name in ((thread, "page"), ("/events/", "page"), ("/account/login", "next"),
                           (f"/comments/{p['comment_id']}/reply", "quote")):  # fmt: skip
            response = client.get(path, query_string={name: string})
            check_response(response, f"{path}?{name}={string[:40]!r}")


@pytest.mark.parametrize(
    "query",
    ["page=%ff%fe", "sort=%ff%fe", "next=%ff%fe%00", "quote=%00", "page=%00", "%ff=%fe",
     "next=//evil.example", "next=/\\evil.example", "page=99999999999999999999", "page=-1"],
)  # fmt: skip
def test_invalid_bytes_in_the_query_string(app, make_world, query):
    world = make_world()
    p = world.params
    clients = login_clients(app, world)
    for path in ("/", "/events/", "/events/past", "/account/login", "/account/signup", "/writeups/",
                 f"/events/{p['slug']}/questions/{p['question_id']}", "/moderation/",
                 f"/comments/{p['comment_id']}/reply"):  # fmt: skip
        for actor in ("anonymous", "organiser"):
            response = clients[actor].get(path, query_string=query)
            check_response(response, f"{actor} {path}?{query!r}")
            # Redirects stay on this site (the login page may carry the address as ?next=).
            assert urlsplit(response.headers.get("Location", "")).netloc in ("", "localhost")
