"""Hostile input through every text field of every form and the query parameters of GET pages.

The Big List of Naughty Strings (tests/security/data/blns.json, MIT licence in data/LICENSE) and
a set of XSS vectors go through every text field (hidden ones included) of every form. The forms
and their fields are found by crawling every page as every actor (forms_crawl.py), and the test
fails when a form is not in CATALOGUE, so a new form cannot be left out. Each request carries one
string in each of the form's fields (a different one per field), so a form is attacked in as many
requests as there are strings. No 500s, nothing injected into the answers or the pages that show
what was saved (parsed as a browser would, with html5lib), and a refused form commits nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select

from tests.conftest import DEFAULT_PASSWORD
from tests.events.helpers import meeting_form
from tests.security.conftest import login_clients
from tests.security.forms_crawl import crawl_forms
from tests.security.routes import fill

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


#: Per form (its URL rule): the actor who may use it, valid data, world parameters that differ from
#: the rule's variable names, and extra text fields a client may send that no page shows.
#: The text fields themselves come from crawling the pages (tests/security/forms_crawl.py), so a
#: field added to a template is attacked without anyone listing it here.
CATALOGUE: dict[str, dict[str, Any]] = {
    "/account/signup": {"actor": "anonymous", "valid": {
        "email": "new@example.org", "display_name": "New", "password": "long enough pass 1",
        "confirm_password": "long enough pass 1"}},
    "/account/login": {"actor": "anonymous", "valid": {"email": "x@example.org", "password": "p"}},
    "/account/reset": {"actor": "anonymous", "valid": {"email": "x@example.org"}},
    "/account/login/link": {"actor": "anonymous", "valid": {"email": "x@example.org"}},
    "/account/reset/<token>": {"actor": "anonymous", "params": {"token": "reset_token"},
                               "valid": {"password": "long enough pass 1",
                                         "confirm_password": "long enough pass 1"},
                               "extra": ["password", "confirm_password"]},
    "/account/": {"actor": "member", "valid": {"profile-display_name": "Plain Member"}},
    "/account/password": {"actor": "member", "valid": {
        "password-current_password": DEFAULT_PASSWORD, "password-new_password": "a new long pass 2",
        "password-confirm_password": "a new long pass 2"}},
    "/events/new": {"actor": "organiser", "valid": meeting_form()},
    "/events/<slug>/edit": {"actor": "organiser", "valid": meeting_form()},
    "/events/<slug>/speakers": {"actor": "organiser", "valid": {"name": "Sue"}},
    "/events/<slug>/speakers/<int:speaker_id>/edit": {"actor": "organiser", "valid": {"name": "Sue"}},
    "/events/<slug>/questions": {"actor": "organiser", "valid": {"title": "Why?"}},
    "/events/<slug>/questions/<int:question_id>/edit": {"actor": "organiser",
                                                        "valid": {"title": "Why?"}},
    "/events/<slug>/attendees/<int:registration_id>/attendance": {"actor": "organiser",
                                                                  "valid": {"attended": "y"}},
    "/events/<slug>/questions/<int:question_id>": {"actor": "attendee", "valid": {"body": "ok"}},
    "/events/<slug>/discussion": {"actor": "attendee", "valid": {"body": "ok"}},
    "/events/<slug>/questions/<int:question_id>/<any(lock, unlock):change>": {
        "actor": "organiser", "valid": {"reason": "calm down"}},
    "/events/<slug>/discussion/<any(lock, unlock):change>": {"actor": "organiser",
                                                             "valid": {"reason": "calm down"}},
    "/comments/<int:comment_id>/reply": {"actor": "attendee", "valid": {"body": "ok"}},
    "/comments/<int:comment_id>/edit": {"actor": "attendee", "valid": {"body": "ok"}},
    "/comments/<int:comment_id>/report": {"actor": "other", "valid": {"reason": "spam"}},
    "/comments/<int:comment_id>/<any(hide, restore):change>": {"actor": "organiser",
                                                               "valid": {"reason": "rude"}},
    "/comments/<int:comment_id>/dismiss": {"actor": "organiser", "valid": {"reason": "fine"},
                                           "extra": ["reason"]},
    "/comments/<int:comment_id>/<any(approve, reject, spam):decision>": {
        "actor": "organiser", "params": {"comment_id": "guest_pending"}, "valid": {"reason": ""},
        "extra": ["reason"]},
    "/writeups/<slug>/<any(lock, unlock):change>": {
        "actor": "organiser", "params": {"slug": "writeup_slug"}, "valid": {"reason": "calm down"}},
    "/writeups/new": {"actor": "organiser", "valid": {"title": "T", "slug": "t-one", "body": "b"}},
    "/writeups/<slug>/edit": {"actor": "organiser", "params": {"slug": "writeup_slug"},
                              "valid": {"title": "T", "slug": "what-we-learnt", "body": "b"}},
    "/writeups/<slug>": {"actor": "anonymous", "params": {"slug": "writeup_slug"},
                         "valid": {"name": "Gus", "email": "gus@example.org", "body": "hi"}},
    "/writeups/<slug>/comments/<int:comment_id>/reply": {
        "actor": "anonymous", "params": {"slug": "writeup_slug", "comment_id": "writeup_comment"},
        "valid": {"name": "Gus", "email": "gus@example.org", "body": "hi"},
        "extra": ["name", "email", "body", "website", "started"]},
}  # fmt: skip
#: Pages that show what the forms saved, checked for injected markup after each form's run.
SHOWN_ON = {
    "/account/": ["/account/"],
    "/events/new": ["/events/"],
    "/events/<slug>/edit": ["/events/{slug}", "/events.ics"],
    "/events/<slug>/speakers": ["/events/{slug}"],
    "/events/<slug>/speakers/<int:speaker_id>/edit": ["/events/{slug}"],
    "/events/<slug>/questions": ["/events/{slug}"],
    "/events/<slug>/questions/<int:question_id>/edit": ["/events/{slug}"],
    "/events/<slug>/questions/<int:question_id>": ["{thread}"],
    "/events/<slug>/discussion": ["/events/{slug}/discussion"],
    "/comments/<int:comment_id>/reply": ["{thread}"],
    "/comments/<int:comment_id>/edit": ["{thread}"],
    "/comments/<int:comment_id>/report": ["/moderation/"],
    "/comments/<int:comment_id>/<any(hide, restore):change>": ["/moderation/", "{thread}"],
    "/writeups/new": ["/writeups/"],
    "/writeups/<slug>/edit": ["/writeups/{writeup_slug}", "/writeups.atom"],
    "/writeups/<slug>": ["/writeups/{writeup_slug}", "/moderation/"],
}
#: Every string each text field gets: the Big List of Naughty Strings, then the XSS vectors.
STRINGS = BLNS + XSS
#: Marks that must be present in a page for an XSS vector to have got through unescaped: a page
#: without any of them is not parsed (html5lib is slow), one with any is parsed in full.
DANGER_MARKS = ("<script>alert", "onerror=", "onload=", "<iframe", "javascript:",
                "<svg", "<style>", "style=\"background", "data:text", "vbscript:")  # fmt: skip


def check_response(response: Any, where: str) -> None:
    """No 500, and no injected markup in an HTML answer."""
    assert response.status_code < 500, f"{where}: {response.status_code}"
    if "html" in response.content_type:
        html = response.get_data(as_text=True)
        if any(mark in html for mark in DANGER_MARKS):
            assert not injected(html), where


def world_params(app, world) -> dict[str, Any]:
    """The world's parameters, plus a reset token and a published comment on the write-up."""
    from eventmgr.accounts import service as accounts
    from eventmgr.accounts.models import User
    from eventmgr.discussions import service as discussions
    from eventmgr.extensions import db
    from eventmgr.writeups import service as writeups
    from eventmgr.writeups.models import WriteUp

    with app.app_context():
        member = db.session.get(User, world.users["member"].id)
        writeup = db.session.scalar(
            select(WriteUp).where(WriteUp.slug == world.params["writeup_slug"])
        )
        comment = discussions.add_comment(writeups.topic(writeup), member, "A member's reply.")
        db.session.commit()
        extra = {
            "reset_token": accounts.password_reset_token(member),
            "writeup_comment": comment.id,
        }
    p = {**world.params, **extra}
    return {**p, "thread": f"/events/{p['slug']}/questions/{p['question_id']}"}


