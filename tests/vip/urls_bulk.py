"""The URL harness's entries of the approvals page's bulk decision (vip.bulk); see
tests/url_table.py for the format. `t` is that module.

Who may post: whoever may approve transfers (the business manager, branch heads) or
parameter proposals (the parameter manager, the system administrator). Each ticked
request goes through its own decision: one the user may not decide (a transfer for
a parameter approver, a transfer outside a branch head's branches) is refused on
the page and nothing is written (302); nothing ticked is a 400."""

from __future__ import annotations

DECIDERS_NOTHING_TICKED = "400 400 400 403 400 403 403 403 login"


def _transfers(decision: str, note: str):
    def data(w, s) -> dict:
        return {
            "transfer": [transfer.pk for transfer in w.objects["bulk_transfers"][s.who]],
            "decision": decision,
            "note": note,
        }

    return data


def add(t) -> None:
    t.URLS["vip:approvals_decide"] = t.Url(
        t.scoped(
            t._no_args,
            label="approve-transfers",
            post="302 302 302w 403 302w 403 403 403 login",
            # a branch head's refusal of another region's transfers is said on the page
            post_foreign="302 302 302w 403 302 403 403 403 login",
            data=_transfers("approve", "fine"),
        ),
        t.scoped(
            t._no_args,
            label="reject-transfers",
            post="302 302 302w 403 302w 403 403 403 login",
            post_foreign="302 302 302w 403 302 403 403 403 login",
            data=_transfers("reject", "not now"),
        ),
        t.Case(
            label="approve-proposal",
            post="302w 302w 302 403 302 403 403 403 login",
            data=lambda w, s: {"proposal": [w.objects["proposal_other"].pk], "decision": "approve"},
        ),
        t.Case(
            label="nothing-ticked",
            post=DECIDERS_NOTHING_TICKED,
            data=lambda w, s: {"decision": "approve", "note": "fine"},
        ),
        t.Case(
            label="reject-without-reason",
            post=DECIDERS_NOTHING_TICKED,
            data=lambda w, s: {"proposal": [w.objects["proposal_other"].pk], "decision": "reject"},
        ),
        # the links of the page shown after a refused decision (rendered at this
        # address) lead back to the approvals page
        probe_status="302",
    )
