"""Meeting pages: the home page, lists, the programme page and the organisers' editing pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from eventmgr.events import service
from eventmgr.events.forms import (
    EventForm,
    QuestionForm,
    SpeakerForm,
    event_form_data,
)
from eventmgr.extensions import db, login_manager
from eventmgr.web.forms import EmptyForm
from eventmgr.web.numbers import page_number
from eventmgr.web.urls import external_url

bp = Blueprint("events", __name__)

#: How many upcoming meetings the home page shows.
HOME_EVENT_COUNT = 3
#: Move buttons send a direction; the service takes an offset.
MOVE_OFFSETS = {"up": -1, "down": 1}


def organiser_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Anonymous visitors go to the login page; signed-in non-organisers get 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        # Checked before the meeting is loaded: the answer does not depend on the meeting, and
        # members must not learn which draft slugs exist from a 403 versus a 404.
        if not service.can_manage_events(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def require_post_form() -> None:
    """Abort with 400 unless this POST carries a valid CSRF token."""
    if not EmptyForm().validate_on_submit():
        abort(400)


# Public pages ------------------------------------------------------------------------------------


@bp.get("/")
def home() -> str:
    """The next few meetings and a short introduction."""
    events = service.next_events(limit=HOME_EVENT_COUNT)
    return render_template("events/home.html", events=events)


@bp.get("/events/")
def upcoming() -> str:
    """Meetings that have not ended yet, soonest first; organisers also see the drafts."""
    page = service.upcoming_events(
        page=page_number(), per_page=current_app.config["EVENTS_PER_PAGE"]
    )
    show_drafts = page.page == 1 and service.can_manage_events(current_user)
    return render_template(
        "events/list.html",
        page=page,
        drafts=service.draft_events() if show_drafts else [],
        heading="Upcoming meetings",
        empty_message="No meetings are scheduled at the moment. Please check back soon.",
    )


@bp.get("/events/past")
def past() -> str:
    """Meetings that have ended, latest first."""
    page = service.past_events(page=page_number(), per_page=current_app.config["EVENTS_PER_PAGE"])
    return render_template(
        "events/list.html",
        page=page,
        drafts=[],
        heading="Past meetings",
        empty_message="There are no past meetings yet.",
    )


@bp.get("/events/<slug>")
def detail(slug: str) -> str:
    """A meeting's programme page; drafts only for organisers."""
    event = service.get_visible_event_or_404(slug, current_user)
    return render_template(
        "events/detail.html",
        event=event,
        structured_data=event_structured_data(event),
        can_manage=service.can_manage_events(current_user),
    )


def event_structured_data(event: Any) -> dict[str, Any]:
    """schema.org Event data for a meeting page's JSON-LD, description and canonical link."""
    return service.structured_data(
        event,
        url=external_url("events.detail", slug=event.slug),
        organiser_name=current_app.config["SITE_NAME"],
        organiser_url=external_url("events.home"),
    )


# Creating, editing and the life cycle ------------------------------------------------------------


@bp.route("/events/new", methods=["GET", "POST"])
@organiser_required
def create() -> str | Response:
    """Create a meeting as a draft."""
    form = EventForm()
    if form.validate_on_submit():
        try:
            event = service.create_event(
                form.details(), created_by=current_user._get_current_object()
            )
        except service.EventError as error:
            flash(str(error), "error")
        else:
            slug = event.slug
            db.session.commit()
            flash("Draft saved. Add speakers and key questions, then publish it.", "success")
            return redirect(url_for("events.detail", slug=slug))
    return render_template("events/form.html", form=form, event=None)


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@organiser_required
def edit(slug: str) -> str | Response:
    """Change a meeting's details; its address (slug) stays the same."""
    event = service.get_event_or_404(slug)
    form = EventForm(data=event_form_data(event))
    if form.validate_on_submit():
        try:
            service.update_event(event, form.details())
        except service.EventError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Meeting saved.", "success")
            return redirect(url_for("events.detail", slug=slug))
    return render_template("events/form.html", form=form, event=event)


@bp.post("/events/<slug>/publish")
@organiser_required
def publish(slug: str) -> Response:
    """Make a draft public."""
    event = service.get_event_or_404(slug)
    require_post_form()
    try:
        service.publish_event(event)
    except service.EventError as error:
        flash(str(error), "info" if isinstance(error, service.AlreadyDone) else "error")
    else:
        db.session.commit()
        flash("The meeting is published.", "success")
    return redirect(url_for("events.detail", slug=slug))


@bp.route("/events/<slug>/cancel", methods=["GET", "POST"])
@organiser_required
def cancel(slug: str) -> str | Response:
    """Ask for confirmation (GET), then cancel a published meeting (POST)."""
    event = service.get_event_or_404(slug)
    if request.method == "GET":
        return render_template("events/cancel.html", event=event)
    require_post_form()
    try:
        service.cancel_event(event)
    except service.EventError as error:
        flash(str(error), "info" if isinstance(error, service.AlreadyDone) else "error")
    else:
        db.session.commit()
        flash("The meeting is cancelled. It stays listed, marked as cancelled.", "success")
    return redirect(url_for("events.detail", slug=slug))


# Speakers ----------------------------------------------------------------------------------------


