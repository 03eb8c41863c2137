"""Search texts that must not travel in URLs.

A full identifier typed into the customer search (an ID number, a mobile, an account
or card number) would land in the web server's access log, the browser history and
the Referer of the next page if it were sent as `?q=`. The search page keeps such a
text in the user's session instead, encrypted like the identifiers themselves, under
a short random key that lives `KEY_MINUTES` after its last use; the URL carries
`?k=<key>` and the search box shows the text masked. Names, pinyin, customer numbers
and the last 4 / last 6 digits stay in the URL as `?q=`, so such links can be shared.
"""

from __future__ import annotations

import re
import secrets
import time

from .crypto import DecryptionError, cipher
from .masking import mask_value
from .models import Customer
from .search import classify_query

KEY_MINUTES = 15
MAX_KEYS = 20  # per session: the oldest goes first
SESSION_NAME = "customers.search_keys"
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{12}$")  # secrets.token_urlsafe(9)
# Digits in a row (separators aside) that make a text an identifier whatever its
# shape: a card number typed in groups, a passport or permit number.
_LONG_DIGITS_RE = re.compile(r"\d{7,}")
_SEPARATORS_RE = re.compile(r"[\s\-]+")


def _now() -> float:
    return time.time()


def identifier_mask(q: str) -> str:
    """The mask kind (`mobile`, `id_number`, `account_no`) of a search text that is a
    whole personal number (C2): a resident or other ID number, a mobile, an account
    or card number; "" for anything else. A customer number (C1, internal) is not
    one, nor the last 4 of a mobile or the last 6 of an ID, nor a name."""
    q = (q or "").strip()
    if not q:
        return ""
    kind = classify_query(q)
    if kind in ("mobile", "id_number"):
        return kind
    if kind == "number":
        if Customer.objects.filter(customer_no=q).exists():
            return ""
        return "account_no" if len(q) > 10 else "id_number"
    if kind in ("mobile_suffix", "id_suffix"):
        return ""
    return "id_number" if _LONG_DIGITS_RE.search(_SEPARATORS_RE.sub("", q)) else ""


def display_text(q: str, mask: str | None = None) -> str:
    """The search text as the page shows it: an identifier masked, anything else as
    typed (`mask`: identifier_mask(q) when already known)."""
    q = (q or "").strip()
    mask = identifier_mask(q) if mask is None else mask
    return mask_value(mask, _SEPARATORS_RE.sub("", q)) if mask else q


def _live(entry, now: float) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], (int, float))
        and isinstance(entry[1], str)
        and entry[0] > now
    )


class SearchKeys:
    """The search texts kept in one user's session, by key. A key is valid only in
    the session, and for the user, that made it."""

    def __init__(self, session, user):
        self.session = session
        self.user_id = getattr(user, "pk", None)

    def _context(self, key: str) -> str:
        return f"customers.search_key:{self.user_id}:{key}"

    def _entries(self) -> dict[str, list]:
        """Live entries {key: [expires (epoch seconds), ciphertext]}."""
        now = _now()
        stored = self.session.get(SESSION_NAME)
        if not isinstance(stored, dict):
            return {}
        return {key: entry for key, entry in stored.items() if _live(entry, now)}

    def _save(self, entries: dict[str, list]) -> None:
        newest = sorted(entries.items(), key=lambda item: item[1][0])[-MAX_KEYS:]
        self.session[SESSION_NAME] = dict(newest)

    def get(self, key: str) -> str | None:
        """The text kept under `key` (and the key's life extended), or None when the
        key is unknown, expired, malformed or another user's."""
        if not key or not KEY_RE.match(key):
            return None
        entries = self._entries()
        entry = entries.get(key)
        if entry is None:
            return None
        text = self._text(key, entry)
        if text is None:
            return None
        entry[0] = _now() + KEY_MINUTES * 60
        self._save(entries)
        return text

    def _text(self, key: str, entry: list) -> str | None:
        try:
            return cipher().decrypt(entry[1], context=self._context(key))
        except DecryptionError:  # a key rotated away, or an entry not made here
            return None

    def put(self, text: str) -> str:
        """The key of `text` (the one it already has, else a new one), kept for
        KEY_MINUTES from now."""
        entries = self._entries()
        for key, entry in entries.items():
            if self._text(key, entry) == text:
                entry[0] = _now() + KEY_MINUTES * 60
                self._save(entries)
                return key
        key = secrets.token_urlsafe(9)
        entries[key] = [_now() + KEY_MINUTES * 60, cipher().encrypt(text, context=self._context(key))]
        self._save(entries)
        return key
