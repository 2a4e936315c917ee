"""Helpers for the events tests: form data and reading the HTML a response returns."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup


def meeting_form(**overrides: str) -> dict[str, str]:
    """What an organiser submits for Connecting Knowledge Communities, with `overrides`."""
    data = {
        "title": "Connecting Knowledge Communities",
        "summary": "What do KM and IM professionals need from communities and networks?",
        "description": "Speakers from **five** networks, then discussion.",
        "starts_at": "2015-09-23T18:00",
        "ends_at": "2015-09-23T20:30",
        "timezone": "Europe/London",
        "venue_name": "Conway Hall",
        "venue_address": "25 Red Lion Square\nLondon WC1R 4RL",
        "online_url": "",
        "capacity": "60",
        "registration_opens_at": "",
        "registration_closes_at": "",
        "discussion_policy": "attendees",
    }
    data.update(overrides)
    return data


def soup(response: Any) -> BeautifulSoup:
    """The response's HTML, parsed the way a browser would."""
    return BeautifulSoup(response.get_data(as_text=True), "html5lib")


def field_error(response: Any, name: str) -> str:
    """The error text shown beside form field `name`, or '' when there is none."""
    element = soup(response).find(id=f"{name}-error")
    return element.get_text(" ", strip=True) if element else ""


def field_value(response: Any, name: str) -> str | None:
    """What form field `name` shows: an input's value, a textarea's text, a select's choice."""
    element = soup(response).find(attrs={"name": name})
    if element is None:
        return None
    if element.name == "textarea":
        return element.get_text()
    if element.name == "select":
        selected = element.find("option", selected=True)
        return selected["value"] if selected else None
    return element.get("value", "")


def assert_headings_in_order(response: Any) -> None:
    """Exactly one h1, and no heading level skipped on the way down."""
    headings = soup(response).find_all(["h1", "h2", "h3", "h4", "h5", "h6"])
    levels = [int(heading.name[1]) for heading in headings]
    assert levels.count(1) == 1, levels
    assert levels[0] == 1, levels
    for previous, current in zip(levels, levels[1:], strict=False):
        assert current <= previous + 1, levels
