"""Forms for the registration buttons and the organisers' check-in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf

#: What the check-in buttons send: mark present, or undo it.
ATTENDANCE_VALUES = {"yes": True, "no": False}


class AttendanceForm(FlaskForm):
    """Check a member in, or undo it: an explicit value, so a repeated click changes nothing."""

    attended = HiddenField(validators=[AnyOf(list(ATTENDANCE_VALUES))])

    @property
    def value(self) -> bool:
        """The validated choice as a boolean."""
        return ATTENDANCE_VALUES[self.attended.data]
