"""Forms for comments, reports and moderation."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from eventmgr.discussions.service import BODY_MAX_LENGTH, REASON_MAX_LENGTH
from eventmgr.web.forms import SingleLine, clean_line, clean_text
from eventmgr.web.numbers import parse_id

BODY_HINT = (
    "Markdown works: *italic*, **bold**, [a link](https://example.org), "
    "> for a quote, - for a list. Be kind; the organisers moderate."
)


def parent_id(value: Any) -> int | None:
    """The hidden parent field as a comment id, or None when blank or not an id (see parse_id)."""
    return parse_id(value)


def comment_body_field() -> Any:
    """The "Your comment" box with its validators and hint, shared by members' and guests' forms.

    A function rather than a base class: WTForms orders fields by when they were created, so each
    form that calls it keeps the body where it declares it (a guest's form asks for the name first).
    """
    return TextAreaField(
        "Your comment",
        validators=[
            DataRequired("Write something before posting."),
            Length(
                max=BODY_MAX_LENGTH,
                message=f"Comments can be at most {BODY_MAX_LENGTH:,} characters.",
            ),
        ],
        filters=[clean_text],
        description=BODY_HINT,
        render_kw={"rows": 6},
    )


class CommentForm(FlaskForm):
    """A new comment or reply, or the new text of one's own comment."""

    body = comment_body_field()
    #: The comment being answered, when a reply is posted to the thread's address.
    parent = HiddenField()

    def parent_comment_id(self) -> int | None:
        """The comment id in the hidden parent field, if any."""
        return parent_id(self.parent.data)


class ReportForm(FlaskForm):
    """Why a member thinks a comment should not be shown."""

    reason = TextAreaField(
        "What is wrong with this comment?",
        validators=[
            DataRequired("Say what is wrong with this comment."),
            Length(max=REASON_MAX_LENGTH, message=f"Use at most {REASON_MAX_LENGTH:,} characters."),
        ],
        filters=[clean_text],
        render_kw={"rows": 4},
    )


class ModerationForm(FlaskForm):
    """A moderator's reason, recorded in the moderation log."""

    reason = StringField(
        "Reason",
        validators=[
            Length(max=REASON_MAX_LENGTH, message=f"Use at most {REASON_MAX_LENGTH:,} characters."),
            SingleLine(),
        ],
        filters=[clean_line],
    )