class CommittedWrites:
    """INSERT, UPDATE and DELETE statements committed while watching: a refused request must
    commit none (cheaper than comparing every table's rows after each of thousands of requests)."""

    def __init__(self, engine) -> None:
        self.engine, self.pending, self.committed = engine, [], []

    def executed(self, connection, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.pending.append(statement)

    def commit(self, connection) -> None:
        self.committed += self.pending
        self.pending = []

    def rollback(self, connection) -> None:
        self.pending = []

    def __enter__(self) -> CommittedWrites:
        sqlalchemy_event.listen(self.engine, "after_cursor_execute", self.executed)
        sqlalchemy_event.listen(self.engine, "commit", self.commit)
        sqlalchemy_event.listen(self.engine, "rollback", self.rollback)
        return self

    def __exit__(self, *exc: object) -> None:
        sqlalchemy_event.remove(self.engine, "after_cursor_execute", self.executed)
        sqlalchemy_event.remove(self.engine, "commit", self.commit)
        sqlalchemy_event.remove(self.engine, "rollback", self.rollback)

    def take(self) -> list[str]:
        """The statements committed since the last call."""
        taken, self.committed = self.committed, []
        return taken


def form_url(rule: str, params: dict[str, Any]) -> str:
    """The form's address in this world."""
    remap = CATALOGUE[rule].get("params", {})
    return fill(rule, {**params, **{name: params[other] for name, other in remap.items()}})


#: Requests per form that carry the whole list packed: each field gets ~1/PACKED_REQUESTS of the
#: strings joined by spaces in each request (a meeting form takes 0.25 s to render on a loaded
#: machine, so one request per string would be minutes per form).
PACKED_REQUESTS = 16
#: Statements a refused request may commit: the device session's "last seen" time.
HARMLESS_WRITES = ("UPDATE user_sessions SET last_seen_at",)


def batches(strings: list[str], count: int) -> list[str]:
    """`strings` in `count` (or fewer) groups, each joined by spaces."""
    size = -(-len(strings) // count)
    return [" ".join(strings[start : start + size]) for start in range(0, len(strings), size)]


def attack_form(app, clients, rule: str, fields: list[str], params: dict[str, Any],
                writes: CommittedWrites) -> int:  # fmt: skip
    """Send every string through every field of the form at `rule`, first packed (request n gives
    field k the batch (n + k) mod the number of batches), then each XSS vector alone (request n
    gives field k vector (n + k) mod their number), so a vector can also be saved and shown.
    Returns the number of requests."""
    entry = CATALOGUE[rule]
    url, valid = form_url(rule, params), entry["valid"]
    rounds = [batches(STRINGS, PACKED_REQUESTS), XSS]
    requests = 0
    for values in rounds:
        for number in range(len(values)):
            data = {**valid}
            for offset, field in enumerate(fields):
                data[field] = values[(number + offset) % len(values)]
            client = clients[entry["actor"]]
            if entry["actor"] == "anonymous":
                client = app.test_client()  # a fresh visitor: no log-in carried over from a success
            writes.take()
            response = client.post(url, data=data)
            requests += 1
            where = f"{rule} #{number} {sorted(data.items())[:3]!r:.200}"
            check_response(response, where)
            committed = [sql for sql in writes.take() if not sql.startswith(HARMLESS_WRITES)]
            if response.status_code != 302:
                assert not committed, f"{where}: a refused form committed {committed[:2]}"
    return requests


def crawl(app, world, params) -> dict[str, set[str]]:
    """The text fields of every form the pages show, by rule (see forms_crawl)."""
    from tests.security.test_authorisation_matrix import RULE_PARAMS

    return crawl_forms(app, login_clients(app, world), params, RULE_PARAMS)


def test_every_form_the_pages_show_is_in_the_catalogue(app, make_world):
    world = make_world()
    found = crawl(app, world, world_params(app, world))
    assert set(found) - set(CATALOGUE) == set(), "forms with no CATALOGUE entry"
    # The crawl must keep finding what it found when this was written (else it is broken).
    assert len(found) >= 23 and sum(map(len, found.values())) >= 70, found
    shown_nowhere = {rule for rule, entry in CATALOGUE.items() if "extra" not in entry} - set(found)
    assert shown_nowhere == set(), "catalogue forms the crawl no longer finds"


GROUPS = {
    "accounts": ["/account/signup", "/account/login", "/account/login/link", "/account/reset",
                 "/account/reset/<token>",
                 "/account/", "/account/password"],
    "meetings": ["/events/new", "/events/<slug>/edit", "/events/<slug>/speakers",
                 "/events/<slug>/speakers/<int:speaker_id>/edit", "/events/<slug>/questions",
                 "/events/<slug>/questions/<int:question_id>/edit",
                 "/events/<slug>/attendees/<int:registration_id>/attendance"],
    "discussions": ["/events/<slug>/questions/<int:question_id>", "/events/<slug>/discussion",
                    "/comments/<int:comment_id>/reply", "/comments/<int:comment_id>/edit",
                    "/comments/<int:comment_id>/report",
                    "/events/<slug>/questions/<int:question_id>/<any(lock, unlock):change>",
                    "/events/<slug>/discussion/<any(lock, unlock):change>"],
    "moderation": ["/comments/<int:comment_id>/dismiss",
                   "/comments/<int:comment_id>/<any(hide, restore):change>",
                   "/comments/<int:comment_id>/<any(approve, reject, spam):decision>"],
    "writeups": ["/writeups/new", "/writeups/<slug>/edit", "/writeups/<slug>",
                 "/writeups/<slug>/comments/<int:comment_id>/reply",
                 "/writeups/<slug>/<any(lock, unlock):change>"],
}  # fmt: skip


def test_the_groups_hold_every_catalogue_form_once():
    grouped = [rule for rules in GROUPS.values() for rule in rules]
    assert sorted(grouped) == sorted(CATALOGUE)


@pytest.mark.parametrize("group", GROUPS)
def test_every_string_through_every_text_field_of_every_form(app, make_world, group):
    world = make_world()
    params = world_params(app, world)
    found = crawl(app, world, params)
    clients = login_clients(app, world)
    pairs = requests = 0
    with app.app_context():
        engine = db_engine()
    with CommittedWrites(engine) as writes:
        for rule in GROUPS[group]:
            fields = sorted(found.get(rule, set()) | set(CATALOGUE[rule].get("extra", [])))
            assert fields, rule
            requests += attack_form(app, clients, rule, fields, params, writes)
            pairs += (len(STRINGS) + len(XSS)) * len(fields)
            for page in SHOWN_ON.get(rule, []):
                page = page.format(**params)
                for actor in ("organiser", "attendee", "anonymous"):
                    response = clients[actor].get(page)
                    assert response.status_code < 500, f"{rule} shown on {page} to {actor}"
                    if "html" in response.content_type:
                        assert not injected(response.get_data(as_text=True)), f"{rule} on {page}"
    print(f"\n{group}: {len(STRINGS)} strings (+{len(XSS)} XSS vectors alone) × "
          f"{pairs // (len(STRINGS) + len(XSS))} fields = {pairs} (string, field) pairs in "
          f"{requests} requests")  # fmt: skip


def db_engine():
    """The app's engine (inside an app context)."""
    from eventmgr.extensions import db

    return db.engine


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
