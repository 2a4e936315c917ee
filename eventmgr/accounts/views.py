"""Account pages: sign up, log in and out, the member's own account, and the admin's user list."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME
from flask_wtf import FlaskForm

from eventmgr.accounts import service
from eventmgr.accounts.forms import (
    LoginForm,
    PasswordForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ProfileForm,
    ResendConfirmationForm,
    RoleForm,
    SignInLinkForm,
    SignInLinkRequestForm,
    SignOutSessionForm,
    SignupForm,
)
from eventmgr.accounts.models import User
from eventmgr.database import utcnow
from eventmgr.extensions import db, limiter
from eventmgr.web.errors import render_error
from eventmgr.web.numbers import MAX_PAGE, page_number, parse_number
from eventmgr.web.redirects import safe_next_url

bp = Blueprint("accounts", __name__, url_prefix="/account")


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to log in, and answer 403 to anyone who is not an admin."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _next_url(target: str | None) -> str:
    """Where to go after a form: `target` if it stays on this site, else the home page."""
    return safe_next_url(target) or url_for("events.home")


# Sessions ----------------------------------------------------------------------------------------
#
# Flask keeps the session in a signed cookie, which the server cannot revoke by itself. What makes a
# copied cookie worthless is the server-side row it names: each login is a UserSession, and the
# session and remember-me cookies carry its id and secret token (service.SessionIdentifier).
# Logging out deletes this device's row; a password change or reset deletes all of them (a change
# then starts a new one for this device). service.load_user() checks the row on every request:
# token, absolute lifetime (for remember-me cookies too) and idleness; `_seen_at` in the session
# measures idleness to the second without writing to the database on every request.

#: Session key of the last request's time (seconds since the epoch), for the idle limit.
SEEN_AT_KEY = "_seen_at"
#: What Flask-Login keeps in the session for a logged-in user; dropped when the session lapses.
LOGIN_KEYS = ("_user_id", "_fresh", "_id")


def _start_session(user: User, *, remember: bool) -> None:
    """Log `user` in on a fresh session, keeping nothing from the old one (no session fixation)."""
    session.clear()
    _log_in(user, remember=remember)


def _log_in(user: User, *, remember: bool) -> None:
    """Record a new device session for `user` (flushes; the caller commits), then keep it in this
    browser's session (and a remember-me cookie if asked), logged in as of now."""
    service.start_session(
        user,
        user_agent=request.user_agent.string,
        ip_address=request.remote_addr or "",
        remember=remember,
    )
    # Flask-Login stores user.get_id(), the new session's identifier; the remember-me cookie is
    # made from the same value after the request.
    login_user(user, remember=remember)
    session.permanent = True
    session[SEEN_AT_KEY] = int(utcnow().timestamp())


def _end_this_session() -> None:
    """Sign this browser out: delete its device session (commits) and clear both cookies."""
    if current_user.is_authenticated and current_user.current_session is not None:
        service.end_session(current_user.current_session)
        db.session.commit()
    # Clear first: logout_user() then marks a remember-me cookie for deletion in the new session.
    session.clear()
    logout_user()


@bp.before_app_request
def enforce_session_lifetimes() -> None:
    """Drop a login idle for longer than SESSION_IDLE_MINUTES or older than SESSION_ABSOLUTE_HOURS.

    Runs before Flask-Login loads the user, without touching the database (load_user() checks the
    device session's row as well). An idle login falls back on a remember-me cookie if the browser
    has one (that is what it is for); the absolute limit applies to both.
    """
    value = session.get("_user_id")
    if not value:
        return
    now = utcnow()
    identifier = service.parse_session_identifier(value)
    if identifier is not None and service.login_expired(identifier.login_at, now=now):
        session.clear()
        session["_remember"] = "clear"  # Flask-Login deletes the remember-me cookie too
        flash("Your session has expired. Please log in again.", "info")
        return
    seen_at = session.get(SEEN_AT_KEY)
    idle_limit = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    if isinstance(seen_at, int) and now - datetime.fromtimestamp(seen_at, UTC) > idle_limit:
        for key in LOGIN_KEYS:
            session.pop(key, None)
    session[SEEN_AT_KEY] = int(now.timestamp())


