"""Email addresses in one stored form, and the key that says two guest addresses are one mailbox.

Stored form (`normalise_email`), used for every address that enters the app (sign-up, log-in,
password reset, `flask users`, guest comments) and by the data migration of existing rows:

- surrounding spaces trimmed, then Unicode NFC, so a composed "é" and "e" + combining accent
  (what some keyboards and macOS send) are one address;
- the domain lower-cased and IDNA-encoded (UTS #46 mapping, then A-labels), so "bücher.de",
  "BÜCHER.de" and "xn--bcher-kva.de" are one domain, stored in the ASCII form every mail server
  accepts and no look-alike letter can hide in;
- the local part lower-cased (after NFC). RFC 5321 lets a server tell "Alice" from "alice", but no
  mail provider does, and letting both hold an account is how one mailbox held several; `+tags`,
  dots and compatibility characters are kept, because they can name different mailboxes and the
  address is also where we deliver.

Mailbox key (`mailbox_key`), used only to compare guests' addresses (approval history, the
confirmation sent once per mailbox, the flood limit): the stored form, then also NFKC (full-width
and other compatibility look-alikes become plain letters), case-folded, and without a `+tag`
(sub-addressing delivers "gina+x@" to "gina@"). Two addresses with one key are treated as one
mailbox; erring towards "same" is safe there, because sharing a key never grants trust by itself
(see discussions.service.add_guest_comment).
"""

from __future__ import annotations

import unicodedata

import idna
from email_validator import EmailNotValidError, validate_email


def _ascii_domain(domain: str) -> str:
    """The domain in lower-case A-labels ("xn--bcher-kva.de"); as given (lower-cased) if it is not
    a valid IDNA name, so a lookup with a malformed address simply finds nothing."""
    domain = domain.lower()
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain


def _split(address: str, form: str) -> tuple[str, str] | None:
    """(local part, domain) of the trimmed address in Unicode normal form `form`; None without @."""
    text = unicodedata.normalize(form, (address or "").strip())
    local, at, domain = text.rpartition("@")
    return (local, domain) if at else None


def normalise_email(address: str) -> str:
    """The form email addresses are stored and compared in (see the module's docstring)."""
    parts = _split(address, "NFC")
    if parts is None:
        return unicodedata.normalize("NFC", (address or "").strip().lower())
    local, domain = parts
    return f"{unicodedata.normalize('NFC', local.lower())}@{_ascii_domain(domain)}"


def mailbox_key(address: str) -> str:
    """The key under which guests' addresses count as one mailbox (see the module's docstring)."""
    parts = _split(normalise_email(address), "NFKC")
    if parts is None:
        return unicodedata.normalize("NFKC", normalise_email(address)).casefold()
    local, domain = parts
    local = unicodedata.normalize("NFKC", local.casefold())
    local = local.split("+", 1)[0] or local
    return f"{local}@{_ascii_domain(domain)}"


def is_valid_email(address: str) -> bool:
    """Whether `address` is a plausible email address (syntax only: no DNS lookup)."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True
