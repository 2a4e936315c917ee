"""Fixtures for the calendar tests: links on a public BASE_URL, and parsing what comes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import icalendar
import pytest
from flask import Flask

BASE_URL = "https://events.example.org"


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app with absolute links on BASE_URL."""
    return make_app(BASE_URL=BASE_URL)


def parse_calendar(response: Any) -> icalendar.Calendar:
    """The response body as a calendar, after checking it is served as one."""
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.get_data())


def vevents_by_uid(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    """The calendar's VEVENTs keyed by UID."""
    return {str(vevent["UID"]): vevent for vevent in calendar.walk("VEVENT")}