# Rate limits -------------------------------------------------------------------------------------


def _login_per_ip_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_PER_IP"]


def _login_failures_per_account_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_FAILURES_PER_ACCOUNT"]


def _address_digest(email: str) -> str:
    """An address as rate limits count it: normalised, then digested, so no address sits in Redis."""
    return hashlib.sha256(service.normalise_email(email).encode()).hexdigest()


def _account_key() -> str:
    """The rate-limit key of the account a form names."""
    return "account:" + _address_digest(request.form.get("email", ""))


#: Refusals of the limits below; each says how long to wait (see _wait_words).
SIGNUP_LIMITED_MESSAGE = (
    "Too many accounts have been created from your network recently. Please try again in {wait}."
)
CONFIRMATION_LIMITED_MESSAGE = (
    "We have sent several confirmation links to this address recently. Check your inbox (and "
    "spam folder) for the latest one, or ask again in {wait}."
)
SIGN_IN_LINK_LIMITED_MESSAGE = (
    "Several sign-in links have been asked for this address recently. Check your inbox (and spam "
    "folder) for the latest one, or ask again in {wait}."
)


def _count(setting: str, scope: str, key: str) -> int:
    """Count one use of the limit a RATELIMIT_* setting names, for `key`; 0 if allowed, else the
    seconds to wait (see AppLimiter.count)."""
    return limiter.count(current_app.config[setting], scope, key)


