"""Numbers a client sends (ids in URLs and hidden fields, page numbers), parsed one strict way.

Python's int() accepts far more than an id: "١٢٣" (Arabic-Indic digits), " 12 ", "1_000" and
numbers past any database column, which PostgreSQL then refuses with a 500. Everything here takes
ASCII digits only and bounds them, so an impossible number is simply "not found".
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, request
from werkzeug.routing import BaseConverter, ValidationError

#: The largest value of a PostgreSQL `integer` column (every primary key here): 2**31 - 1.
MAX_ID = 2_147_483_647
#: Beyond this a page number is nonsense; refusing it keeps huge OFFSETs away from the database.
MAX_PAGE = 10_000

_ASCII_NUMBER = re.compile(r"[0-9]{1,10}")
_SIGNED_NUMBER = re.compile(r"-?[0-9]+")


def parse_number(value: Any, *, maximum: int) -> int | None:
    """`value` as an int in 1..maximum when it is a string of ASCII digits, else None."""
    if not isinstance(value, str) or not _ASCII_NUMBER.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= maximum else None


def parse_id(value: Any) -> int | None:
    """A row id from a form or query value (ASCII digits, 1..MAX_ID), or None."""
    return parse_number(value.strip() if isinstance(value, str) else value, maximum=MAX_ID)


def page_number() -> int:
    """The ?page= argument: 1 when absent or not a number; 404 for a page that cannot exist."""
    value = request.args.get("page", "")
    if not _SIGNED_NUMBER.fullmatch(value):
        return 1
    page = parse_number(value, maximum=MAX_PAGE)
    if page is None:
        abort(404)
    return page


class IdConverter(BaseConverter):
    """`<int:name>` in every route: ASCII digits in 1..MAX_ID; anything else matches no route (404).

    Replaces Werkzeug's IntegerConverter app-wide, whose `\\d+` also matches non-ASCII digits and
    whose values are unbounded.
    """

    regex = r"[0-9]{1,10}"
    weight = 50

    def to_python(self, value: str) -> int:
        number = parse_number(value, maximum=MAX_ID)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))
