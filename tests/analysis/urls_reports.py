"""The URL harness's entries of the customer analysis (reports); see tests/url_table.py.

The report is for those who steer a branch or the bank (a branch head, a business
manager, the auditor), each held to their own scope; its Excel copy for those who
may export it (a branch head, a business manager; audited). A branch outside the
user's scope, or no branch at all, is refused with a message (400), for the export
too."""

from __future__ import annotations

READERS = "403 403 200 200 200 403 403 403 login"
READERS_BAD = "403 403 400 400 400 403 403 403 login"
# the foreign subject's branch: in head office's scope, outside the branch head's
READERS_FOREIGN_BRANCH = "403 403 200 200 400 403 403 403 login"
EXPORTERS = "403 403 200a 403 200a 403 403 403 login"
EXPORTERS_BAD = "403 403 400 403 400 403 403 403 login"
EXPORTERS_FOREIGN_BRANCH = "403 403 200a 403 400 403 403 403 login"


def _branch(w, s) -> dict:
    from tests.url_world import WHO_BRANCH

    return {"branch": WHO_BRANCH[s.who]}


def add(t) -> None:
    for name, get, bad, foreign in (
        ("analysis:reports", READERS, READERS_BAD, READERS_FOREIGN_BRANCH),
        ("analysis:reports_export", EXPORTERS, EXPORTERS_BAD, EXPORTERS_FOREIGN_BRANCH),
    ):
        t.URLS[name] = t.Url(
            t.Case(get=get),
            *t.scoped(lambda w, s: {}, label="branch", get=get, get_foreign=foreign, query=_branch),
            t.Case(label="unknown branch", get=bad, query=lambda w, s: {"branch": "no-such-branch"}),
        )
