"""Write-up pages: the list, each report with its replies, the feed, and the organisers' editor."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from eventmgr.database import utcnow
from eventmgr.discussions import service as discussions_service
from eventmgr.discussions.forms import CommentForm, ModerationForm
from eventmgr.discussions.views import (
    Viewer,
    change_lock,
    comment_location,
    moderator_required,
    shown_once,
    viewer_for,
)
from eventmgr.events import service as events_service
from eventmgr.events.views import organiser_required
from eventmgr.extensions import db
from eventmgr.web.forms import EmptyForm
from eventmgr.web.numbers import page_number
from eventmgr.writeups import feed, service
from eventmgr.writeups.forms import GuestReplyForm, WriteUpForm
from eventmgr.writeups.models import WriteUp

bp = Blueprint("writeups", __name__)

#: Where a guest's pending comment ids are remembered, so they see their own comment marked.
PENDING_KEY = "pending_comments"
AWAITING_MESSAGE = "Thank you. Your comment is awaiting moderation."


@bp.record_once
def register_template_globals(state: Any) -> None:
    """The meeting and home pages show write-ups without the events domain knowing about them."""
    state.app.jinja_env.globals.update(
        meeting_writeup=service.meeting_writeup,
        latest_writeups=service.latest_writeups,
        writeup_excerpt=service.excerpt,
        now_utc=utcnow,
    )


def show_errors(form: Any, error: ValueError) -> None:
    """Put a service's message beside its field, or in a flash when it names none."""
    field = getattr(error, "field", None)
    if field and field in form:
        form[field].errors = [*form[field].errors, str(error)]
    else:
        flash(str(error), "error")


# Reading -----------------------------------------------------------------------------------------


@bp.get("/writeups/")
def index() -> str:
    """Published write-ups, newest first, with an excerpt; organisers also see the drafts."""
    page = service.published_writeups(
        page=page_number(), per_page=current_app.config["WRITEUPS_PER_PAGE"]
    )
    show_drafts = page.page == 1 and service.can_author(current_user)
    return render_template(
        "writeups/index.html",
        page=page,
        drafts=service.draft_writeups() if show_drafts else [],
        can_author=service.can_author(current_user),
    )


@bp.get("/writeups.atom", endpoint="feed")
def feed_view() -> Response:
    """The Atom feed of the latest write-ups."""
    body = feed.build_feed(
        service.feed_writeups(), site_name=current_app.config["SITE_NAME"], now=utcnow()
    )
    return Response(body, mimetype="application/atom+xml")


@bp.route("/writeups/<slug>", methods=["GET", "POST"])
def detail(slug: str) -> ResponseReturnValue:
    """A write-up with its replies; POST adds a reply (members at once, guests after moderation)."""
    writeup = service.get_visible_or_404(slug, current_user)
    signed_in = discussions_service.is_signed_in(current_user)
    member_form, guest_form = CommentForm(), GuestReplyForm()
    status = 200
    if request.method == "POST":
        form = member_form if signed_in else guest_form
        result = post_reply(writeup, form, signed_in=signed_in)
        if not isinstance(result, int):
            return result
        status = result
    if not signed_in:
        fresh_guest_form(writeup, guest_form)
    topic = service.topic(writeup)
    thread = discussions_service.find_thread(topic)
    page = page_number()
    thread_page = discussions_service.thread_page(thread, viewer=current_user, page=page)
    if page > max(thread_page.pages, 1):
        abort(404)
    open_for_replies = writeup.is_published and not (thread and thread.locked)
    closed_message = (
        discussions_service.UNPUBLISHED_MESSAGE
        if not writeup.is_published
        else discussions_service.LOCKED_MESSAGE
    )
    refusal = None
    if signed_in:
        refusal = discussions_service.posting_refusal(topic, thread, current_user)
        viewer: Viewer = viewer_for(may_post=refusal is None)
    else:
        viewer = guest_viewer(writeup, may_post=open_for_replies)
    return render_template(
        "writeups/detail.html",
        writeup=writeup,
        topic=topic,
        thread=thread,
        thread_page=thread_page,
        viewer=viewer,
        member_form=member_form,
        guest_form=guest_form,
        signed_in=signed_in,
        open_for_replies=open_for_replies,
        closed_message=closed_message,
        confirm_needed=refusal == discussions_service.CONFIRM_EMAIL_MESSAGE,
        own_pending=[] if signed_in else service.own_pending(writeup, session.get(PENDING_KEY, [])),
        can_author=service.can_author(current_user),
        action_form=EmptyForm(formdata=None),
        lock_form=ModerationForm(formdata=None),
    ), status


