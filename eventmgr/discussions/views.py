"""Discussion pages: threads, comment actions (reply, edit, delete, report, hide) and moderation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, NoReturn

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from eventmgr.discussions import service
from eventmgr.discussions.forms import CommentForm, ModerationForm, ReportForm
from eventmgr.discussions.models import Comment
from eventmgr.extensions import db, login_manager
from eventmgr.web.forms import EmptyForm
from eventmgr.web.numbers import page_number

bp = Blueprint("discussions", __name__)


@dataclass(frozen=True)
class Viewer:
    """What the comment templates need to know about the person looking."""

    user_id: int | None
    signed_in: bool
    moderator: bool
    may_post: bool
    #: Where comment addresses start ("/comments"); templates append "/<id>/reply" and so on.
    comments_path: str


def viewer_for(*, may_post: bool = False) -> Viewer:
    """The current user as the comment templates see them."""
    signed_in = service.is_signed_in(current_user)
    # Built once per page: a thread can show hundreds of comments with several links each.
    comments_path = url_for("discussions.comment", comment_id=0).removesuffix("/0")
    return Viewer(
        user_id=current_user.id if signed_in else None,
        signed_in=signed_in,
        moderator=service.can_moderate(current_user),
        may_post=may_post,
        comments_path=comments_path,
    )


def moderator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Anonymous visitors go to the login page; signed-in members who cannot moderate get 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        """Check who is asking, then run the view."""
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        # Checked before anything is loaded: members must not learn which comments exist.
        if not service.can_moderate(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def refuse(error: service.DiscussionError, *, done_url: str | None = None) -> NoReturn:
    """Answer 403 for NotAllowed and 400 for other refusals, showing the service's message.

    A change someone made already (AlreadyDone: a double click, another moderator) is no error:
    the person is told so on `done_url`, where the change would have taken them.
    """
    if isinstance(error, service.AlreadyDone) and done_url is not None:
        flash(str(error), "info")
        abort(redirect(done_url))
    abort(403 if isinstance(error, service.NotAllowed) else 400, str(error))


def check(rule: Callable[..., None], *args: Any, done_url: str | None = None) -> None:
    """Run one of the service's check_can_* rules, refusing the request if it raises."""
    try:
        rule(*args)
    except service.DiscussionError as error:
        refuse(error, done_url=done_url)


def show_error(
    form: FlaskForm, error: service.DiscussionError, *, done_url: str | None = None
) -> None:
    """Put the message beside the field it names; refuse the request when it names none."""
    if error.field and error.field in form:
        form[error.field].errors.append(str(error))
    else:
        refuse(error, done_url=done_url)


def form_status(form: FlaskForm) -> int:
    """400 when a submitted form is shown again with errors, else 200."""
    return 400 if form.errors else 200


def thread_url(topic: service.Topic, **values: Any) -> str:
    """The address of the topic's thread page (a write-up's replies are on the write-up's page)."""
    if topic.writeup is not None:
        return url_for("writeups.detail", slug=topic.writeup.slug, **values)
    if topic.question is not None:
        return url_for(
            "discussions.question_thread",
            slug=topic.event.slug,
            question_id=topic.question.id,
            **values,
        )
    return url_for("discussions.follow_up", slug=topic.event.slug, **values)


def discussion_url(slug: str, question_id: int | None = None, **values: Any) -> str:
    """A thread's address from a meeting slug and optional question id (for list templates)."""
    if question_id is not None:
        return url_for("discussions.question_thread", slug=slug, question_id=question_id, **values)
    return url_for("discussions.follow_up", slug=slug, **values)


def shown_once(error: service.RepeatedComment) -> ResponseReturnValue:
    """The same comment sent twice: nothing is added; show the one already posted."""
    flash(str(error), "info")
    return redirect(comment_location(error.comment))


def comment_location(comment: Comment) -> str:
    """Where a comment is shown: its thread's page (oldest first) with the comment's anchor."""
    page = service.page_of(comment, current_user)
    return thread_url(service.topic_of(comment.thread), page=page, _anchor=f"comment-{comment.id}")