@bp.route("/events/<slug>/speakers", methods=["GET", "POST"])
@organiser_required
def speakers(slug: str) -> str | Response:
    """The programme's speakers, with a form to add one."""
    event = service.get_event_or_404(slug)
    form = SpeakerForm()
    if form.validate_on_submit():
        try:
            service.add_speaker(event, **form.values())
        except service.EventError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"Added {form.name.data} to the programme.", "success")
            return redirect(url_for("events.speakers", slug=slug))
    return render_template("events/speakers.html", event=event, form=form)


@bp.route("/events/<slug>/speakers/<int:speaker_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_speaker(slug: str, speaker_id: int) -> str | Response:
    """Change a speaker's name, affiliation, talk or bio."""
    event = service.get_event_or_404(slug)
    speaker = service.get_speaker_or_404(event, speaker_id)
    form = SpeakerForm(obj=speaker)
    if form.validate_on_submit():
        try:
            service.update_speaker(speaker, **form.values())
        except service.EventError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Speaker saved.", "success")
            return redirect(url_for("events.speakers", slug=slug))
    return render_template("events/speaker_form.html", event=event, speaker=speaker, form=form)


@bp.post("/events/<slug>/speakers/<int:speaker_id>/move/<any(up, down):direction>")
@organiser_required
def move_speaker(slug: str, speaker_id: int, direction: str) -> Response:
    """Move a speaker one place earlier or later in the programme."""
    event = service.get_event_or_404(slug)
    speaker = service.get_speaker_or_404(event, speaker_id)
    require_post_form()
    service.move_speaker(speaker, offset=MOVE_OFFSETS[direction])
    db.session.commit()
    return redirect(url_for("events.speakers", slug=slug, _anchor=f"speaker-{speaker_id}"))


@bp.post("/events/<slug>/speakers/<int:speaker_id>/remove")
@organiser_required
def remove_speaker(slug: str, speaker_id: int) -> Response:
    """Take a speaker out of the programme."""
    event = service.get_event_or_404(slug)
    speaker = service.get_speaker_or_404(event, speaker_id)
    require_post_form()
    name = speaker.name
    service.remove_speaker(speaker)
    db.session.commit()
    flash(f"Removed {name} from the programme.", "success")
    return redirect(url_for("events.speakers", slug=slug))


# Key questions -----------------------------------------------------------------------------------


@bp.route("/events/<slug>/questions", methods=["GET", "POST"])
@organiser_required
def questions(slug: str) -> str | Response:
    """The meeting's key questions, with a form to add one."""
    event = service.get_event_or_404(slug)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            service.add_question(event, **form.values())
        except service.EventError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Key question added.", "success")
            return redirect(url_for("events.questions", slug=slug))
    return render_template("events/questions.html", event=event, form=form)


@bp.route("/events/<slug>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_question(slug: str, question_id: int) -> str | Response:
    """Change a key question's wording."""
    event = service.get_event_or_404(slug)
    question = service.get_question_or_404(event, question_id)
    form = QuestionForm(obj=question)
    if form.validate_on_submit():
        try:
            service.update_question(question, **form.values())
        except service.EventError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Key question saved.", "success")
            return redirect(url_for("events.questions", slug=slug))
    return render_template("events/question_form.html", event=event, question=question, form=form)


def act_on_question(
    slug: str, question_id: int, action: Callable[[Any], Any], *, done: str | None = None
) -> Response:
    """Load the meeting's question (404), check the form, apply `action` to it and commit, then go
    back to the list at the question; a refusal (EventError) is flashed and rolled back."""
    event = service.get_event_or_404(slug)
    question = service.get_question_or_404(event, question_id)
    require_post_form()
    try:
        action(question)
    except service.EventError as error:
        db.session.rollback()
        flash(str(error), "info" if isinstance(error, service.AlreadyDone) else "error")
    else:
        db.session.commit()
        if done:
            flash(done, "success")
    return redirect(url_for("events.questions", slug=slug, _anchor=f"question-{question_id}"))


@bp.post("/events/<slug>/questions/<int:question_id>/move/<any(up, down):direction>")
@organiser_required
def move_question(slug: str, question_id: int, direction: str) -> Response:
    """Move a key question one place earlier or later."""
    offset = MOVE_OFFSETS[direction]
    return act_on_question(slug, question_id, lambda q: service.move_question(q, offset=offset))


@bp.route("/events/<slug>/questions/<int:question_id>/remove", methods=["GET", "POST"])
@organiser_required
def remove_question(slug: str, question_id: int) -> str | Response:
    """Ask for confirmation (GET), then delete a key question nobody has discussed (POST); one
    that members discussed is refused, with the offer to retire it instead."""
    if request.method == "GET":
        event = service.get_event_or_404(slug)
        question = service.get_question_or_404(event, question_id)
        return render_template("events/question_remove.html", event=event, question=question)
    return act_on_question(slug, question_id, service.remove_question, done="Key question deleted.")


#: What retiring and bringing back do, and what the organiser is told afterwards.
QUESTION_CHANGES = {
    "retire": (
        service.retire_question,
        "The question is retired: it is off the programme and its discussion is read-only.",
    ),
    "restore": (
        service.restore_question,
        "The question is back on the programme and its discussion is open again.",
    ),
}


@bp.post("/events/<slug>/questions/<int:question_id>/<any(retire, restore):change>")
@organiser_required
def retire_question(slug: str, question_id: int, change: str) -> Response:
    """Retire a key question (off the programme, its discussion kept read-only) or bring it back."""
    action, done = QUESTION_CHANGES[change]
    return act_on_question(slug, question_id, action, done=done)
