"""Forms for writing a write-up and for guests' replies."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from eventmgr.discussions.forms import comment_body_field
from eventmgr.discussions.service import GUEST_EMAIL_MAX_LENGTH, GUEST_NAME_MAX_LENGTH
from eventmgr.web.forms import SingleLine, clean_line, clean_text
from eventmgr.writeups.service import BODY_MAX_LENGTH as WRITEUP_MAX_LENGTH
from eventmgr.writeups.service import SLUG_MAX_LENGTH, TITLE_MAX_LENGTH


class WriteUpForm(FlaskForm):
    """Title, address and Markdown body; the buttons say save, preview or publish."""

    title = StringField(
        "Title",
        validators=[
            DataRequired("Give the write-up a title."),
            Length(max=TITLE_MAX_LENGTH, message=f"Use at most {TITLE_MAX_LENGTH} characters."),
            SingleLine(),
        ],
        filters=[clean_line],
    )
    slug = StringField(
        "Address",
        validators=[
            Length(max=SLUG_MAX_LENGTH, message=f"Use at most {SLUG_MAX_LENGTH} characters.")
        ],
        filters=[clean_line],
        description="The end of /writeups/…; left blank, it is made from the title.",
    )
    body = TextAreaField(
        "Report",
        validators=[
            DataRequired("Write the report before saving it."),
            Length(
                max=WRITEUP_MAX_LENGTH, message=f"Use at most {WRITEUP_MAX_LENGTH:,} characters."
            ),
        ],
        filters=[clean_text],
        description="Markdown: # for a heading, > for a quote, - for a list, **bold**, *italic*.",
        render_kw={"rows": 24},
    )


class GuestReplyForm(FlaskForm):
    """A guest's comment or reply: name, email (never shown), the comment (the members' comment box,
    see comment_body_field), and two traps for bots."""

    name = StringField(
        "Your name",
        validators=[
            DataRequired("Give your name."),
            Length(
                max=GUEST_NAME_MAX_LENGTH,
                message=f"Use at most {GUEST_NAME_MAX_LENGTH} characters.",
            ),
            SingleLine(),
        ],
        filters=[clean_line],
        render_kw={"autocomplete": "name"},
    )
    email = StringField(
        "Your email",
        validators=[
            DataRequired("Give your email address."),
            Length(max=GUEST_EMAIL_MAX_LENGTH, message="That email address is too long."),
            Email("Give an email address such as name@example.org.", check_deliverability=False),
        ],
        filters=[clean_line],
        description="Never shown publicly. The first time, we email it a link to confirm it is yours.",
        render_kw={"autocomplete": "email", "type": "email"},
    )
    body = comment_body_field()
    #: The honeypot: hidden from people by CSS and from assistive technology; bots fill it in.
    website = StringField("Leave this field empty", filters=[clean_line])
    #: When the form was shown, signed (see service.form_token).
    started = HiddenField()
