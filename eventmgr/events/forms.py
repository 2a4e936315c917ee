"""Forms for meetings, speakers and key questions."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from eventmgr.events.models import DiscussionPolicy, Event
from eventmgr.events.service import EventDetails, is_safe_online_url
from eventmgr.web.forms import SingleLine, clean_line, clean_text
from eventmgr.web.times import (
    LocalTimeError,
    common_timezones,
    is_valid_timezone,
    local_input_value,
    to_utc,
)

#: Years a meeting's times may fall in: wide enough for the archive, narrow enough that converting
#: between zones never leaves the range datetime can represent.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100
#: A generous ceiling that still fits the database's integer column.
MAX_CAPACITY = 100_000

DISCUSSION_POLICY_CHOICES = [
    SelectChoice(DiscussionPolicy.ATTENDEES.value, "Registered attendees"),
    SelectChoice(DiscussionPolicy.MEMBERS.value, "All signed-in members"),
    SelectChoice(DiscussionPolicy.CLOSED.value, "Nobody: discussions closed"),
]


@cache
def timezone_choices() -> tuple[str, ...]:
    """The zone names offered in the time zone select (computed once per process)."""
    return tuple(common_timezones())


class LocalDateTimeField(DateTimeLocalField):
    """A datetime-local input read as a naive wall-clock time; blank means no value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])
        kwargs.setdefault(
            "invalid_value_message", "Enter a date and time, for example 2015-09-23 18:00."
        )
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        """Parse the input; an empty input is no value rather than a format error."""
        if valuelist and not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


