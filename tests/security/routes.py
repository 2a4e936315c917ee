"""Turning the app's URL rules into concrete URLs that point at the security tests' world."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

PLACEHOLDER = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
#: Which world parameter a URL variable takes, where the names differ.
ALIASES = {"comment_id": "comment_id"}


def fill(rule: str, params: dict[str, Any]) -> str:
    """`rule` with each variable replaced by the world's value (the first option of any(...))."""

    def value(match: re.Match[str]) -> str:
        if match["converter"] == "any":
            return match["args"].split(",")[0].strip()
        return str(params[ALIASES.get(match["name"], match["name"])])

    return PLACEHOLDER.sub(value, rule)


def routes(app: Flask) -> list[tuple[str, frozenset[str]]]:
    """Every rule of the app with its methods (without HEAD and OPTIONS), sorted by rule."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        found.setdefault(rule.rule, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    return sorted((rule, frozenset(methods)) for rule, methods in found.items())
