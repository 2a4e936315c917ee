"""Registration pages: register and unregister, a member's meetings, the organisers' attendee list."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.blueprints import BlueprintSetupState
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from eventmgr.events import service as events_service
from eventmgr.events.models import Event
from eventmgr.extensions import db, login_manager
from eventmgr.registrations import export, service
from eventmgr.registrations.forms import AttendanceForm
from eventmgr.web.forms import EmptyForm

bp = Blueprint("registrations", __name__)


@bp.record_once
def connect_signals(state: BlueprintSetupState) -> None:
    """Capacity changes to meetings are checked (and fill seats) through the events signals."""
    service.connect_signals()


@bp.app_context_processor
def registration_helpers() -> dict[str, Any]:
    """`registration_panel(event)` for the meeting page (templates/registrations/_panel.html)."""
    return {"registration_panel": lambda event: service.panel_for(event, current_user)}


def organiser_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Anonymous visitors go to the login page; signed-in non-organisers get 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        # Before loading the meeting, so members cannot tell draft slugs from unknown ones.
        if not events_service.can_manage_events(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def require_post_form(form: FlaskForm | None = None) -> None:
    """Abort with 400 unless this POST carries a valid CSRF token (and valid fields)."""
    if not (form or EmptyForm()).validate_on_submit():
        abort(400)


def _log_in_to_register(event: Event) -> Response:
    """Send an anonymous visitor to log in, then back to the meeting page (not to this POST URL)."""
    flash("Please log in to register.", "info")
    return redirect(url_for("accounts.login", next=url_for("events.detail", slug=event.slug)))


# Members -----------------------------------------------------------------------------------------


@bp.post("/events/<slug>/register")
def register(slug: str) -> Response:
    """Register the current member for a meeting, or put them on its waiting list."""
    event = events_service.get_visible_event_or_404(slug, current_user)
    if not current_user.is_authenticated:
        return _log_in_to_register(event)
    require_post_form()
    try:
        registration = service.register_member(event, current_user._get_current_object())
    except service.RegistrationError as error:
        flash(str(error), "error")
    else:
        message = service.describe(registration)
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("events.detail", slug=slug))


@bp.post("/events/<slug>/unregister")
def unregister(slug: str) -> Response:
    """Cancel the current member's registration, or take them off the waiting list."""
    event = events_service.get_visible_event_or_404(slug, current_user)
    if not current_user.is_authenticated:
        return _log_in_to_register(event)
    require_post_form()
    try:
        registration = service.unregister_member(event, current_user._get_current_object())
    except service.RegistrationError as error:
        flash(str(error), "error")
    else:
        message = service.describe(registration)
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("events.detail", slug=slug))


@bp.get("/my/events")
@login_required
def my_events() -> str:
    """The member's registrations: upcoming meetings first, then past ones."""
    meetings = service.member_meetings(current_user._get_current_object())
    return render_template("registrations/my_events.html", meetings=meetings)


# Organisers --------------------------------------------------------------------------------------


@bp.get("/events/<slug>/attendees")
@organiser_required
def attendees(slug: str) -> str:
    """Who is coming, who is waiting and who cancelled, with check-in and remove buttons."""
    event = events_service.get_event_or_404(slug)
    return render_template(
        "registrations/attendees.html", event=event, roster=service.roster(event)
    )


@bp.get("/events/<slug>/attendees.csv")
@organiser_required
def attendees_csv(slug: str) -> Response:
    """The attendee list as a CSV download."""
    event = events_service.get_event_or_404(slug)
    body = export.attendees_csv(service.roster(event))
    return Response(
        body,
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{event.slug}-attendees.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/events/<slug>/attendees/<int:registration_id>/attendance")
@organiser_required
def set_attendance(slug: str, registration_id: int) -> Response:
    """Check a member in at the door, or undo it."""
    event = events_service.get_event_or_404(slug)
    registration = service.get_registration_or_404(event, registration_id)
    form = AttendanceForm()
    require_post_form(form)
    try:
        service.set_attendance(registration, attended=form.value)
    except service.RegistrationError as error:
        flash(str(error), "error")
    else:
        name = registration.user.display_name
        db.session.commit()
        flash(f"{name} is {'checked in' if form.value else 'no longer checked in'}.", "success")
    return redirect(
        url_for("registrations.attendees", slug=slug, _anchor=f"registration-{registration_id}")
    )


@bp.post("/events/<slug>/attendees/<int:registration_id>/remove")
@organiser_required
def remove(slug: str, registration_id: int) -> Response:
    """Cancel a member's registration for them; a freed seat goes to the waiting list."""
    event = events_service.get_event_or_404(slug)
    registration = service.get_registration_or_404(event, registration_id)
    require_post_form()
    try:
        promoted = service.remove_registration(registration)
    except service.RegistrationError as error:
        flash(str(error), "error")
    else:
        names = [other.user.display_name for other in promoted]
        message = f"Removed the registration of {registration.user.display_name}."
        if names:
            message += f" {', '.join(names)} now {'has' if len(names) == 1 else 'have'} a place."
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("registrations.attendees", slug=slug))
