"""What the app's log records may say: database errors without the values PostgreSQL quotes.

The engine hides SQL parameters (`hide_parameters`), but PostgreSQL's own message for a refused row
quotes it in a DETAIL line: `Key (lower(email::text))=(ann@example.org) already exists.` or
`Failing row contains (7, ann@example.org, …).` Such an error reaches the log whenever a request
fails with it (the 500 handler, Flask's exception logging), so the app's logger rewrites those
values before any handler sees the record; the constraint's name and the SQLSTATE class stay.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

REDACTED = "…redacted…"

#: Where a DETAIL section ends: the next part of SQLAlchemy's message or of a traceback, or the end.
#: The values themselves may span lines (a comment's body does), so a line break is not the end.
_DETAIL_END = (
    r"(?=\n\[SQL: |\nHINT: |\nCONTEXT: |\n\(Background on this error|\n\nThe above exception"
    r"|\n\nDuring handling of the above exception|\Z)"
)
#: `Key (columns)=(values)`, keeping the columns and PostgreSQL's known endings (which name a table,
#: not values); anything else up to the end of the section, such as an exclusion conflict's key,
#: goes too.
KEY_VALUES = re.compile(
    r"(?P<head>\bKey \([^\n]*?\)=\().*?"
    r"(?P<tail>\) (?:already exists|is not present in table \"[^\"\n]*\""
    r"|is still referenced from table \"[^\"\n]*\")\.)?" + _DETAIL_END,
    re.DOTALL,
)
#: `Failing row contains (values).` from not-null and check constraint violations.
FAILING_ROW = re.compile(r"(?P<head>\bFailing row contains \().*?" + _DETAIL_END, re.DOTALL)


def redact_database_details(text: str) -> str:
    """`text` with the values of PostgreSQL's `Key (...)=(...)` and `Failing row contains (...)`
    details replaced by REDACTED; other text is returned unchanged."""
    if "Key (" not in text and "Failing row contains (" not in text:
        return text
    text = KEY_VALUES.sub(lambda m: m["head"] + REDACTED + (m["tail"] or ")"), text)
    return FAILING_ROW.sub(lambda m: m["head"] + REDACTED + ").", text)


class RedactDatabaseDetails(logging.Filter):
    """Rewrite a record's message and traceback so no database DETAIL values reach a handler.

    A traceback that needs it is formatted here, redacted, and kept as the record's `exc_text`
    (which every logging.Formatter prints) while `exc_info` is dropped, so no handler can format
    the original exception again. Records that need nothing keep their arguments and exc_info.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:
            # A broken log call (bad arguments) is for the handler to report, as it always was.
            return True
        redacted = redact_database_details(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and record.exc_info[1] is not None:
            traceback = record.exc_text or self._formatter.formatException(record.exc_info)
            redacted = redact_database_details(traceback)
            if redacted != traceback:
                record.exc_info, record.exc_text = None, redacted
        elif record.exc_text:
            record.exc_text = redact_database_details(record.exc_text)
        return True


#: One instance for every app, so building several apps in a process adds the filter once.
database_details_filter = RedactDatabaseDetails()


def init_app(app: Flask) -> None:
    """Install the filter on the app's logger, which the error handlers and Flask log through."""
    app.logger.addFilter(database_details_filter)
