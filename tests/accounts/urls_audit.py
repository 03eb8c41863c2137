"""The URL harness's entries of the audit pages; see tests/url_table.py for the
format. `t` is that module: `t.URLS["accounts:name"] = t.Url(t.Case(...))`.

The auditor and the system administrator read the trail, its export (an audit
event), the suspicious-operation report and the usage by branch; only the auditor
reviews a finding (the world's: tests/accounts/world_audit.py). Everybody else is
refused."""

from __future__ import annotations

READERS_GET = "200 403 403 200 403 403 403 403 login"
READERS_BAD = "400 403 403 400 403 403 403 403 login"


def add(t) -> None:
    # accounts:audit_list keeps its entry in tests/url_table.py; these are its filters
    t.URLS["accounts:audit_list"] = t.Url(
        *t.URLS["accounts:audit_list"].cases,
        t.Case(
            label="filtered", get=READERS_GET, query=lambda w, s: {"action": "login", "actor": "demo_cm1"}
        ),
        t.Case(
            label="start after end",
            get=READERS_BAD,
            query=lambda w, s: {"date_from": "2026-02-01", "date_to": "2026-01-01"},
        ),
    )
    t.URLS["accounts:audit_export"] = t.Url(
        t.Case(get="200a 403 403 200a 403 403 403 403 login", query=lambda w, s: {"action": "login"}),
    )
    t.URLS["accounts:audit_report"] = t.Url(
        t.Case(get=READERS_GET),
        t.Case(label="reviewed shown", get=READERS_GET, query=lambda w, s: {"show_reviewed": "on"}),
        t.Case(
            label="start after end",
            get=READERS_BAD,
            query=lambda w, s: {"date_from": "2026-02-01", "date_to": "2026-01-01"},
        ),
    )
    t.URLS["accounts:audit_review"] = t.Url(
        t.Case(
            post="403 403 403 302w 403 403 403 403 login",
            data=lambda w, s: {
                **w.objects["audit_finding"],
                "outcome": "explanation_accepted",
                "note": "a typing user",
            },
        ),
    )
    t.URLS["accounts:audit_usage"] = t.Url(
        t.Case(get=READERS_GET),
        t.Case(label="month", get=READERS_GET, query=lambda w, s: {"month": "2026-10", "branch": "11100"}),
        t.Case(label="not a month", get=READERS_BAD, query=lambda w, s: {"month": "2026-13"}),
    )
