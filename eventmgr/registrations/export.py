"""The attendee list as a CSV file that spreadsheet programs open safely and read correctly."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from eventmgr.registrations.models import Registration
from eventmgr.registrations.service import Roster
from eventmgr.web.times import to_local

#: Excel reads a CSV file as UTF-8 only when it starts with the byte order mark.
BYTE_ORDER_MARK = "\ufeff"
#: A cell starting with one of these is a formula to a spreadsheet program (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = [
    "Status",
    "Waiting list position",
    "Name",
    "Email",
    "Organisation",
    "Registered",
    "Attended",
]


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, prefixed with a quote; other values as given."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _row(registration: Registration, position: int | None, zone: str) -> list[Any]:
    user = registration.user
    registered = to_local(registration.registered_at, zone)
    return [
        registration.status,
        position if position is not None else "",
        user.display_name,
        user.email,
        user.organisation,
        f"{registered:%Y-%m-%d %H:%M} {registered.tzname()}",
        "yes" if registration.attended else "",
    ]


def _rows(roster: Roster) -> Iterable[list[Any]]:
    zone = roster.event.timezone
    for registration in roster.confirmed:
        yield _row(registration, None, zone)
    for position, registration in enumerate(roster.waitlisted, start=1):
        yield _row(registration, position, zone)
    for registration in roster.cancelled:
        yield _row(registration, None, zone)


def attendees_csv(roster: Roster) -> bytes:
    """The roster as UTF-8 CSV with a byte order mark: confirmed, then waiting, then cancelled."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in _rows(roster):
        writer.writerow([safe_cell(value) for value in row])
    return (BYTE_ORDER_MARK + buffer.getvalue()).encode("utf-8")
