"""Reading the discussion pages' HTML."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup


def soup(response: Any) -> BeautifulSoup:
    """The response's HTML, parsed the way a browser would."""
    return BeautifulSoup(response.get_data(as_text=True), "html5lib")


def text(response: Any) -> str:
    """The page's visible text with whitespace collapsed."""
    return " ".join(soup(response).get_text(" ").split())


def comment_ids(response: Any) -> list[int]:
    """Ids of the comments on the page, in document order."""
    return [
        int(article["id"].split("-")[1]) for article in soup(response).select("article.comment")
    ]


def comment_text(response: Any, comment_id: int) -> str:
    """The visible text of one comment (without its replies)."""
    article = soup(response).find(id=f"comment-{comment_id}")
    return " ".join(article.get_text(" ").split()) if article else ""


def field_error(response: Any, name: str) -> str:
    """The error shown beside form field `name`, or ''."""
    element = soup(response).find(id=f"{name}-error")
    return " ".join(element.get_text(" ").split()) if element else ""


def textarea(response: Any, name: str = "body") -> str | None:
    """What a textarea holds (HTML drops the newline straight after <textarea>)."""
    element = soup(response).find("textarea", attrs={"name": name})
    return element.get_text() if element is not None else None


def flashes(response: Any) -> list[str]:
    """The flash messages on a page."""
    return [" ".join(flash.get_text(" ").split()) for flash in soup(response).select(".flash")]


def listed_reports(response: Any) -> int:
    """How many reports the moderation page lists, over all reported comments."""
    return len(soup(response).select("ul.moderation-reports > li"))