@dataclass(frozen=True)
class GuestViewer(Viewer):
    """A guest on a write-up: their Reply links lead to the guest reply form of this write-up."""

    #: Where guests' reply addresses start; the comment templates append "/<id>/reply".
    reply_prefix: str = ""


def guest_viewer(writeup: WriteUp, *, may_post: bool) -> GuestViewer:
    """The visitor who is not logged in, as the comment templates see them on `writeup`'s page."""
    # Built once per page, as viewer_for builds comments_path: a page can hold hundreds of comments.
    prefix = url_for("writeups.guest_reply", slug=writeup.slug, comment_id=0)
    fields = {**asdict(viewer_for()), "may_post": may_post}
    return GuestViewer(**fields, reply_prefix=prefix.removesuffix("/0/reply"))


def fresh_guest_form(writeup: WriteUp, form: GuestReplyForm) -> None:
    """Start the fill-time clock again and empty the honeypot, whenever the form is shown."""
    form.started.data = service.form_token(writeup)
    form.website.data = ""


@bp.route("/writeups/<slug>/comments/<int:comment_id>/reply", methods=["GET", "POST"])
def guest_reply(slug: str, comment_id: int) -> ResponseReturnValue:
    """A guest's Leave a Reply form under one published comment (?quote=1 starts from a quote of
    it); POST posts the reply for moderation. Members are sent to their own reply form."""
    writeup = service.get_visible_or_404(slug, current_user)
    parent = service.reply_parent_or_404(writeup, comment_id)
    if discussions_service.is_signed_in(current_user):
        quote = {"quote": 1} if request.args.get("quote") else {}
        return redirect(url_for("discussions.reply", comment_id=parent.id, **quote))
    form = GuestReplyForm()
    status = 200
    if request.method == "POST":
        result = post_reply(writeup, form, signed_in=False, parent=parent)
        if not isinstance(result, int):
            return result
        status = result
    elif request.args.get("quote"):
        form.body.data = discussions_service.quoted(parent)
    fresh_guest_form(writeup, form)
    thread = parent.thread
    return render_template(
        "writeups/reply.html",
        writeup=writeup,
        parent=parent,
        form=form,
        viewer=viewer_for(),
        open_for_replies=writeup.is_published and not thread.locked,
        locked_message=discussions_service.LOCKED_MESSAGE,
    ), status


def post_reply(
    writeup: WriteUp, form: Any, *, signed_in: bool, parent: Any = None
) -> ResponseReturnValue | int:
    """Validate and post a reply (a guest's to `parent`, if given); a redirect on success, else the
    status to show the form with. A refusal rolls back, which also ends the write-up's lock."""
    if not form.validate_on_submit():
        return 400
    try:
        if signed_in:
            if form.parent.data:
                parent_id = form.parent_comment_id()
                parent = discussions_service.get_comment(parent_id) if parent_id else None
                if parent is None:
                    # Refused below exactly as a comment elsewhere or unseen is: ids reveal nothing.
                    raise discussions_service.DiscussionError(
                        discussions_service.PARENT_UNAVAILABLE_MESSAGE
                    )
            comment = service.add_member_reply(
                writeup, current_user._get_current_object(), form.body.data, parent=parent
            )
        else:
            comment = service.add_guest_reply(
                writeup,
                name=form.name.data,
                email=form.email.data,
                body=form.body.data,
                ip=request.remote_addr,
                honeypot=form.website.data or "",
                token=form.started.data,
                parent=parent,
                proven=discussions_service.proven_guests(
                    request.cookies.get(discussions_service.GUEST_PASS_COOKIE)
                ),
            )
    except discussions_service.RepeatedComment as error:
        db.session.rollback()
        return shown_once(error)
    except discussions_service.NotAllowed as error:
        db.session.rollback()
        if str(error) == discussions_service.CONFIRM_EMAIL_MESSAGE:
            # Not an error page: the page offers the member the link that lifts this refusal.
            return 403
        abort(403 if signed_in or writeup.is_published else 400, str(error))
    except (discussions_service.DiscussionError, service.WriteUpError) as error:
        db.session.rollback()
        show_errors(form, error)
        return 400
    db.session.commit()
    if comment.is_pending:
        session[PENDING_KEY] = [*session.get(PENDING_KEY, []), comment.id][-20:]
        flash(AWAITING_MESSAGE, "success")
        return redirect(
            url_for("writeups.detail", slug=writeup.slug, _anchor="comment-" + str(comment.id))
        )
    flash("Your comment has been posted.", "success")
    return redirect(comment_location(comment))