@bp.record_once
def register_template_globals(state: Any) -> None:
    """The meeting and home pages include discussion lists without the events domain knowing."""
    state.app.jinja_env.globals.update(
        discussion_overview=service.discussion_overview,
        recent_discussions=service.recent_discussions,
        discussion_url=discussion_url,
        discussed_question_ids=service.discussed_question_ids,
    )


@bp.record_once
def connect_signals(state: Any) -> None:
    """Deleting a key question members discussed is refused through the events signals."""
    service.connect_signals()


# Threads -----------------------------------------------------------------------------------------


@bp.route("/events/<slug>/questions/<int:question_id>", methods=["GET", "POST"])
def question_thread(slug: str, question_id: int) -> ResponseReturnValue:
    """A key question's discussion; POST adds a comment to it."""
    return show_thread(service.get_topic_or_404(slug, current_user, question_id=question_id))


@bp.route("/events/<slug>/discussion", methods=["GET", "POST"])
def follow_up(slug: str) -> ResponseReturnValue:
    """The meeting's general follow-up discussion; POST adds a comment to it."""
    return show_thread(service.get_topic_or_404(slug, current_user))


def show_thread(topic: service.Topic) -> ResponseReturnValue:
    """The thread page for `topic`, and posting a comment (or, with `parent`, a reply) to it."""
    thread = service.find_thread(topic)
    refusal = service.posting_refusal(topic, thread, current_user)
    form = CommentForm()
    if request.method == "POST":
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if refusal:
            abort(403, refusal)
        if form.validate_on_submit():
            parent = None
            if form.parent.data:
                parent_id = form.parent_comment_id()
                parent = service.get_comment(parent_id) if parent_id is not None else None
                if parent is None:
                    # The same words as for a comment elsewhere or unseen: ids reveal nothing.
                    abort(400, service.PARENT_UNAVAILABLE_MESSAGE)
            try:
                comment = service.add_comment(
                    topic, current_user._get_current_object(), form.body.data, parent=parent
                )
            except service.RepeatedComment as error:
                return shown_once(error)
            except service.DiscussionError as error:
                show_error(form, error)
            else:
                db.session.commit()
                flash("Your comment has been posted.", "success")
                return redirect(comment_location(comment))

    page = page_number()
    thread_page = service.thread_page(
        thread, viewer=current_user, page=page, sort=request.args.get("sort", "")
    )
    if page > max(thread_page.pages, 1):
        abort(404)
    return render_template(
        "discussions/thread.html",
        topic=topic,
        event=topic.event,
        thread=thread,
        thread_page=thread_page,
        form=form,
        refusal=refusal,
        login_needed=refusal == service.LOG_IN_MESSAGE,
        confirm_needed=refusal == service.CONFIRM_EMAIL_MESSAGE,
        retired_message=service.RETIRED_MESSAGE,
        viewer=viewer_for(may_post=refusal is None),
        lock_form=ModerationForm(formdata=None),
    ), form_status(form)


@bp.post("/events/<slug>/questions/<int:question_id>/<any(lock, unlock):change>")
@moderator_required
def lock_question_thread(slug: str, question_id: int, change: str) -> ResponseReturnValue:
    """Lock or unlock a key question's discussion."""
    topic = service.get_topic_or_404(slug, current_user, question_id=question_id)
    return change_lock(topic, locked=change == "lock")


@bp.post("/events/<slug>/discussion/<any(lock, unlock):change>")
@moderator_required
def lock_follow_up(slug: str, change: str) -> ResponseReturnValue:
    """Lock or unlock a meeting's follow-up discussion."""
    return change_lock(service.get_topic_or_404(slug, current_user), locked=change == "lock")


def change_lock(topic: service.Topic, *, locked: bool) -> ResponseReturnValue:
    """Lock or unlock the topic's thread with the moderator's reason, then show the thread."""
    form = ModerationForm()
    if not form.validate_on_submit():
        abort(400, "Keep the reason short (at most 1,000 characters).")
    try:
        service.set_locked(
            topic, current_user._get_current_object(), locked=locked, reason=form.reason.data
        )
    except service.DiscussionError as error:
        flash(str(error), "info" if isinstance(error, service.AlreadyDone) else "error")
    else:
        db.session.commit()
        flash("The discussion is locked." if locked else "The discussion is open again.", "success")
    return redirect(thread_url(topic))


