"""Calendar files: one meeting's .ics and the subscribable feed of all public meetings."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from eventmgr.calendars import ics, links, service

bp = Blueprint("calendars", __name__)
bp.add_app_template_global(links.calendar_links, "calendar_links")

#: Calendar apps poll subscriptions; let proxies and clients reuse an answer for a few minutes.
FEED_MAX_AGE = 15 * 60


@bp.get("/events/<slug>.ics")
def event_calendar(slug: str) -> Response:
    """One published or cancelled meeting as an .ics download; 404 for drafts and unknown slugs."""
    entry = service.entry_or_404(slug)
    response = Response(ics.build_calendar([entry]), content_type=ics.CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{entry.slug}.ics"'
    return response


@bp.get("/events.ics")
def feed() -> Response:
    """Every published meeting (cancelled ones marked so), for calendar apps to subscribe to."""
    name = current_app.config["SITE_NAME"]
    response = Response(
        ics.build_calendar(service.feed_entries(), name=f"{name} meetings"),
        content_type=ics.CONTENT_TYPE,
    )
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE
    return response
