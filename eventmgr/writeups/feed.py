"""The Atom feed (RFC 4287) of published write-ups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from xml.etree import ElementTree  # nosec B405: only builds the feed, never parses XML

from eventmgr.web.times import iso
from eventmgr.web.urls import external_url
from eventmgr.writeups.models import WriteUp

ATOM = "http://www.w3.org/2005/Atom"


def _add(
    parent: ElementTree.Element, tag: str, text: str | None = None, **attrs: str
) -> ElementTree.Element:
    """A child element in the Atom namespace."""
    element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
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