# Comments ----------------------------------------------------------------------------------------


@bp.get("/comments/<int:comment_id>")
def comment(comment_id: int) -> ResponseReturnValue:
    """A comment's permalink: redirects to its place in its thread."""
    comment = service.get_comment_or_404(comment_id, current_user)
    if not service.is_displayed(comment, current_user):
        abort(404)
    return redirect(comment_location(comment))


@bp.route("/comments/<int:comment_id>/reply", methods=["GET", "POST"])
@login_required
def reply(comment_id: int) -> ResponseReturnValue:
    """A form to answer a comment (with ?quote=1, pre-filled with it as a quote); POST posts it."""
    parent = service.get_comment_or_404(comment_id, current_user)
    topic = service.topic_of(parent.thread)
    user = current_user._get_current_object()
    try:
        service.check_can_reply(topic, parent.thread, parent, user)
    except service.NotAllowed as error:
        if str(error) != service.CONFIRM_EMAIL_MESSAGE:
            refuse(error)
        # Not an error page: the member can lift this refusal, so offer the button that does.
        return render_template(
            "discussions/reply.html",
            topic=topic,
            event=topic.event,
            viewer=viewer_for(),
            parent=parent,
            form=None,
            confirm_needed=True,
            thread_link=thread_url(topic),
        ), 403
    except service.DiscussionError as error:
        refuse(error)
    form = CommentForm()
    if not form.is_submitted() and request.args.get("quote"):
        form.body.data = service.quoted(parent)
    if form.validate_on_submit():
        try:
            comment = service.add_comment(topic, user, form.body.data, parent=parent)
        except service.RepeatedComment as error:
            return shown_once(error)
        except service.DiscussionError as error:
            show_error(form, error)
        else:
            db.session.commit()
            flash("Your reply has been posted.", "success")
            return redirect(comment_location(comment))
    return render_template(
        "discussions/reply.html",
        topic=topic,
        event=topic.event,
        viewer=viewer_for(),
        parent=parent,
        form=form,
        thread_link=thread_url(topic),
    ), form_status(form)


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(comment_id: int) -> ResponseReturnValue:
    """The author changes the text of their comment."""
    comment = service.get_comment_or_404(comment_id, current_user)
    user = current_user._get_current_object()
    check(service.check_can_edit, comment, user)
    form = CommentForm(data={"body": comment.body})
    if form.validate_on_submit():
        try:
            service.edit_comment(comment, user, form.body.data)
        except service.DiscussionError as error:
            show_error(form, error)
        else:
            db.session.commit()
            flash("Your comment has been saved.", "success")
            return redirect(comment_location(comment))
    topic = service.topic_of(comment.thread)
    return render_template(
        "discussions/edit.html",
        topic=topic,
        event=topic.event,
        viewer=viewer_for(),
        comment=comment,
        form=form,
        thread_link=thread_url(topic),
    ), form_status(form)


@bp.route("/comments/<int:comment_id>/delete", methods=["GET", "POST"])
@login_required
def delete(comment_id: int) -> ResponseReturnValue:
    """Ask the author to confirm (GET), then delete their comment (POST)."""
    comment = service.get_comment_or_404(comment_id, current_user)
    user = current_user._get_current_object()
    topic = service.topic_of(comment.thread)
    check(service.check_can_delete, comment, user, done_url=thread_url(topic))
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            service.delete_comment(comment, user)
        except service.DiscussionError as error:
            refuse(error, done_url=thread_url(topic))
        db.session.commit()
        flash("Your comment has been deleted.", "success")
        return redirect(thread_url(topic))
    return render_template(
        "discussions/delete.html",
        topic=topic,
        event=topic.event,
        viewer=viewer_for(),
        comment=comment,
        form=form,
        thread_link=thread_url(topic),
    )


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
@login_required
def report(comment_id: int) -> ResponseReturnValue:
    """A member tells the moderators what is wrong with a comment."""
    comment = service.get_comment_or_404(comment_id, current_user)
    user = current_user._get_current_object()
    check(service.check_can_report, comment, user)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            service.report_comment(comment, user, form.reason.data)
        except service.DiscussionError as error:
            show_error(form, error, done_url=comment_location(comment))
        else:
            db.session.commit()
            flash("Thank you. The organisers will look at this comment.", "success")
            return redirect(comment_location(comment))
    topic = service.topic_of(comment.thread)
    return render_template(
        "discussions/report.html",
        topic=topic,
        event=topic.event,
        viewer=viewer_for(),
        comment=comment,
        form=form,
        thread_link=thread_url(topic),
    ), form_status(form)


