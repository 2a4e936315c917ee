"""Where it is safe to send a user after a form: only to paths on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next_url(target: str | None) -> str | None:
    """Return `target` if it is a local path (no scheme, no host), else None."""
    if not target:
        return None
    # Browsers treat backslashes as slashes, so "/\\evil.example" would leave the site.
    cleaned = target.replace("\\", "/").strip()
    if any(ord(character) < 32 for character in cleaned):
        return None
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not cleaned.startswith("/") or cleaned.startswith("//"):
        return None
    return cleaned
