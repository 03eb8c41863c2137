"""The URL harness's entries of keep close (outbox); see tests/url_table.py for the
format. `t` is that module: `t.URLS["care:name"] = t.Url(t.Case(...))`."""

from __future__ import annotations

from django.utils import timezone

# care.view_message / care.view_servicesubscription: managers, branch heads, the
# business manager and the auditor; recording and cancelling: managers and branch heads.
READERS = "403 403 200 200 200 200 200 200 login"
WORKERS_POST = "403 403 403 403 302w 302w 302w 302w login"


def add(t) -> None:
    t.URLS["care:outbox"] = t.Url(t.Case(get=READERS))
    t.URLS["care:customer_services"] = t.Url(
        t.scoped(
            lambda w, s: {"customer_no": w.no("main", s.who)},
            get=READERS,
            post=WORKERS_POST,
            data=lambda w, s: {
                "service": "sms_balance_alert",
                "channel": "sms",
                "consent_date": timezone.localdate().isoformat(),
            },
        )
    )
    t.URLS["care:service_cancel"] = t.Url(
        t.scoped(lambda w, s: {"pk": w.objects["subscription"][s.who].pk}, post=WORKERS_POST)
    )
