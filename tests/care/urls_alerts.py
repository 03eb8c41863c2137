"""The URL harness's entries of keep close (alerts); see tests/url_table.py for the
format. `t` is that module: `t.URLS["care:name"] = t.Url(t.Case(...))`.

Who sees alerts: client managers (their own), the branch head (their subtree's),
the business manager and the auditor (all); the administrator and the parameter
manager have none. Who works them: the assignee or the branch head over them;
only the branch head hands one over. Another's alert is a 404."""

from __future__ import annotations

import datetime

from django.utils import timezone

VIEWERS = "403 403 200 200 200 200 200 200 login"
WORKERS_POST = "403 403 403 403 302w 302w 302w 302w login"
HEAD_POST = "403 403 403 403 302w 403 403 403 login"
API = "403 403 200 200 200 200 200 200 401"


def _alert(w, s) -> dict:
    return {"pk": w.objects["alert"][s.who].pk}


def _team_alert(w, s) -> dict:
    return {"pk": w.objects["team_alert"][s.who].pk}


def add(t) -> None:
    t.URLS["care:alert_list"] = t.Url(
        t.Case(get=VIEWERS),
        t.Case(label="filtered", get=VIEWERS, query=lambda w, s: {"due": "today", "status": "all"}),
        t.Case(
            label="bad filter",
            get="403 403 400 400 400 400 400 400 login",
            query=lambda w, s: {"kind": "nonsense"},
        ),
    )
    t.URLS["care:alerts_panel"] = t.Url(t.Case(get=t.EVERYONE))
    t.URLS["care:alert_detail"] = t.Url(t.scoped(_alert, get=VIEWERS))
    t.URLS["care:alert_done"] = t.Url(
        t.scoped(_alert, post=WORKERS_POST, data=lambda w, s: {"outcome": "contacted", "note": "called"})
    )
    t.URLS["care:alert_snooze"] = t.Url(
        t.scoped(
            _alert,
            post=WORKERS_POST,
            data=lambda w, s: {"until": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()},
        )
    )
    t.URLS["care:alert_dismiss"] = t.Url(
        t.scoped(_alert, post=WORKERS_POST, data=lambda w, s: {"reason": "moved abroad"})
    )
    t.URLS["care:alert_hand_over"] = t.Url(
        t.scoped(
            _team_alert,
            post=HEAD_POST,
            data=lambda w, s: {"to_manager": w.emp("demo_cm2"), "reason": "cm1 on leave"},
        )
    )
    t.URLS["alert-list"] = t.Url(
        t.Case(get=API),
        t.Case(label="bad kind", get="403 403 400 400 400 400 400 400 401", query=lambda w, s: {"kind": "x"}),
    )
