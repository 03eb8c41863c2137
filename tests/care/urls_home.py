"""The URL harness's entries of keep close (home); see tests/url_table.py for the
format. `t` is that module: `t.URLS["care:name"] = t.Url(t.Case(...))`.

- The morning meeting is a branch head's page: everybody else is refused (403);
  another branch's code is outside the head's subtree (404); a date that is not
  one, or one still to come, is refused with the form again (400).
- Customising the home page is everybody's: a choice of widgets the user may have
  is kept (audited), an unknown widget refused (400, nothing written).
- A lazy widget's body: the widget must be one the user may have (else 404).
"""

from __future__ import annotations

import datetime


def add(t) -> None:
    meeting_get = "403 403 403 403 200 403 403 403 login"
    meeting_bad = "403 403 403 403 400 403 403 403 login"
    meeting_foreign = "403 403 403 403 404 403 403 403 login"
    t.URLS["care:meeting"] = t.Url(
        t.Case(get=meeting_get),
        t.Case(label="a day", get=meeting_get, query=lambda w, s: {"date": "2026-01-05", "branch": "11101"}),
        t.Case(label="not a date", get=meeting_bad, query=lambda w, s: {"date": "2026-02-30"}),
        t.Case(
            label="a day to come",
            get=meeting_bad,
            query=lambda w, s: {"date": (datetime.date.today() + datetime.timedelta(days=400)).isoformat()},
        ),
        t.Case(label="another branch", get=meeting_foreign, query=lambda w, s: {"branch": "12100"}),
    )
    t.URLS["home_customise"] = t.Url(
        t.Case(
            get=t.EVERYONE,
            post="302w 302w 302w 302w 302w 302w 302w 302w login",
            data=lambda w, s: {"show": ["welcome"], "order-welcome": "1"},
        ),
        t.Case(
            label="unknown widget",
            post="400 400 400 400 400 400 400 400 login",
            data=lambda w, s: {"show": ["welcome", "no_such_widget"]},
        ),
        t.Case(
            label="another role's widget",
            post="400 400 400 400 400 302w 302w 302w login",
            data=lambda w, s: {"show": ["welcome", "scorecard"]},
        ),
    )
    t.URLS["home_widget"] = t.Url(
        t.Case(kwargs=lambda w, s: {"key": "welcome"}, get=t.EVERYONE),
        t.Case(
            label="team board",
            kwargs=lambda w, s: {"key": "team_board"},
            get="200 200 200 200 200 404 404 404 login",
        ),
        t.Case(
            label="unknown",
            kwargs=lambda w, s: {"key": "no_such_widget"},
            get="404 404 404 404 404 404 404 404 login",
        ),
    )