@bp.get("/writeups/guests/confirm/<token>")
def confirm_guest(token: str) -> ResponseReturnValue:
    """A guest followed the link emailed to them: their address is confirmed, and this browser
    gets a guest pass for it. Nothing is published by this; the page says what happens next."""
    address = discussions_service.confirm_guest(token)
    if address is None:
        return render_template("writeups/guest_confirmed.html", address=None), 400
    db.session.commit()
    response = make_response(render_template("writeups/guest_confirmed.html", address=address))
    cookie = request.cookies.get(discussions_service.GUEST_PASS_COOKIE)
    response.set_cookie(
        discussions_service.GUEST_PASS_COOKIE,
        discussions_service.guest_pass(address, cookie),
        max_age=discussions_service.GUEST_PASS_MAX_AGE,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


# Writing -----------------------------------------------------------------------------------------


@bp.route("/writeups/new", methods=["GET", "POST"])
@organiser_required
def create() -> ResponseReturnValue:
    """A new write-up; ?event=<slug> starts from the meeting's programme and discussions."""
    event = None
    if request.values.get("event"):
        event = events_service.get_event_or_404(request.values["event"])
        existing = service.writeup_for_event(event)
        if existing is not None:
            flash("This meeting already has a write-up; here it is.", "info")
            return redirect(url_for("writeups.edit", slug=existing.slug))
    form = WriteUpForm()
    if not form.is_submitted() and event is not None:
        form.title.data, form.body.data = service.draft_for(event)
    return editor(form, writeup=None, event=event)


@bp.route("/writeups/<slug>/edit", methods=["GET", "POST"])
@organiser_required
def edit(slug: str) -> ResponseReturnValue:
    """Change a write-up's title, address or text."""
    writeup = service.get_visible_or_404(slug, current_user)
    form = WriteUpForm(obj=writeup)
    return editor(form, writeup=writeup, event=writeup.event)


def editor(form: WriteUpForm, *, writeup: WriteUp | None, event: Any) -> ResponseReturnValue:
    """Save (as draft or, with "publish", publish) or preview; renders the form otherwise."""
    preview_html = None
    if form.validate_on_submit():
        action = request.form.get("action", "save")
        if action == "preview":
            preview_html = service.preview(form.body.data)
        else:
            try:
                if writeup is None:
                    writeup = service.create_writeup(
                        title=form.title.data,
                        slug=form.slug.data,
                        body=form.body.data,
                        author=current_user._get_current_object(),
                        event=event,
                    )
                else:
                    service.update_writeup(
                        writeup, title=form.title.data, slug=form.slug.data, body=form.body.data
                    )
                if action == "publish" and not writeup.is_published:
                    service.publish_writeup(writeup)
            except service.WriteUpError as error:
                db.session.rollback()
                show_errors(form, error)
            else:
                db.session.commit()
                flash(
                    "The write-up is published."
                    if writeup.is_published and action == "publish"
                    else "The write-up is saved.",
                    "success",
                )
                return redirect(url_for("writeups.detail", slug=writeup.slug))
    return render_template(
        "writeups/form.html",
        form=form,
        writeup=writeup,
        event=event,
        preview_html=preview_html,
    ), 400 if form.errors else 200


@bp.post("/writeups/<slug>/<any(lock, unlock):change>")
@moderator_required
def lock(slug: str, change: str) -> ResponseReturnValue:
    """Lock or unlock a write-up's replies (members' and guests'), with a reason for the log."""
    writeup = service.get_visible_or_404(slug, current_user)
    return change_lock(service.topic(writeup), locked=change == "lock")


@bp.post("/writeups/<slug>/<any(publish, unpublish):change>")
@organiser_required
def publish(slug: str, change: str) -> ResponseReturnValue:
    """Publish a draft (emailing attendees the first time) or take a write-up back to draft."""
    writeup = service.get_visible_or_404(slug, current_user)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        if change == "publish":
            service.publish_writeup(writeup)
        else:
            service.unpublish_writeup(writeup)
    except service.WriteUpError as error:
        flash(str(error), "info" if isinstance(error, service.AlreadyDone) else "error")
    else:
        db.session.commit()
        flash(
            "The write-up is published."
            if change == "publish"
            else "The write-up is a draft again.",
            "success",
        )
    return redirect(url_for("writeups.detail", slug=writeup.slug))
