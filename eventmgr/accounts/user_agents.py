"""A short, human name for a browser from its User-Agent header: "Firefox on Linux"."""

from __future__ import annotations

#: (marker in the header, name), first match wins: Edge and Opera also say "Chrome", Chrome also
#: says "Safari", so the more specific come first.
BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("Opera", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("CriOS/", "Chrome"),
    ("Safari/", "Safari"),
)
#: Likewise for the operating system: Android says "Linux", iOS says "like Mac OS X".
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)
#: Longest raw header shown when neither browser nor system is recognised.
RAW_LENGTH = 60


def describe_user_agent(user_agent: str) -> str:
    """ "Firefox on Linux", "Chrome", "A browser on Android", or the header itself, shortened."""
    user_agent = (user_agent or "").strip()
    browser = next((name for marker, name in BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser:
        return browser
    if system:
        return f"A browser on {system}"
    if not user_agent:
        return "Unknown browser"
    return user_agent if len(user_agent) <= RAW_LENGTH else user_agent[: RAW_LENGTH - 1] + "…"
