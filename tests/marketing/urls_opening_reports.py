"""The URL harness's entries of the opening reports pages (the account-opening
funnel, its export, the match of a request by hand); see tests/url_table.py for the
format. `t` is that module.

Everyone who reads marketing reads the funnel (each their own scope); the export is
the marketing exporters' (business managers, branch heads). A request is matched
by a branch head of its branch or a business manager: a client manager, who would
credit themselves, is refused. A date that is no date, or an account of another
customer, is a 400."""

from __future__ import annotations

READERS = "403 403 200 200 200 200 200 200 login"
READERS_BAD = "403 403 400 400 400 400 400 400 login"
EXPORTERS = "403 403 200a 403 200a 403 403 403 login"
EXPORTERS_BAD = "403 403 400 403 400 403 403 403 login"
MATCHERS_GET = "403 403 200 403 200 403 403 403 login"
MATCHERS_POST = "403 403 302w 403 302w 403 403 403 login"
MATCHERS_BAD = "403 403 400 403 400 403 403 403 login"


def _request(w, s) -> dict:
    return {"pk": w.objects["opening_request"][s.who].pk}


def add(t) -> None:
    t.URLS["marketing:opening_funnel"] = t.Url(
        t.Case(get=READERS),
        t.Case(label="period", get=READERS, query=lambda w, s: {"start": "2026-01-01", "end": "2026-12-31"}),
        t.Case(label="not a date", get=READERS_BAD, query=lambda w, s: {"start": "2026-13-01"}),
        t.Case(
            label="end before start",
            get=READERS_BAD,
            query=lambda w, s: {"start": "2026-05-02", "end": "2026-05-01"},
        ),
    )
    t.URLS["marketing:opening_funnel_export"] = t.Url(
        t.Case(get=EXPORTERS),
        t.Case(label="not a date", get=EXPORTERS_BAD, query=lambda w, s: {"end": "yesterday"}),
    )
    t.URLS["marketing:opening_match"] = t.Url(
        t.scoped(
            _request,
            get=MATCHERS_GET,
            post=MATCHERS_POST,
            data=lambda w, s: {"account": w.objects["opening_account"][s.who].pk},
        ),
        t.Case(
            label="another customer's account",
            kwargs=_request,
            post=MATCHERS_BAD,
            data=lambda w, s: {
                "account": w.objects["opening_account"]["cm2" if s.who != "cm2" else "cm1"].pk
            },
        ),
        t.Case(label="no account", kwargs=_request, post=MATCHERS_BAD, data=lambda w, s: {"account": "x"}),
    )
