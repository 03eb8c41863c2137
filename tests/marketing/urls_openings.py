"""The URL harness's entries of the openings pages; see tests/url_table.py for the format.

Client managers record requests of their own customers; a branch head moves or
cancels their subtree's requests; head office reads every request (and, with the
permission, matches them, a page of its own). A customer or request outside the
scope is a 404; a branch outside the scope on the calendar a 400."""

from __future__ import annotations

import datetime

from django.utils import timezone


def _tomorrow() -> str:
    return (timezone.localdate() + datetime.timedelta(days=1)).isoformat()


READERS = "403 403 200 200 200 200 200 200 login"
CHANGERS_POST = "403 403 403 403 302w 302w 302w 302w login"
CHANGERS_BAD = "403 403 403 403 400 400 400 400 login"
CMS_GET = "403 403 403 403 403 200 200 200 login"
CMS_POST = "403 403 403 403 403 302w 302w 302w login"
CMS_BAD = "403 403 403 403 403 400 400 400 login"


def _opening(w, s):
    return {"pk": w.objects["opening"][s.who].pk}


def _new_request(w, s):
    from marketing.models import Channel
    from tests.url_world import WHO_BRANCH

    return {
        "customer": w.no("opening", s.who),
        "product": w.objects["product"]["wealth"].pk,
        "channel": Channel.objects.get(code="manager").pk,
        "branch": w.org[WHO_BRANCH[s.who]].pk,
        "appointment_date": _tomorrow(),
        "appointment_time": "15:30",
        "expected_amount": "50000",
        "note": "客户来电预约",
    }


def add(t) -> None:
    t.URLS["marketing:opening_list"] = t.Url(
        t.Case(get=READERS),
        t.Case(
            label="filtered, sorted, paged",
            get=READERS,
            query=lambda w, s: {"status": "appointed", "overdue": "1", "sort": "-appointment", "size": "50"},
        ),
        t.Case(
            label="bad date range",
            get="403 403 400 400 400 400 400 400 login",
            query=lambda w, s: {"appointment_from": "2026-02-10", "appointment_to": "2026-02-01"},
        ),
    )
    t.URLS["marketing:opening_create"] = t.Url(
        t.Case(label="no customer yet", get=CMS_GET),
        t.scoped(
            lambda w, s: {},
            query=lambda w, s: {"customer": w.no("opening", s.who)},
            get=CMS_GET,
            post=CMS_POST,
            data=_new_request,
        ),
        t.Case(
            label="from opportunity",
            query=lambda w, s: {"opportunity": w.objects["opportunity"][s.who].pk},
            get=CMS_GET,
        ),
        t.Case(
            label="from target",
            query=lambda w, s: {"target": w.objects["target"][s.who].pk},
            get=CMS_GET,
        ),
        t.Case(
            label="appointment in the past",
            post=CMS_BAD,
            data=lambda w, s: {**_new_request(w, s), "appointment_date": "2020-01-01"},
        ),
    )
    t.URLS["marketing:opening_detail"] = t.Url(t.scoped(_opening, get=READERS))
    t.URLS["marketing:opening_appoint"] = t.Url(
        t.scoped(
            _opening,
            post=CHANGERS_POST,
            data=lambda w, s: {"appointment_date": _tomorrow(), "appointment_time": "16:00"},
        ),
        t.Case(
            label="no time",
            kwargs=_opening,
            post=CHANGERS_BAD,
            data=lambda w, s: {"appointment_date": _tomorrow()},
        ),
    )
    t.URLS["marketing:opening_cancel"] = t.Url(
        t.scoped(_opening, post=CHANGERS_POST, data=lambda w, s: {"reason": "客户改期另约"}),
        t.Case(label="no reason", kwargs=_opening, post=CHANGERS_BAD, data=lambda w, s: {"reason": ""}),
    )
    t.URLS["marketing:opening_calendar"] = t.Url(
        t.Case(get=READERS),
        t.Case(
            label="own branch, a week",
            get=READERS,
            query=lambda w, s: {
                "branch": {"demo_cm2": "11102", "demo_cm3": "12101"}.get(s.role, "11101"),
                "week": _tomorrow(),
            },
        ),
        t.Case(
            label="branch outside the scope",
            get="403 403 200 200 400 400 400 400 login",
            query=lambda w, s: {"branch": "11101" if s.role == "demo_cm3" else "12101"},
        ),
        t.Case(
            label="bad week", get="403 403 400 400 400 400 400 400 login", query=lambda w, s: {"week": "soon"}
        ),
    )
