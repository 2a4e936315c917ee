"""Every form the app shows, found by crawling its pages as each actor: the form catalogue of
test_attack_inputs.py must cover each text field found here."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from tests.security.routes import fill, routes

#: Input types that carry free text a client controls (checkboxes, radios and selects do not).
TEXT_INPUTS = {"text", "email", "password", "url", "search", "tel", "hidden", "number", "date",
               "datetime-local", "time"}  # fmt: skip
#: Fields no form handler reads as text: Flask-WTF's token.
IGNORED_FIELDS = {"csrf_token"}
#: Pages not worth crawling for forms (feeds, files, health).
SKIPPED = re.compile(r"\.(ics|csv|atom)$|^/static/|^/healthz$")


def text_fields(html: str, base: str) -> list[tuple[str, str]]:
    """(action path, field name) for each text input and textarea of each POST form in `html`."""
    found = []
    for form in BeautifulSoup(html, "html.parser").find_all("form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        action = urlsplit(form.get("action") or base).path or base
        for field in form.find_all(["input", "textarea"]):
            name = field.get("name")
            kind = (field.get("type") or "text").lower() if field.name == "input" else "textarea"
            if name and name not in IGNORED_FIELDS and kind in (TEXT_INPUTS | {"textarea"}):
                found.append((action, name))
    return found


def as_rule(app, path: str) -> str:
    """The URL rule a form posting to `path` reaches, as the app's URL map matches it."""
    adapter = app.url_map.bind("localhost")
    rule, _ = adapter.match(path, method="POST", return_rule=True)
    return rule.rule


def crawl_forms(app, clients: dict[str, Any], params: dict[str, Any],
                rule_params: dict[str, dict[str, str]]) -> dict[str, set[str]]:  # fmt: skip
    """Rule → names of text fields, over every GET page as every actor in `clients`."""
    pages = [rule for rule, methods in routes(app) if "GET" in methods and not SKIPPED.search(rule)]
    found: dict[str, set[str]] = {}
    for rule in pages:
        remap = rule_params.get(rule, {})
        url = fill(rule, {**params, **{name: params[other] for name, other in remap.items()}})
        for client in clients.values():
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.content_type:
                continue
            for action, name in text_fields(response.get_data(as_text=True), url):
                found.setdefault(as_rule(app, action), set()).add(name)
    return found
