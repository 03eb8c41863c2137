"""The URL harness's entries of the channel results (marketing.channel_report); see
tests/url_table.py for the format. `t` is that module.

Every reader of channels opens the page, each held to their own scope; the Excel
copy is for those who export marketing figures (audited). A branch outside the
user's scope, a bad period or a channel without transactions is refused (400),
for the export too."""

from __future__ import annotations

READERS = "403 403 200 200 200 200 200 200 login"
READERS_BAD = "403 403 400 400 400 400 400 400 login"
# the foreign subject's branch: in head office's scope, outside the others'
READERS_FOREIGN_BRANCH = "403 403 200 200 400 400 400 400 login"
EXPORTERS = "403 403 200a 403 200a 403 403 403 login"
EXPORTERS_BAD = "403 403 400 403 400 403 403 403 login"
EXPORTERS_FOREIGN_BRANCH = "403 403 200a 403 400 403 403 403 login"


def _no_args(w, s) -> dict:
    return {}


def _branch(w, s) -> dict:
    from tests.url_world import WHO_BRANCH

    return {"branch": WHO_BRANCH[s.who], "period": "2026-Q2"}


def add(t) -> None:
    for name, get, bad, foreign in (
        ("marketing:channel_report", READERS, READERS_BAD, READERS_FOREIGN_BRANCH),
        ("marketing:channel_report_export", EXPORTERS, EXPORTERS_BAD, EXPORTERS_FOREIGN_BRANCH),
    ):
        t.URLS[name] = t.Url(
            t.Case(get=get),
            *t.scoped(_no_args, label="branch", get=get, get_foreign=foreign, query=_branch),
            t.Case(
                label="dates, counter",
                get=get,
                query=lambda w, s: {"start": "2026-01-01", "end": "2026-03-31", "channel": "counter"},
            ),
            t.Case(label="bad period", get=bad, query=lambda w, s: {"period": "2026-13"}),
            t.Case(label="no transactions", get=bad, query=lambda w, s: {"channel": "call"}),
        )