@bp.route("/comments/<int:comment_id>/<any(hide, restore):change>", methods=["GET", "POST"])
@moderator_required
def moderate(comment_id: int, change: str) -> ResponseReturnValue:
    """A moderator hides a published comment, or restores a hidden one, giving a reason."""
    comment = service.get_comment_or_404(comment_id, current_user)
    user = current_user._get_current_object()
    hiding = change == "hide"
    rule = service.check_can_hide if hiding else service.check_can_restore
    check(rule, comment, user, done_url=comment_location(comment))
    form = ModerationForm()
    if form.validate_on_submit():
        try:
            if hiding:
                service.hide_comment(comment, user, form.reason.data)
            else:
                service.restore_comment(comment, user, form.reason.data)
        except service.DiscussionError as error:
            show_error(form, error, done_url=comment_location(comment))
        else:
            db.session.commit()
            flash("The comment is hidden." if hiding else "The comment is shown again.", "success")
            return redirect(comment_location(comment))
    topic = service.topic_of(comment.thread)
    return render_template(
        "discussions/moderate.html",
        topic=topic,
        event=topic.event,
        viewer=viewer_for(),
        comment=comment,
        form=form,
        hiding=hiding,
        thread_link=thread_url(topic),
    ), form_status(form)


@bp.post("/comments/<int:comment_id>/dismiss")
@moderator_required
def dismiss(comment_id: int) -> ResponseReturnValue:
    """A moderator closes a comment's reports, leaving it shown."""
    comment = service.get_comment_or_404(comment_id, current_user)
    form = ModerationForm()
    if not form.validate_on_submit():
        abort(400, "Keep the reason short (at most 1,000 characters).")
    try:
        service.dismiss_reports(comment, current_user._get_current_object(), form.reason.data)
    except service.DiscussionError as error:
        refuse(error, done_url=url_for("discussions.moderation"))
    db.session.commit()
    flash("The reports are dismissed; the comment stays.", "success")
    return redirect(url_for("discussions.moderation"))


# Moderation --------------------------------------------------------------------------------------


@bp.get("/moderation/")
@moderator_required
def moderation() -> ResponseReturnValue:
    """Open reports, oldest first, and the log of every moderation action."""
    log = service.moderation_log(page=page_number())
    return render_template(
        "discussions/moderation.html",
        viewer=viewer_for(),
        pending=service.pending_comments(),
        reported=service.open_reports(),
        log=log,
        dismiss_form=ModerationForm(formdata=None),
        thread_of=service.topic_of,
        thread_url=thread_url,
    )


@bp.post("/comments/<int:comment_id>/<any(approve, reject, spam):decision>")
@moderator_required
def decide(comment_id: int, decision: str) -> ResponseReturnValue:
    """A moderator approves a pending comment, rejects it, or marks it as spam."""
    comment = service.get_comment_or_404(comment_id, current_user)
    form = ModerationForm()
    if not form.validate_on_submit():
        abort(400, "Keep the reason short (at most 1,000 characters).")
    user = current_user._get_current_object()
    try:
        if decision == "approve":
            service.approve_comment(comment, user, form.reason.data)
        else:
            service.reject_comment(comment, user, form.reason.data, spam=decision == "spam")
    except service.DiscussionError as error:
        refuse(error, done_url=url_for("discussions.moderation"))
    db.session.commit()
    messages = {
        "approve": "The comment is published.",
        "reject": "The comment is rejected.",
        "spam": "The comment is marked as spam.",
    }
    flash(messages[decision], "success")
    return redirect(url_for("discussions.moderation"))
