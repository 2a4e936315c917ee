"""Helpers for the registrations tests: reading pages and filling in the meeting edit form."""

from __future__ import annotations

from typing import Any

from flask import Flask

from eventmgr.events.forms import event_form_data
from eventmgr.events.models import Event
from eventmgr.extensions import db
from tests.events.helpers import soup


def panel(response: Any) -> Any:
    """The registration panel of a meeting page."""
    element = soup(response).select_one(".registration-panel")
    assert element is not None
    return element


def panel_text(response: Any) -> str:
    """The panel's text, whitespace collapsed."""
    return panel(response).get_text(" ", strip=True)


def panel_buttons(response: Any) -> list[str]:
    """The labels of the panel's buttons (POST buttons and button-styled links)."""
    return [
        button.get_text(" ", strip=True) for button in panel(response).select("button, a.button")
    ]


def flashes(response: Any) -> list[str]:
    """The flash messages on a page."""
    return [flash.get_text(" ", strip=True) for flash in soup(response).select(".flashes .flash")]


def edit_form_for(app: Flask, event: Any, **overrides: Any) -> dict[str, str]:
    """What the edit form submits for the meeting unchanged, with `overrides`."""
    with app.app_context():
        data = event_form_data(db.session.get(Event, event.id))
    form = {}
    for name, value in data.items():
        if value is None:
            form[name] = ""
        elif hasattr(value, "strftime"):
            form[name] = value.strftime("%Y-%m-%dT%H:%M")
        else:
            form[name] = str(value)
    form.update({name: str(value) for name, value in overrides.items()})
    return form
