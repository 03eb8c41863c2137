"""The URL harness's entries of a change of a user's roles and branch
(accounts.user_changes); see tests/url_table.py for the format. `t` is that module.

Only system administrators ask for and decide on changes (request_user_change,
approve_user_change): every other role is refused by permission, before the user
is looked up. A decision looks the change up in the viewer's scope of users first
(a 404 for a branch head or client manager outside it), then the service refuses
who may not decide (403); a withdrawal is the proposer's only."""

from __future__ import annotations

ADMIN_GET = "200 403 403 403 403 403 403 403 login"
ADMIN_POST = "302w 403 403 403 403 403 403 403 login"
# the decision services refuse (403) whoever is not allowed, once the change is found
DECISION_FOREIGN = "302w 403 403 403 404 404 404 404 login"
# demo_admin's own change: nobody else may withdraw it
WITHDRAW_OWN = "302w 403 403 403 403 403 403 403 login"
WITHDRAW_FOREIGN = "302w 403 403 403 404 404 404 404 login"
SUB_BRANCH = {"cm1": "11100", "cm2": "11100", "cm3": "12100"}


def _of(name: str):
    return lambda w, s: {"pk": w.objects[name][s.who].pk}


def add(t) -> None:
    t.URLS["accounts:user_change"] = t.Url(
        t.scoped(
            _of("user_change_subject"),
            get=ADMIN_GET,
            post=ADMIN_POST,
            data=lambda w, s: {
                "roles": ["branch_head"],
                "branch": w.org[SUB_BRANCH[s.who]].pk,
                "reason": "promotion",
            },
        ),
        t.Case(
            label="nothing changes",
            kwargs=_of("user_change_subject"),
            post="400 403 403 403 403 403 403 403 login",
            data=lambda w, s: {
                "roles": ["client_manager"],
                "branch": w.org["11101"].pk,
                "reason": "no change",
            },
        ),
    )
    t.URLS["accounts:user_change_list"] = t.Url(t.Case(get=ADMIN_GET))
    t.URLS["accounts:user_change_approve"] = t.Url(
        t.scoped(_of("user_change"), post=ADMIN_POST, post_foreign=DECISION_FOREIGN)
    )
    t.URLS["accounts:user_change_reject"] = t.Url(
        t.scoped(
            _of("user_change"),
            post=ADMIN_POST,
            post_foreign=DECISION_FOREIGN,
            data=lambda w, s: {"reason": "not this year"},
        )
    )
    t.URLS["accounts:user_change_withdraw"] = t.Url(
        t.scoped(_of("own_user_change"), post=WITHDRAW_OWN, post_foreign=WITHDRAW_FOREIGN)
    )
