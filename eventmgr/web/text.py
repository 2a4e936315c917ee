"""The rule for single-line text (names, titles, subjects): no line breaks, no control characters.

Shared by the forms (eventmgr.web.forms.SingleLine) and the domain services, so a script or the CLI
cannot store what a form would refuse. A line break in a display name writes paragraphs of the
sender's choosing into emails; one in a meeting title makes every email of that meeting unbuildable;
bidirectional overrides and zero-width characters make a name read as something it is not.
"""

from __future__ import annotations

import unicodedata

#: Unicode categories refused on one line: controls (Cc: CR, LF, tab, NUL…), format characters
#: (Cf: bidirectional overrides, zero-width spaces, soft hyphens…), line and paragraph separators.
#: Ordinary spaces (Zs, the no-break space included) are allowed.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
#: Format characters allowed all the same: the zero-width non-joiner and joiner, which Persian,
#: Hindi and other scripts need to spell names, and emoji sequences use. They cannot break a line
#: or reorder text.
ALLOWED_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"})
_RULE = "use one line of text, without line breaks or invisible control characters"
SINGLE_LINE_MESSAGE = f"{_RULE[0].upper()}{_RULE[1:]}."


def refused_character(value: str) -> str | None:
    """The first character of `value` single-line text may not hold, or None."""
    for character in value:
        if character in ALLOWED_FORMAT_CHARACTERS:
            continue
        if unicodedata.category(character) in REFUSED_CATEGORIES:
            return character
    return None


def single_line_problem(value: str | None, label: str | None = None) -> str | None:
    """SINGLE_LINE_MESSAGE (after "<label>: " when given) if `value` holds a line break or a
    control or format character; None if it is one line of text."""
    if not value or refused_character(value) is None:
        return None
    return f"{label}: {_RULE}." if label else SINGLE_LINE_MESSAGE
