"""The URL harness's entries of credit (queries); see tests/url_table.py.

Client managers and branch heads record a customer's authorizations and ask for
queries; only a branch head decides, never on their own query, within their branch
subtree (a query of another branch is a 404); head office's business manager and
the auditor read. A query refused for want of an authorization is a write too: it
is stored and audited."""

from __future__ import annotations

import datetime

from django.utils import timezone

READERS = "403 403 200 200 200 200 200 200 login"
DECIDER_GET = "403 403 403 403 200 403 403 403 login"
DECIDER_POST = "403 403 403 403 302w 403 403 403 login"
WORKERS_POST = "403 403 403 403 302w 302w 302w 302w login"
WORKERS_BAD = "403 403 403 403 400 400 400 400 login"


def _customer(w, s) -> dict:
    return {"customer_no": w.no("credit", s.who)}


def _of(name: str):
    return lambda w, s: {"pk": w.objects[name][s.who].pk}


def _day(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def _authorization(w, s) -> dict:
    return {
        "form_reference": "SCAN-HARNESS-1",
        "purpose": "post_loan",
        "signed_on": _day(-1),
        "valid_until": _day(200),
    }


def add(t) -> None:
    t.URLS["credit:queries_list"] = t.Url(
        t.Case(get=READERS),
        t.Case(
            label="filtered, sorted, paged",
            get=READERS,
            query=lambda w, s: {
                "status": "pending",
                "purpose": "loan_approval",
                "q": w.no("credit", s.who),
                "date_from": _day(-7),
                "date_to": _day(0),
                "sort": "-status",
                "size": "50",
            },
        ),
        t.Case(
            label="bad date range",
            get="403 403 400 400 400 400 400 400 login",
            query=lambda w, s: {"date_from": _day(0), "date_to": _day(-3)},
        ),
        t.Case(
            label="bad status",
            get="403 403 400 400 400 400 400 400 login",
            query=lambda w, s: {"status": "x"},
        ),
    )
    t.URLS["credit:queries_approvals"] = t.Url(t.Case(get=DECIDER_GET))
    t.URLS["credit:queries_customer"] = t.Url(t.scoped(_customer, get=READERS))
    t.URLS["credit:queries_authorization_record"] = t.Url(
        t.scoped(_customer, post=WORKERS_POST, data=_authorization),
        t.Case(
            label="ends before it starts",
            kwargs=_customer,
            post=WORKERS_BAD,
            data=lambda w, s: {**_authorization(w, s), "valid_until": _day(-5)},
        ),
    )
    t.URLS["credit:queries_authorization_revoke"] = t.Url(
        t.scoped(_of("credit_authorization"), post=WORKERS_POST)
    )
    t.URLS["credit:queries_request"] = t.Url(
        t.scoped(_customer, post=WORKERS_POST, data=lambda w, s: {"purpose": "card_approval"}),
        t.Case(
            label="refused, no authorization",
            kwargs=_customer,
            post=WORKERS_POST,
            data=lambda w, s: {"purpose": "guarantee"},
        ),
        t.Case(
            label="already waiting",
            kwargs=_customer,
            post=WORKERS_BAD,
            data=lambda w, s: {"purpose": "loan_approval"},
        ),
        t.Case(label="no purpose", kwargs=_customer, post=WORKERS_BAD, data=lambda w, s: {}),
    )
    t.URLS["credit:queries_approve"] = t.Url(t.scoped(_of("credit_query_pending"), post=DECIDER_POST))
    t.URLS["credit:queries_reject"] = t.Url(
        t.scoped(_of("credit_query_pending"), post=DECIDER_POST, data=lambda w, s: {"note": "用途不符"}),
        t.Case(
            label="no reason",
            kwargs=_of("credit_query_pending"),
            post="403 403 403 403 302 403 403 403 login",
            data=lambda w, s: {"note": ""},
        ),
    )
    t.URLS["credit:queries_resend"] = t.Url(t.scoped(_of("credit_query_failed"), post=DECIDER_POST))
    t.URLS["credit:queries_withdraw"] = t.Url(
        # a branch head may withdraw only their own query: cm1's is not
        t.scoped(_of("credit_query_pending"), post="403 403 403 403 302 302w 302w 302w login")
    )
