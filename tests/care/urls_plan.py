"""The URL harness's entries of keep close (plan); see tests/url_table.py for the
format. `t` is that module: `t.URLS["care:name"] = t.Url(t.Case(...))`.

Who plans: client managers and branch heads (care.*_planitem, *_journalentry);
the auditor reads the journal. A plan item is changed by its owner only: another
user's is a 404 for everybody (per_user). A customer outside the scope is a 404 on
the "plan a visit" link and a form error (400) when typed into a form."""

from __future__ import annotations

import datetime

from django.utils import timezone

PLANNERS_GET = "403 403 403 403 200 200 200 200 login"
PLANNERS_POST = "403 403 403 403 302w 302w 302w 302w login"
TYPED_FOREIGN = "403 403 403 403 400 400 400 400 login"


def _day(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def _item(w, s) -> dict:
    items = w.objects["plan_item"]
    return {"pk": items.get(s.user, items["demo_cm1"]).pk}


def add(t) -> None:
    customer_no = lambda w, s: {"customer": w.no("main", s.who)}  # noqa: E731

    t.URLS["care:calendar"] = t.Url(
        t.Case(get=PLANNERS_GET),
        t.Case(label="month", get=PLANNERS_GET, query=lambda w, s: {"month": "2026-10"}),
        t.Case(
            label="not a week",
            get="403 403 403 403 400 400 400 400 login",
            query=lambda w, s: {"week": "2026-W99"},
        ),
    )
    t.URLS["care:plan_new"] = t.Url(
        t.scoped(
            t._no_args,
            get=PLANNERS_GET,
            post=PLANNERS_POST,
            post_foreign=TYPED_FOREIGN,
            query=customer_no,
            data=lambda w, s: {
                "kind": "visit",
                "customer_no": w.no("main", s.who),
                "title": "visit",
                "start_date": _day(2),
                "start_time": "10:00",
                "end_time": "11:00",
                "recurrence": "none",
            },
        )
    )
    t.URLS["care:plan_edit"] = t.Url(
        t.scoped(
            _item,
            get=PLANNERS_GET,
            post=PLANNERS_POST,
            per_user=True,
            data=lambda w, s: {"kind": "todo", "title": "moved", "start_date": _day(3), "recurrence": "none"},
        )
    )
    t.URLS["care:plan_done"] = t.Url(t.scoped(_item, post=PLANNERS_POST, per_user=True))
    t.URLS["care:plan_cancel"] = t.Url(t.scoped(_item, post=PLANNERS_POST, per_user=True))
    t.URLS["care:own_reminder_new"] = t.Url(
        t.scoped(
            t._no_args,
            get=PLANNERS_GET,
            post=PLANNERS_POST,
            post_foreign=TYPED_FOREIGN,
            query=customer_no,
            data=lambda w, s: {
                "customer_no": w.no("main", s.who),
                "on": _day(1),
                "text": "call about the CD",
            },
        )
    )
    t.URLS["care:journal"] = t.Url(t.Case(get="403 403 403 200 200 200 200 200 login"))
    t.URLS["care:journal_new"] = t.Url(
        t.scoped(
            t._no_args,
            get=PLANNERS_GET,
            post=PLANNERS_POST,
            post_foreign=TYPED_FOREIGN,
            query=customer_no,
            data=lambda w, s: {
                "customer_no": w.no("main", s.who),
                "kind": "visit",
                "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "purpose": "keep_in_touch",
                "feedback": "fine",
                "next_step": "call back",
                "next_step_date": _day(7),
            },
        )
    )
    t.URLS["plan-items"] = t.Url(
        t.Case(
            get="403 403 403 403 200 200 200 200 401", query=lambda w, s: {"from": _day(0), "to": _day(6)}
        ),
        t.Case(
            label="bad dates",
            get="403 403 403 403 400 400 400 400 401",
            query=lambda w, s: {"from": "2026-02-30", "to": _day(6)},
        ),
    )