def _wait_words(seconds: int) -> str:
    """A wait in whole minutes, rounded up, as words: "1 minute", "12 minutes"."""
    minutes = max(-(-seconds // 60), 1)
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def _limited(template: str, form: FlaskForm, message: str, wait: int, **context: Any):
    """The form again, as sent, with `message` beside its email field: a 429 with Retry-After."""
    form.email.errors.append(message.format(wait=_wait_words(wait)))
    response = make_response(render_template(template, form=form, **context), 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _count_confirmation_email(email: str) -> int:
    """Count a confirmation email to `email` against RATELIMIT_CONFIRMATION_PER_RECIPIENT."""
    return _count("RATELIMIT_CONFIRMATION_PER_RECIPIENT", "confirmation", _address_digest(email))


def _account_locked(limit: RequestLimit) -> Any:
    """The log-in page when the failures limit of the address typed holds: the form (address kept)
    with the way in that does not need the password, a one-time sign-in link, put first."""
    form = LoginForm()
    return make_response(render_template("accounts/login.html", form=form, locked=True), 429)


def _login_failed(response: Any) -> bool:
    """Count an attempt against the account only when the password check failed."""
    return bool(g.get("login_failed"))


def _show_error(form: FlaskForm, error: service.AccountError) -> None:
    """Put the service's message beside the field it names, or flash it when it names none."""
    if error.field and error.field in form:
        form[error.field].errors.append(str(error))
    else:
        flash(str(error), "error")


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> ResponseReturnValue:
    """Create an account and log straight into it."""
    if current_user.is_authenticated:
        return redirect(_next_url(request.args.get("next")))
    form = SignupForm()
    if not form.is_submitted():
        form.next.data = safe_next_url(request.args.get("next")) or ""
    if form.validate_on_submit():
        wait = _count("RATELIMIT_SIGNUP_PER_IP", "signup", request.remote_addr or "")
        if wait:
            return _limited("accounts/signup.html", form, SIGNUP_LIMITED_MESSAGE, wait)
        try:
            user = service.sign_up(
                email=form.email.data,
                display_name=form.display_name.data,
                organisation=form.organisation.data,
                password=form.password.data,
            )
        except service.AccountError as error:
            _show_error(form, error)
        else:
            wait = _count_confirmation_email(user.email)
            if wait:
                db.session.rollback()
                return _limited("accounts/signup.html", form, CONFIRMATION_LIMITED_MESSAGE, wait)
            _start_session(user, remember=False)
            db.session.commit()
            flash(
                f"Welcome, {user.display_name}. Your account is ready. We have emailed you a link "
                "to confirm your address; follow it to join the discussions.",
                "success",
            )
            return redirect(_next_url(form.next.data))
    return render_template("accounts/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_per_ip_limit, methods=["POST"])
@limiter.limit(
    _login_failures_per_account_limit,
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_login_failed,
    on_breach=_account_locked,
)
def login() -> ResponseReturnValue:
    """Log in with email and password, then go back to the local `next` page if one was given."""
    if current_user.is_authenticated:
        return redirect(_next_url(request.args.get("next")))
    form = LoginForm()
    if not form.is_submitted():
        form.next.data = safe_next_url(request.args.get("next")) or ""
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is None:
            g.login_failed = True
            form.password.errors.append(service.LOGIN_FAILED_MESSAGE)
        else:
            _start_session(user, remember=form.remember.data)
            # The device session, and a hash that authenticate() upgraded to the current cost.
            db.session.commit()
            flash(f"Welcome back, {user.display_name}.", "success")
            return redirect(_next_url(form.next.data))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End this device's session; POST only (and CSRF-checked) so no other site can log anyone out.

    Deleting the device session makes a copy of this browser's cookies useless afterwards; the
    member's other devices stay signed in.
    """
    _end_this_session()
    flash("You have logged out.", "info")
    return redirect(url_for("events.home"))


def _render_account(profile_form: ProfileForm, password_form: PasswordForm) -> str:
    user = current_user._get_current_object()
    return render_template(
        "accounts/account.html",
        profile_form=profile_form,
        password_form=password_form,
        sessions=service.signed_in_sessions(user),
        this_session=user.current_session,
    )


@bp.route("/", methods=["GET", "POST"])
@login_required
def account() -> ResponseReturnValue:
    """The member's own profile and notification settings (and the password form)."""
    user = current_user._get_current_object()
    profile_form = ProfileForm(obj=user, prefix="profile")
    if profile_form.validate_on_submit():
        try:
            service.update_profile(
                user,
                display_name=profile_form.display_name.data,
                organisation=profile_form.organisation.data,
                bio=profile_form.bio.data,
                notify_replies=profile_form.notify_replies.data,
                notify_event_updates=profile_form.notify_event_updates.data,
            )
        except service.AccountError as error:
            _show_error(profile_form, error)
        else:
            db.session.commit()
            flash("Your profile has been saved.", "success")
            return redirect(url_for("accounts.account"))
    return _render_account(profile_form, PasswordForm(formdata=None, prefix="password"))


@bp.post("/password")
@login_required
def change_password() -> ResponseReturnValue:
    """Change the password, signing out every other device while keeping this one signed in."""
    user = current_user._get_current_object()
    password_form = PasswordForm(prefix="password")
    if password_form.validate_on_submit():
        try:
            service.change_password(
                user,
                current_password=password_form.current_password.data,
                new_password=password_form.new_password.data,
            )
        except service.AccountError as error:
            _show_error(password_form, error)
        else:
            # Every device session ended, this one too: start a new one (a new id and token, so
            # nothing from before the change stays valid), with a new remember-me cookie if this
            # browser had one. One commit for both, so the change never stands without it.
            cookie_name = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
            _log_in(user, remember=cookie_name in request.cookies)
            db.session.commit()
            flash("Your password has been changed. Other devices have been logged out.", "success")
            return redirect(url_for("accounts.account"))
    profile_form = ProfileForm(formdata=None, obj=user, prefix="profile")
    return _render_account(profile_form, password_form)


#: The answer for a session that is not, or no longer, one of the member's.
ALREADY_SIGNED_OUT_MESSAGE = "That session is already signed out."


@bp.post("/sessions/<int:session_id>/sign-out")
@login_required
def sign_out_session(session_id: int) -> ResponseReturnValue:
    """Sign one of the member's devices out.

    A session that is not (or no longer) one of theirs gets one answer, whoever's it was: most often
    it is the second of two clicks, and the first one signed it out.
    """
    user = current_user._get_current_object()
    if not SignOutSessionForm().validate_on_submit():
        abort(400)
    user_session = service.get_own_session(user, session_id)
    if user_session is not None and user_session is user.current_session:
        return logout()
    browser = user_session.browser if user_session is not None else ""
    if user_session is not None and service.end_session(user_session):
        db.session.commit()
        flash(f"Signed out the session on {browser}.", "success")
    else:
        flash(ALREADY_SIGNED_OUT_MESSAGE, "info")
    return redirect(url_for("accounts.account"))


@bp.post("/sessions/sign-out-others")
@login_required
def sign_out_other_sessions() -> ResponseReturnValue:
    """Sign the member out of every device but this one."""
    user = current_user._get_current_object()
    if not SignOutSessionForm().validate_on_submit():
        abort(400)
    ended = service.end_all_sessions(user, keep=user.current_session)
    db.session.commit()
    if ended:
        noun = "session" if ended == 1 else "sessions"
        flash(f"Signed out {ended} other {noun}. This device stays signed in.", "success")
    else:
        flash("You were not signed in anywhere else.", "info")
    return redirect(url_for("accounts.account"))


# Password reset and email confirmation -----------------------------------------------------------

RESET_REQUESTED_MESSAGE = (
    "If an account uses that address, we have emailed it a link to choose a new password. "
    "The link works once, within {minutes} minutes."
)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_login_per_ip_limit, methods=["POST"])
def request_password_reset() -> ResponseReturnValue:
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data)
        db.session.commit()
        minutes = service.password_reset_valid_minutes()
        flash(RESET_REQUESTED_MESSAGE.format(minutes=minutes), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password from an emailed link; then log in with it."""
    user = service.user_for_password_reset(token)
    if user is None:
        flash("This password reset link has expired or has already been used. Ask for a new one.",
              "error")  # fmt: skip
        return redirect(url_for("accounts.request_password_reset"))
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            service.reset_password(user, form.password.data, token=token)
        except service.AccountError as error:
            _show_error(form, error)
        else:
            # The link proved control of the address: log in, even while the log-in failures
            # limit holds for it (anyone can trip that by typing the address).
            _start_session(user, remember=False)
            db.session.commit()
            flash(
                "Your password has been changed and you are logged in. "
                "Other devices have been logged out.",
                "success",
            )
            return redirect(url_for("events.home"))
    return render_template("accounts/reset_password.html", form=form, token=token)


@bp.get("/confirm/<token>")
def confirm_email(token: str) -> ResponseReturnValue:
    """Follow the link in the confirmation email: the address is confirmed."""
    user = service.confirm_email(token)
    if user is None:
        flash("This confirmation link has expired or is not valid. Log in and ask for a new one.",
              "error")  # fmt: skip
    else:
        db.session.commit()
        flash("Thank you: your email address is confirmed.", "success")
    return redirect(url_for("events.home"))


@bp.post("/confirm/resend")
@login_required
@limiter.limit(_login_per_ip_limit)
def resend_confirmation() -> ResponseReturnValue:
    """Send the confirmation link again to the member's address."""
    user = current_user._get_current_object()
    if not ResendConfirmationForm().validate_on_submit():
        abort(400)
    if user.email_confirmed:
        flash("Your email address is already confirmed.", "info")
    elif wait := _count_confirmation_email(user.email):
        response = make_response(
            render_error(429, CONFIRMATION_LIMITED_MESSAGE.format(wait=_wait_words(wait)))
        )
        response.headers["Retry-After"] = str(wait)
        return response
    else:
        service.send_confirmation_email(user)
        db.session.commit()
        flash(f"We have sent a new confirmation link to {user.email}.", "success")
    return redirect(safe_next_url(request.form.get("next")) or url_for("accounts.account"))


SIGN_IN_LINK_SENT_MESSAGE = (
    "If an account uses that address, we have emailed it a sign-in link. "
    "The link works once, within {minutes} minutes."
)
SIGN_IN_LINK_INVALID_MESSAGE = (
    "This sign-in link has expired or has already been used. Ask for a new one."
)


@bp.route("/login/link", methods=["GET", "POST"])
@limiter.limit(_login_per_ip_limit, methods=["POST"])
def request_sign_in_link() -> ResponseReturnValue:
    """Ask for a one-time sign-in link; the answer is the same whether or not the address has an
    account, and so is the per-recipient limit, which counts every request for an address."""
    if current_user.is_authenticated:
        return redirect(url_for("events.home"))
    form = SignInLinkRequestForm()
    if form.validate_on_submit():
        wait = _count(
            "RATELIMIT_SIGN_IN_LINK_PER_RECIPIENT", "sign-in-link", _address_digest(form.email.data)
        )
        if wait:
            return _limited(
                "accounts/sign_in_link_request.html", form, SIGN_IN_LINK_LIMITED_MESSAGE, wait
            )
        service.request_sign_in_link(form.email.data)
        db.session.commit()
        minutes = service.sign_in_link_valid_minutes()
        flash(SIGN_IN_LINK_SENT_MESSAGE.format(minutes=minutes), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/sign_in_link_request.html", form=form)


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def sign_in_link(token: str) -> ResponseReturnValue:
    """Follow an emailed sign-in link: a button (so that mail scanners opening the link spend
    nothing) that logs in on a new device session and spends the link."""
    if service.user_for_sign_in_link(token) is None:
        flash(SIGN_IN_LINK_INVALID_MESSAGE, "error")
        return redirect(url_for("accounts.request_sign_in_link"))
    form = SignInLinkForm()
    if form.validate_on_submit():
        user = service.use_sign_in_link(token)
        if user is None:
            flash(SIGN_IN_LINK_INVALID_MESSAGE, "error")
            return redirect(url_for("accounts.request_sign_in_link"))
        _start_session(user, remember=False)
        db.session.commit()
        flash(f"Welcome back, {user.display_name}.", "success")
        return redirect(url_for("events.home"))
    return render_template("accounts/sign_in_link.html", form=form, token=token)


def _role_form_prefix(user: User) -> str:
    """Each row's role form gets its own prefix, so field ids stay unique on the page."""
    return f"user-{user.id}"


@bp.get("/users")
@admin_required
def users() -> ResponseReturnValue:
    """Every user, newest first, each with a form to change their role (admins only)."""
    page = service.list_users(page=page_number())
    role_forms = {
        user.id: RoleForm(formdata=None, prefix=_role_form_prefix(user), role=user.role)
        for user in page.items
    }
    return render_template("accounts/users.html", page=page, role_forms=role_forms)


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id: int) -> ResponseReturnValue:
    """Give a user another role; refuses to demote the last admin."""
    # Access is checked before loading (unlike the house order) so that non-admins cannot probe
    # which user ids exist: the check does not depend on the user.
    user = db.get_or_404(User, user_id)
    form = RoleForm(prefix=_role_form_prefix(user))
    if not form.validate_on_submit():
        flash("Choose one of the roles listed.", "error")
    else:
        try:
            service.set_role(user, form.role.data)
        except service.AccountError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            article = "an" if user.role[0] in "aeiou" else "a"
            flash(f"{user.display_name} ({user.email}) is now {article} {user.role}.", "success")
    if not current_user.is_admin:
        # An admin who just gave up the role can no longer see the user list.
        return redirect(url_for("accounts.account"))
    # The page to return to; a nonsense ?page= just drops it (the change is already saved).
    page = parse_number(request.args.get("page", ""), maximum=MAX_PAGE)
    return redirect(url_for("accounts.users", page=page))