class EventForm(FlaskForm):
    """A meeting's details, with times entered in the meeting's own time zone."""

    title = StringField(
        "Title",
        validators=[DataRequired("Enter a title."), Length(max=200), SingleLine()],
        filters=[clean_line],
    )
    #: A sentence or two (500 characters at most): a short box, where the description gets a tall one.
    summary = TextAreaField(
        "Summary", validators=[Length(max=500)], filters=[clean_line], render_kw={"rows": 3}
    )
    description = TextAreaField(
        "Description",
        validators=[Length(max=50_000)],
        filters=[clean_text],
        render_kw={"rows": 12},
    )
    starts_at = LocalDateTimeField(
        "Starts", validators=[InputRequired("Enter the date and time the meeting starts.")]
    )
    ends_at = LocalDateTimeField(
        "Ends", validators=[InputRequired("Enter the date and time the meeting ends.")]
    )
    timezone = SelectField(
        "Time zone",
        default=lambda: current_app.config["APP_TIMEZONE"],
        validate_choice=False,
        filters=[clean_line],
    )
    venue_name = StringField(
        "Venue", validators=[Length(max=200), SingleLine()], filters=[clean_line]
    )
    venue_address = TextAreaField(
        "Venue address", validators=[Length(max=1000)], filters=[clean_line]
    )
    online_url = URLField(
        "Online link", validators=[Length(max=500), SingleLine()], filters=[clean_line]
    )
    capacity = IntegerField(
        "Capacity",
        validators=[Optional()],
        invalid_value_message="Enter a whole number, or leave blank for unlimited.",
    )
    registration_opens_at = LocalDateTimeField("Registration opens", validators=[Optional()])
    registration_closes_at = LocalDateTimeField("Registration closes", validators=[Optional()])
    discussion_policy = SelectField(
        "Who may join the discussions",
        choices=DISCUSSION_POLICY_CHOICES,
        default=DiscussionPolicy.ATTENDEES.value,
        validate_choice=True,
        invalid_choice_message="Choose who may join the discussions.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Fill the time zone choices once the submitted or stored value is known."""
        super().__init__(*args, **kwargs)
        choices = list(timezone_choices())
        # Keep a zone that is not in the list (an existing meeting's, or what was typed) visible.
        if self.timezone.data and self.timezone.data not in choices:
            choices.insert(0, self.timezone.data)
        self.timezone.choices = choices

    def validate_timezone(self, field: SelectField) -> None:
        """Only zones this machine knows; the select can be bypassed."""
        if not is_valid_timezone(field.data or ""):
            raise ValidationError("Choose a time zone from the list.")

    def validate_starts_at(self, field: LocalDateTimeField) -> None:
        """The start must exist on the zone's clock."""
        self._check_local_time(field)

    def validate_ends_at(self, field: LocalDateTimeField) -> None:
        """The end must exist on the zone's clock and come after the start."""
        self._check_local_time(field)
        starts, ends = self.utc(self.starts_at), self.utc(field)
        if starts is not None and ends is not None and ends <= starts:
            raise ValidationError("The meeting must end after it starts.")

    def validate_capacity(self, field: IntegerField) -> None:
        """Blank, or a whole number from 0 to MAX_CAPACITY."""
        if field.data is not None and field.data < 0:
            raise ValidationError("Capacity cannot be negative.")
        if field.data is not None and field.data > MAX_CAPACITY:
            raise ValidationError(f"Capacity can be at most {MAX_CAPACITY:,}.")

    def validate_online_url(self, field: URLField) -> None:
        """Blank, or an http(s) address: never javascript: or other schemes."""
        if field.data and not is_safe_online_url(field.data):
            raise ValidationError("Enter a web address starting with https:// or http://.")

    def validate_registration_opens_at(self, field: LocalDateTimeField) -> None:
        """The opening time must exist on the zone's clock."""
        self._check_local_time(field)

    def validate_registration_closes_at(self, field: LocalDateTimeField) -> None:
        """The closing time must exist on the zone's clock and come after the opening."""
        self._check_local_time(field)
        opens, closes = self.utc(self.registration_opens_at), self.utc(field)
        if opens is not None and closes is not None and closes <= opens:
            raise ValidationError("Registration must close after it opens.")

    def _check_local_time(self, field: LocalDateTimeField) -> None:
        """Field error unless the wall-clock time exists in the chosen zone."""
        local = field.data
        if local is None:
            return
        if not EARLIEST_YEAR <= local.year <= LATEST_YEAR:
            raise ValidationError(f"Enter a date between {EARLIEST_YEAR} and {LATEST_YEAR}.")
        if is_valid_timezone(self.timezone.data or ""):
            try:
                to_utc(local, self.timezone.data)
            except LocalTimeError as error:
                raise ValidationError(str(error)) from error

    def utc(self, field: LocalDateTimeField) -> datetime | None:
        """The field's time in UTC, or None when it is blank or cannot be converted."""
        local = field.data
        if local is None or not EARLIEST_YEAR <= local.year <= LATEST_YEAR:
            return None
        if not is_valid_timezone(self.timezone.data or ""):
            return None
        try:
            return to_utc(local, self.timezone.data)
        except LocalTimeError:
            return None

    def details(self) -> EventDetails:
        """The validated input as the service takes it, times in UTC."""
        return EventDetails(
            title=self.title.data,
            summary=self.summary.data or "",
            description=self.description.data or "",
            starts_at=self.utc(self.starts_at),
            ends_at=self.utc(self.ends_at),
            timezone=self.timezone.data,
            venue_name=self.venue_name.data or "",
            venue_address=self.venue_address.data or "",
            online_url=self.online_url.data or "",
            capacity=self.capacity.data,
            registration_opens_at=self.utc(self.registration_opens_at),
            registration_closes_at=self.utc(self.registration_closes_at),
            discussion_policy=self.discussion_policy.data,
        )


def event_form_data(event: Event) -> dict[str, Any]:
    """A meeting's stored values as the edit form shows them: times on the meeting's wall clock."""
    zone = event.timezone
    return {
        "title": event.title,
        "summary": event.summary,
        "description": event.description,
        "starts_at": local_input_value(event.starts_at, zone),
        "ends_at": local_input_value(event.ends_at, zone),
        "timezone": zone,
        "venue_name": event.venue_name,
        "venue_address": event.venue_address,
        "online_url": event.online_url,
        "capacity": event.capacity,
        "registration_opens_at": local_input_value(event.registration_opens_at, zone),
        "registration_closes_at": local_input_value(event.registration_closes_at, zone),
        "discussion_policy": event.discussion_policy,
    }


class SpeakerForm(FlaskForm):
    """A speaker in the programme."""

    name = StringField(
        "Name",
        validators=[DataRequired("Enter the speaker's name."), Length(max=200), SingleLine()],
        filters=[clean_line],
    )  # fmt: skip
    affiliation = StringField(
        "Affiliation", validators=[Length(max=200), SingleLine()], filters=[clean_line]
    )
    talk_title = StringField(
        "Talk title", validators=[Length(max=300), SingleLine()], filters=[clean_line]
    )
    bio = TextAreaField("Short bio", validators=[Length(max=5000)], filters=[clean_text])

    def values(self) -> dict[str, str]:
        """The validated input as keyword arguments for the speaker services."""
        return {
            "name": self.name.data,
            "affiliation": self.affiliation.data or "",
            "talk_title": self.talk_title.data or "",
            "bio": self.bio.data or "",
        }


class QuestionForm(FlaskForm):
    """A key question the meeting discusses."""

    title = StringField(
        "Question",
        validators=[DataRequired("Enter the question."), Length(max=300), SingleLine()],
        filters=[clean_line],
    )  # fmt: skip
    body = TextAreaField("More detail", validators=[Length(max=5000)], filters=[clean_text])

    def values(self) -> dict[str, str]:
        """The validated input as keyword arguments for the question services."""
        return {"title": self.title.data, "body": self.body.data or ""}
