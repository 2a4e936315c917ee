"""The Atom feed (RFC 4287) of published write-ups."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from xml.etree import ElementTree  # nosec B405: only builds the feed, never parses XML

from eventmgr.web.times import iso
from eventmgr.web.urls import external_url
from eventmgr.writeups.models import WriteUp

ATOM = "http://www.w3.org/2005/Atom"
#: Characters XML 1.0 cannot hold at all (most C0 controls, surrogates, U+FFFE and U+FFFF): one
#: in any title or body would make the whole feed unparseable for every reader.
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """`value` without the characters XML 1.0 forbids."""
    return XML_ILLEGAL.sub("", value)


def _add(
    parent: ElementTree.Element, tag: str, text: str | None = None, **attrs: str
) -> ElementTree.Element:
    """A child element in the Atom namespace."""
    element = ElementTree.SubElement(
        parent, f"{{{ATOM}}}{tag}", {name: xml_text(value) for name, value in attrs.items()}
    )
    if text is not None:
        element.text = xml_text(text)
    return element


def _updated(writeup: WriteUp) -> datetime:
    """When the entry last changed: its latest edit, else its publication."""
    return max(filter(None, (writeup.published_at, writeup.edited_at)))


def build_feed(writeups: Sequence[WriteUp], *, site_name: str, now: datetime) -> bytes:
    """The feed document for `writeups` (newest first), as UTF-8 XML."""
    ElementTree.register_namespace("", ATOM)
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    _add(feed, "title", f"{site_name}: write-ups")
    _add(feed, "id", external_url("writeups.index"))
    _add(feed, "link", rel="self", type="application/atom+xml", href=external_url("writeups.feed"))
    _add(feed, "link", rel="alternate", type="text/html", href=external_url("writeups.index"))
    _add(feed, "updated", iso(max((_updated(w) for w in writeups), default=now)))
    _add(_add(feed, "author"), "name", site_name)
    for writeup in writeups:
        url = external_url("writeups.detail", slug=writeup.slug)
        entry = _add(feed, "entry")
        _add(entry, "title", writeup.title)
        _add(entry, "id", url)
        _add(entry, "link", rel="alternate", type="text/html", href=url)
        _add(entry, "published", iso(writeup.published_at))
        _add(entry, "updated", iso(_updated(writeup)))
        author = _add(entry, "author")
        _add(author, "name", writeup.author.display_name if writeup.author else site_name)
        _add(entry, "content", writeup.body_html, type="html")
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
