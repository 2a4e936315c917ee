"""Mail pages: the unsubscribe link in notification emails (RFC 8058 one-click)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from eventmgr.extensions import csrf, db
from eventmgr.mail import unsubscribe as subscriptions
from eventmgr.web.forms import EmptyForm

bp = Blueprint("mail", __name__)


@bp.route("/mail/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    """GET: a page with a button (link scanners only GET); POST: turn that kind of email off.

    Exempt from the site-wide CSRF check because mail clients send RFC 8058's one-click POST
    (body `List-Unsubscribe=One-Click`) without a token; the signed token in the URL is what
    authorises it. The page's own button still carries, and is checked for, a CSRF token.
    """
    try:
        subscription = subscriptions.read_token(token)
    except subscriptions.InvalidToken:
        abort(400, "This unsubscribe link is not valid. Please copy the whole link from the email, "
                   "or change your email settings on your account page.")  # fmt: skip
    user = subscriptions.get_user(subscription)
    if user is None:
        abort(404, "The account this unsubscribe link was made for no longer exists.")

    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        if not one_click and not EmptyForm().validate_on_submit():
            abort(400)
        subscriptions.unsubscribe(user, subscription.kind)
        db.session.commit()
        if one_click:
            return render_template("mail/pages/unsubscribed.html", subscription=subscription)
        flash(f"You will no longer receive emails about {subscription.description}.", "success")
        return redirect(url_for("mail.unsubscribe", token=token))

    return render_template(
        "mail/pages/unsubscribe.html",
        form=EmptyForm(),
        subscription=subscription,
        user=user,
        subscribed=subscriptions.is_subscribed(user, subscription.kind),
    )
