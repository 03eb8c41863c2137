"""Sessions kept in the database, renewed at most once a minute.

A session lasts `SESSION_COOKIE_AGE` (30 minutes) after its last renewal. Django's
`SESSION_SAVE_EVERY_REQUEST` renews it by rewriting its row on every request, a
transaction and a write for each page. Here the session store remembers the expiry
its row had when read, and `SessionRenewalMiddleware` marks the session for saving
only when that expiry is more than `SESSION_RENEW_AFTER` seconds (60) short of a
full age: a user idle for 30 minutes is still logged out, within that minute; a
user who keeps working writes their session once a minute rather than on every
page. A session whose data changed is saved as always.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.sessions.backends import db
from django.utils import timezone

from core.compiled import CompiledRead

RENEW_AFTER_DEFAULT = 60  # seconds


COLUMNS = ("session_key", "session_data", "expire_date")


def _unexpired(session_key: str, now: datetime.datetime):
    from django.contrib.sessions.models import Session

    return Session.objects.filter(session_key=session_key, expire_date__gt=now).values_list(*COLUMNS)


# Django's read of the session (its key, not expired), compiled once per process
_UNEXPIRED = CompiledRead("sessions.Session", _unexpired, kinds=(str, datetime.datetime))


class SessionStore(db.SessionStore):
    """The database session store, with the expiry its row had when read (None when
    nothing was read: a new session, or none), read by a statement compiled once per
    process (`core.compiled`)."""

    stored_expiry: datetime.datetime | None = None

    def _get_session_from_db(self):
        rows = _UNEXPIRED.rows(self.session_key, timezone.now())
        if not rows:
            self._session_key = None  # as Django's store: a new key when saved
            self.stored_expiry = None
            return None
        row = self.model.from_db(_UNEXPIRED.alias(), COLUMNS, rows[0])
        self.stored_expiry = row.expire_date
        return row


def renewal_due(session) -> bool:
    """Whether a read session's row expires sooner than a full age less the renewal
    interval: then saving it renews it."""
    stored = getattr(session, "stored_expiry", None)
    if stored is None:
        return False
    renew_after = getattr(settings, "SESSION_RENEW_AFTER", RENEW_AFTER_DEFAULT)
    return stored < timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE - renew_after)


class SessionRenewalMiddleware:
    """Placed just after Django's SessionMiddleware: on the way out, a session read in
    this request whose renewal is due is marked modified, so that SessionMiddleware
    saves it (and its new expiry)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.accessed and not session.modified and renewal_due(session):
            session.modified = True
        return response
