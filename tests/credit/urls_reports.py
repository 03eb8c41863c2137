"""The URL harness's entries of credit (reports); see tests/url_table.py.

Held like the customer analysis reports, and by the same roles: the report for a
branch head, the business manager and the auditor, each to their own scope; its
Excel copy for a branch head and the business manager (audited). A branch outside
the user's scope, an unknown branch, or a month without figures is refused with a
message (400), for the export too."""

from __future__ import annotations

from tests.analysis.urls_reports import (
    EXPORTERS,
    EXPORTERS_BAD,
    EXPORTERS_FOREIGN_BRANCH,
    READERS,
    READERS_BAD,
    READERS_FOREIGN_BRANCH,
)


def _branch(w, s) -> dict:
    from tests.url_world import WHO_BRANCH

    return {"branch": WHO_BRANCH[s.who]}


def add(t) -> None:
    for name, get, bad, foreign in (
        ("credit:reports", READERS, READERS_BAD, READERS_FOREIGN_BRANCH),
        ("credit:reports_export", EXPORTERS, EXPORTERS_BAD, EXPORTERS_FOREIGN_BRANCH),
    ):
        t.URLS[name] = t.Url(
            t.Case(get=get),
            *t.scoped(lambda w, s: {}, label="branch", get=get, get_foreign=foreign, query=_branch),
            t.Case(
                label="mortgages of a month",
                get=get,
                query=lambda w, s: {"category": "LOAN_MORTGAGE", "month": _newest_month()},
            ),
            t.Case(label="unknown branch", get=bad, query=lambda w, s: {"branch": "no-such-branch"}),
            t.Case(label="month without figures", get=bad, query=lambda w, s: {"month": "1999-01"}),
        )


def _newest_month() -> str:
    from credit.reports import figure_months, month_label

    return month_label(figure_months()[0])
