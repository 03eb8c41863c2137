"""The roles × URLs table of tests/test_url_harness.py: for every URL of the portal,
how to build its arguments, what to send, and what each demo role gets.

Adding a URL
------------
The harness walks Django's URL resolver; a pattern without an entry here fails
`test_every_url_pattern_has_an_entry`. Add `URLS["namespace:name"] = Url(...)`:

    URLS["vip:thing"] = Url(
        scoped(                                   # own object and a foreign one
            lambda w, s: {"customer_no": w.no("main", s.who)},
            get="200 403 200 200 200 200 200 200 login",
            post="403 403 302w 403 302w 302w 302w 302w login",
            data=lambda w, s: {"reason": "why"},
        )
    )

Status strings have one token per role, in the order of `ROLES`:

    demo_admin demo_pm demo_bm demo_audit demo_bh demo_cm1 demo_cm2 demo_cm3 anonymous

A token is the HTTP status, with a suffix saying what the request must write:

    200, 302, 403, 404 ...  nothing: no business row changes, no audit event
    302w, 200w ...          a business write, and an audit event by the user
    200a, 302a ...          an audit event by the user (an export, a reveal), no business write
    login                   302 to the login page (/accounts/login/), nothing written
    adminlogin              302 to the admin's login address (which forwards to the same page)

`scoped()` makes two cases, "own" and "foreign" (tests/url_world.py::Subject says
whose objects each role works on); unless given, the foreign expectations are
derived: a role that sees all customers (head office) gets what it gets on its own
object; a branch head or client manager who may use the page gets 404 on a foreign
object (never 403, never 200), and a role refused by permission is refused the same
way. `per_user=True` is for objects of one user (exports, alerts, batches):
another user's object is a 404 for everybody.

Django admin's generated model pages (changelist, add, change, delete, history,
import/export) follow one rule from `ADMIN_MODELS` (which staff roles may view, add,
change, delete, import, export each registered model); each registered model needs
an entry there.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import import_module
from typing import Any

from django.conf import settings
from django.utils import timezone

from tests.url_world import (
    ANONYMOUS,
    HEAD_OFFICE,
    PARTS,
    ROLES,
    WHO_BRANCH,
    WHO_COLLEAGUE,
    WHO_MANAGER,
    Subject,
    World,
    part_module,
)

Builder = Callable[[World, Subject], dict[str, Any]]
GET, POST = "GET", "POST"
STAFF = ("demo_admin", "demo_pm", "demo_audit")

# tokens refused before the object is looked at: the same on a foreign object
REFUSED_BEFORE_LOOKUP = {"403", "401", "405", "login", "adminlogin"}


def _no_args(w: World, s: Subject) -> dict[str, Any]:
    return {}


def row(spec: str) -> tuple[str, ...]:
    tokens = tuple(spec.split())
    if len(tokens) != len(ROLES):
        raise ValueError(f"{spec!r}: {len(tokens)} tokens, one per role ({' '.join(ROLES)}) expected")
    return tokens


@dataclass(frozen=True)
class Case:
    """One way to call a URL: its arguments, body and the expected token per role."""

    label: str = "own"
    kwargs: Builder = _no_args
    get: str | None = None
    post: str | None = None
    data: Builder | None = None
    query: Builder | None = None
    foreign: bool = False
    json: bool = False
    htmx: bool = False
    # username the audit event of a write is expected from (default: the role)
    actor: Callable[[Subject], str] | None = None

    def tokens(self, method: str) -> tuple[str, ...] | None:
        spec = self.get if method == GET else self.post
        return row(spec) if spec is not None else None


class Url:
    """A URL's cases; the method it does not accept is probed once, with `probe_role`
    (by default the first role a case lets use it), and must answer `probe_status`."""

    def __init__(
        self,
        *cases: Case | tuple[Case, ...],
        probe_status: str = "405",
        probe_role: str | None = None,
        path: Callable[[World, Subject], str] | None = None,
        note: str = "",
    ):
        flat: list[Case] = []
        for case in cases:
            flat.extend(case if isinstance(case, tuple) else (case,))
        self.cases = tuple(flat)
        self.probe_status = probe_status
        self.probe_role = probe_role
        self.path = path  # for an unnamed pattern: its address
        self.note = note

    @property
    def methods(self) -> set[str]:
        return {m for c in self.cases for m in (GET, POST) if c.tokens(m) is not None}


def _foreign_tokens(spec: str | None, *, per_user: bool) -> str | None:
    """A role's token on a foreign object, from its token on its own one."""
    if spec is None:
        return None
    out = []
    for role, token in zip(ROLES, row(spec), strict=True):
        same = token in REFUSED_BEFORE_LOOKUP or role == ANONYMOUS or (role in HEAD_OFFICE and not per_user)
        out.append(token if same else "404")
    return " ".join(out)


def scoped(
    kwargs: Builder,
    *,
    get: str | None = None,
    post: str | None = None,
    get_foreign: str | None = None,
    post_foreign: str | None = None,
    per_user: bool = False,
    label: str = "",
    **options,
) -> tuple[Case, Case]:
    prefix = f"{label}-" if label else ""
    own = Case(label=f"{prefix}own", kwargs=kwargs, get=get, post=post, **options)
    foreign = replace(
        own,
        label=f"{prefix}foreign",
        foreign=True,
        get=get_foreign or _foreign_tokens(get, per_user=per_user),
        post=post_foreign or _foreign_tokens(post, per_user=per_user),
    )
    return own, foreign


def _today(days: int = 0) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


# --- rows used often -----------------------------------------------------------------

EVERYONE = "200 200 200 200 200 200 200 200 login"
CUSTOMER_VIEWERS = "200 403 200 200 200 200 200 200 login"  # customers.view_customer
CUSTOMER_WORKERS_GET = "403 403 200 403 200 200 200 200 login"  # change_customer etc.
CUSTOMER_WORKERS_POST = "403 403 302w 403 302w 302w 302w 302w login"
MARKETING_READERS = "403 403 200 200 200 200 200 200 login"  # marketing's _READ
BM_ONLY_GET = "403 403 200 403 403 403 403 403 login"
BM_ONLY_POST = "403 403 302w 403 403 403 403 403 login"
BRANCH_WORK_GET = "403 403 200 403 200 403 403 403 login"  # vip.assign/recall_customer
BRANCH_WORK_POST = "403 403 302w 403 302w 403 403 403 login"
CMS_ONLY_GET = "403 403 403 403 403 200 200 200 login"
CMS_ONLY_POST = "403 403 403 403 403 302w 302w 302w login"
# The admin site's own views send anonymous to the admin's login address (they
# are exempt from the login-required middleware); its model pages do not.
STAFF_ONLY = "200 200 adminlogin 200 adminlogin adminlogin adminlogin adminlogin adminlogin"


def _customer(kind: str = "main") -> Builder:
    return lambda w, s: {"customer_no": w.no(kind, s.who)}


def _of(name: str, key: str | None = None) -> Builder:
    """{"pk": world.objects[name][key]} (key: "who" or "user" for the subject's)."""

    def build(w: World, s: Subject) -> dict[str, Any]:
        value = w.objects[name]
        if key == "who":
            value = value[s.who]
        elif key == "user":
            value = value[s.user]
        elif key is not None:
            value = value[key]
        return {"pk": value.pk}

    return build


def _password_change_data(w: World, s: Subject) -> dict[str, Any]:
    return {
        "old_password": settings.DEMO_PASSWORD,
        "new_password1": "Harness-Changed-2027!",
        "new_password2": "Harness-Changed-2027!",
    }


def _user_request_data(w: World, s: Subject) -> dict[str, Any]:
    return {
        "username": "harness_new",
        "employee_no": "HN0001",
        "display_name": "新同事",
        "branch": w.org[WHO_BRANCH[s.who]].pk,
        "roles": ["client_manager"],
        "password": "Harness-Initial-2026!",
    }


def _customer_create_data(w: World, s: Subject) -> dict[str, Any]:
    from customers.idnumbers import make_resident_id

    return {
        "id_type": "01",
        "id_number": make_resident_id(
            region_code="110108", birth_date=datetime.date(1991, 2, 3), sequence=321
        ),
        "name": "张新客",
        "home_branch": w.org[WHO_BRANCH[s.who]].pk,
    }


def _customer_edit_data(w: World, s: Subject) -> dict[str, Any]:
    customer = w.customer("main", s.who)
    return {
        "name": customer.name,
        "nationality": "CHN",
        "status": "A",
        "occupation": "harness engineer",
        "risk_level": "C5",
        "risk_expiry": "2030-01-01",
        "birthday_calendar": "lunar",
        "consent_call": "on",
        "consent_sms": "on",
        "consent_visit": "on",
    }


def _campaign_data(w: World, s: Subject) -> dict[str, Any]:
    return {
        "name": "新活动",
        "objective": "cross_sell",
        "segment": w.objects["segment"]["head_office"].pk,
        "products": [w.objects["product"]["wealth"].pk],
        "channels": ["call"],
        "budget": "1000",
        "start_date": _today(),
        "end_date": _today(30),
    }


def _campaign_action(status: str, action: str) -> Builder:
    return lambda w, s: {"pk": w.objects["campaign"][status].pk, "action": action}


def _own_segment(w: World, s: Subject) -> dict[str, Any]:
    segments = w.objects["segment"]
    return {"pk": segments.get(s.role, segments["head_office"]).pk}


def _decompose_allocation(w: World, s: Subject) -> dict[str, Any]:
    allocations = w.objects["allocation"]
    if s.foreign:
        return {"pk": allocations["pudong"].pk}
    return {"pk": (allocations["haidian"] if s.role == "demo_bh" else allocations["issued_root"]).pk}


def _decompose_data(w: World, s: Subject) -> dict[str, Any]:
    u, org = w.users, w.org
    if s.foreign:
        return {f"m{u['demo_cm3'].pk}": "30"}
    if s.role == "demo_bh":
        return {f"m{u['demo_cm1'].pk}": "50", f"m{u['demo_cm2'].pk}": "20"}
    return {f"b{org['11000'].pk}": "70", f"b{org['12000'].pk}": "30"}


def _respond_allocation(w: World, s: Subject) -> dict[str, Any]:
    allocations = w.objects["allocation"]
    if s.role == "demo_bh":
        return {"pk": allocations["pudong_pending" if s.foreign else "haidian_pending"].pk}
    return {"pk": allocations["manager"][s.who].pk}


# --- the portal's own URLs ----------------------------------------------------------

URLS: dict[str, Url] = {}

# crm_portal ------------------------------------------------------------------------
URLS["home"] = Url(Case(get=EVERYONE, post=EVERYONE), note="a function view: any method renders it")
URLS["healthz"] = Url(Case(get="200 200 200 200 200 200 200 200 200"))
URLS["readyz"] = Url(Case(get="200 200 200 200 200 200 200 200 200"))
URLS["metrics"] = Url(
    Case(get="200 200 200 200 200 200 200 200 200"),
    note="the test client's address is the host itself (allowed)",
)
URLS["set_language"] = Url(
    Case(
        get="302 302 302 302 302 302 302 302 login",
        post="302 302 302 302 302 302 302 302 login",
        data=lambda w, s: {"language": "en", "next": "/"},
    )
)
URLS["api-schema"] = Url(Case(get="200 200 200 200 200 200 200 200 401"))

# accounts --------------------------------------------------------------------------
URLS["login"] = Url(
    Case(
        get="302 302 302 302 302 302 302 302 200",
        # a logged-in user is sent home; anonymous logs in as demo_cm1
        post="302 302 302 302 302 302 302 302 302w",
        data=lambda w, s: {"username": "demo_cm1", "password": settings.DEMO_PASSWORD},
        actor=lambda s: "demo_cm1",
    )
)
URLS["logout"] = Url(Case(post="302a 302a 302a 302a 302a 302a 302a 302a login"))
URLS["password_change"] = Url(
    Case(
        get=EVERYONE,
        post="302w 302w 302w 302w 302w 302w 302w 302w login",
        data=_password_change_data,
    )
)
URLS["accounts:user_list"] = Url(Case(get="200 403 200 200 200 403 403 403 login"))
URLS["accounts:user_request"] = Url(
    scoped(
        _no_args,
        get="200 403 403 403 200 403 403 403 login",
        post="302w 403 403 403 302w 403 403 403 login",
        # a branch outside the requester's scope is not a choice of the form
        get_foreign="200 403 403 403 200 403 403 403 login",
        post_foreign="302w 403 403 403 200 403 403 403 login",
        data=_user_request_data,
    )
)
URLS["accounts:user_detail"] = Url(
    scoped(
        lambda w, s: {"pk": w.users[WHO_MANAGER[s.who]].pk},
        get="200 403 200 200 200 403 403 403 login",
    )
)
# The actions look the user up in the viewer's scope first (404), then the service
# checks the permission (403).
_USER_ACTION_FOREIGN_REFUSED = "404 404 404 404 login"
URLS["accounts:user_approve"] = Url(
    scoped(
        _of("pending_user", "who"),
        post="302w 403 403 302w 403 403 403 403 login",
        post_foreign="302w 403 403 302w " + _USER_ACTION_FOREIGN_REFUSED,
    )
)
URLS["accounts:user_reject"] = Url(
    scoped(
        _of("pending_user", "who"),
        post="302w 403 403 302w 403 403 403 403 login",
        post_foreign="302w 403 403 302w " + _USER_ACTION_FOREIGN_REFUSED,
        data=lambda w, s: {"reason": "not needed"},
    )
)
URLS["accounts:user_disable"] = Url(
    scoped(
        lambda w, s: {"pk": w.users[WHO_MANAGER[s.who]].pk},
        post="302w 403 403 403 403 403 403 403 login",
        post_foreign="302w 403 403 403 " + _USER_ACTION_FOREIGN_REFUSED,
        data=lambda w, s: {"reason": "left the bank"},
    )
)
URLS["accounts:user_reactivate"] = Url(
    scoped(
        _of("disabled_user", "who"),
        post="302w 403 403 403 302w 403 403 403 login",
        post_foreign="302w 403 403 403 " + _USER_ACTION_FOREIGN_REFUSED,
    )
)
URLS["accounts:audit_list"] = Url(Case(get="200 403 403 200 403 403 403 403 login"))

# REST API ----------------------------------------------------------------------------
API_VIEWERS = "200 403 200 200 200 200 200 200 401"
URLS["customers_api:customer-list"] = Url(Case(get=API_VIEWERS))
URLS["customers_api:customer-search"] = Url(Case(post=API_VIEWERS, data=lambda w, s: {}, json=True))
URLS["customers_api:customer-detail"] = Url(scoped(_customer(), get=API_VIEWERS))
URLS["vip_api:customer-vip"] = Url(scoped(_customer(), get=API_VIEWERS))
# performance figures: every role has a data scope; a period the world has not
# computed is a 404, and a period that is not one is refused (400)
for _name in ("performance_api:managers", "performance_api:branches", "performance_api:scorecard"):
    URLS[_name] = Url(
        Case(
            label="not computed",
            get="404 404 404 404 404 404 404 404 401",
            query=lambda w, s: {"period": "1999-01"},
        ),
        Case(
            label="not a period",
            get="400 400 400 400 400 400 400 400 401",
            query=lambda w, s: {"period": "1999-13"},
        ),
    )
# the caller's own scorecard of a computed period (null scores where no scheme applies)
URLS["performance_api:scorecard"] = Url(
    *URLS["performance_api:scorecard"].cases,
    Case(
        label="computed", get="200 200 200 200 200 200 200 200 401", query=lambda w, s: {"period": "2026-02"}
    ),
)

# customers -----------------------------------------------------------------------------
URLS["customers:list"] = Url(Case(get=CUSTOMER_VIEWERS))
URLS["customers:search"] = Url(
    Case(post="303 403 303 303 303 303 303 303 login", data=lambda w, s: {"q": "王"})
)
URLS["customers:create"] = Url(
    scoped(
        _no_args,
        get=CUSTOMER_WORKERS_GET,
        post=CUSTOMER_WORKERS_POST,
        get_foreign=CUSTOMER_WORKERS_GET,
        # a home branch outside the user's branches is not a choice of the form
        post_foreign="403 403 302w 403 400 400 400 400 login",
        data=_customer_create_data,
    )
)
QUALITY_VIEWERS = "403 403 200 200 200 403 403 403 login"
URLS["customers:quality_queue"] = Url(Case(get=QUALITY_VIEWERS))
URLS["customers:quality_compare"] = Url(scoped(_of("single_issue", "who"), get=QUALITY_VIEWERS))
URLS["customers:quality_merge"] = Url(
    scoped(
        _of("pair_issue", "who"),
        post=BM_ONLY_POST,
        data=lambda w, s: {"survivor": w.no("dup_a", s.who), "reason": "same person"},
    )
)
URLS["customers:quality_dismiss"] = Url(
    scoped(
        _of("single_issue", "who"),
        post=BM_ONLY_POST,
        data=lambda w, s: {"dismiss-reason": "checked, nothing missing"},
    )
)
EXPORTERS = "403 403 200 200 200 403 403 403 login"
URLS["customers:export_list"] = Url(Case(get=EXPORTERS))
URLS["customers:export_start"] = Url(
    Case(post="403 403 302w 302w 302w 403 403 403 login", data=lambda w, s: {"q": ""})
)
URLS["customers:export_detail"] = Url(scoped(_of("export", "user"), get=EXPORTERS, per_user=True))
URLS["customers:export_download"] = Url(scoped(_of("export", "user"), get=EXPORTERS, per_user=True))
URLS["customers:detail"] = Url(
    scoped(_customer(), get=CUSTOMER_VIEWERS),
    # a customer number that does not exist answers like a foreign one
    Case(
        label="missing",
        kwargs=lambda w, s: {"customer_no": "999999999999"},
        get="404 403 404 404 404 404 404 404 login",
    ),
)
URLS["customers:edit"] = Url(
    scoped(_customer(), get=CUSTOMER_WORKERS_GET, post=CUSTOMER_WORKERS_POST, data=_customer_edit_data)
)
URLS["customers:reveal"] = Url(
    scoped(
        _customer(),
        post="403 403 200a 403 200a 200a 200a 200a login",
        data=lambda w, s: {"field": "id_number", "reason": "customer on the phone"},
    )
)
URLS["customers:log_interaction"] = Url(
    scoped(
        _customer(),
        post=CUSTOMER_WORKERS_POST,
        data=lambda w, s: {"kind": "call", "subject": "harness call"},
    )
)
URLS["customers:add_contact"] = Url(
    scoped(
        _customer(),
        post=CUSTOMER_WORKERS_POST,
        data=lambda w, s: {"type": "EMAIL", "value": "harness@example.com"},
    )
)

# vip ------------------------------------------------------------------------------------
URLS["vip:my_customers"] = Url(
    Case(get=CUSTOMER_VIEWERS),
    # a manager's book by employee number: a colleague's is not for a client manager,
    # another branch's manager not for a branch head
    scoped(
        _no_args,
        get=CUSTOMER_VIEWERS,
        query=lambda w, s: {"manager": w.emp(WHO_MANAGER[s.who])},
        label="manager",
    ),
)
URLS["vip:pool"] = Url(
    scoped(
        _no_args,
        get=BRANCH_WORK_GET,
        post=BRANCH_WORK_POST,
        get_foreign=BRANCH_WORK_GET,
        # the pool assigns only what the user sees: a foreign customer (and a manager
        # outside the branches) is left alone, back to the page with a message
        post_foreign="403 403 302w 403 302 403 403 403 login",
        data=lambda w, s: {
            "customer": [w.no("pool", s.who)],
            "manager": w.emp(WHO_MANAGER[s.who]),
            "reason": "new accounts",
        },
    )
)
URLS["vip:approvals"] = Url(Case(get="200 200 200 403 200 200 200 200 login"))
URLS["vip:managers"] = Url(Case(get=BRANCH_WORK_GET))
URLS["vip:manager_recall"] = Url(
    scoped(
        lambda w, s: {"employee_no": w.emp(WHO_MANAGER[s.who])},
        get=BRANCH_WORK_GET,
        post=BRANCH_WORK_POST,
        data=lambda w, s: {"reason": "left the bank"},
    )
)
URLS["vip:batch_start"] = Url(
    scoped(
        _no_args,
        get=BRANCH_WORK_GET,
        post=BRANCH_WORK_POST,
        get_foreign=BRANCH_WORK_GET,
        # a manager outside the branches is not a choice of the form
        post_foreign="403 403 302w 403 400 403 403 403 login",
        data=lambda w, s: {
            "source": "search",
            "q": "",
            "to_manager": w.emp(WHO_MANAGER[s.who]),
            "reason": "harness batch",
        },
    )
)
URLS["vip:batch"] = Url(
    scoped(_of("batch", "user"), get=BRANCH_WORK_GET, post=BRANCH_WORK_POST, per_user=True),
    Case(
        label="cancel",
        kwargs=_of("batch", "user"),
        post=BRANCH_WORK_POST,
        data=lambda w, s: {"cancel": "1"},
    ),
)
URLS["vip:batch_errors"] = Url(scoped(_of("batch", "user"), get=BRANCH_WORK_GET, per_user=True))
URLS["vip:reports"] = Url(Case(get="403 403 200 200 200 403 403 403 login"))
URLS["vip:report_export"] = Url(Case(get="403 403 200a 403 200a 403 403 403 login"))
URLS["vip:prospects"] = Url(
    scoped(
        _no_args,
        get="403 403 200 403 200 200 200 200 login",
        post=CUSTOMER_WORKERS_POST,
        get_foreign="403 403 200 403 200 200 200 200 login",
        data=lambda w, s: {
            "customer_no": w.no("main", s.who),
            "source": "assets_elsewhere",
            "estimated_assets": "500000",
        },
    )
)
URLS["vip:prospect_close"] = Url(
    scoped(
        _of("prospect", "who"),
        post=CUSTOMER_WORKERS_POST,
        data=lambda w, s: {"outcome": "lost", "note": "went elsewhere"},
    )
)
URLS["vip:parameters"] = Url(Case(get="200 200 200 200 403 403 403 403 login"))
URLS["vip:transfer_approve"] = Url(
    scoped(_of("transfer", "who"), post=BRANCH_WORK_POST, data=lambda w, s: {"note": "fine"})
)
URLS["vip:transfer_reject"] = Url(
    scoped(_of("transfer", "who"), post=BRANCH_WORK_POST, data=lambda w, s: {"note": "not now"})
)
URLS["vip:transfer_cancel"] = Url(
    scoped(
        _of("transfer", "who"),
        # only the requester cancels; another user who may act on transfers is told so
        post="403 403 302 403 302 302w 302w 302w login",
        post_foreign="403 403 302 403 404 404 404 404 login",
    )
)
PARAMETER_APPROVERS = "302w 302w 403 403 403 403 403 403 login"
URLS["vip:proposal_approve"] = Url(Case(kwargs=_of("proposal_other"), post=PARAMETER_APPROVERS))
URLS["vip:proposal_reject"] = Url(
    Case(kwargs=_of("proposal_other"), post=PARAMETER_APPROVERS, data=lambda w, s: {"note": "not convinced"})
)
URLS["vip:proposal_withdraw"] = Url(
    Case(kwargs=_of("proposal_own"), post="403 302w 403 403 403 403 403 403 login")
)
URLS["vip:customer"] = Url(scoped(_customer(), get=CUSTOMER_VIEWERS))
URLS["vip:assign"] = Url(
    scoped(
        _customer("pool"),
        post=BRANCH_WORK_POST,
        data=lambda w, s: {"manager": w.emp(WHO_MANAGER[s.who]), "reason": "new accounts"},
    )
)
URLS["vip:transfer"] = Url(
    scoped(
        _customer(),
        post=CUSTOMER_WORKERS_POST,
        data=lambda w, s: {"manager": w.emp(WHO_COLLEAGUE[s.who]), "reason": "moving away"},
    )
)
URLS["vip:recall"] = Url(
    scoped(_customer(), post=BRANCH_WORK_POST, data=lambda w, s: {"reason": "back to the pool"})
)
URLS["vip:split_set"] = Url(
    scoped(
        _customer(),
        post=BRANCH_WORK_POST,
        data=lambda w, s: {"manager": w.emp(WHO_COLLEAGUE[s.who]), "share": "30", "reason": "joint care"},
    )
)
URLS["vip:split_end"] = Url(
    scoped(
        _customer("split"), post=BRANCH_WORK_POST, data=lambda w, s: {"split_end-reason": "no longer assists"}
    )
)
URLS["vip:share"] = Url(
    scoped(
        _customer(),
        post=CUSTOMER_WORKERS_POST,
        data=lambda w, s: {
            "with_user": w.emp(WHO_COLLEAGUE[s.who]),
            "until": _today(7),
            "reason": "holiday cover",
        },
    )
)
URLS["vip:share_revoke"] = Url(
    scoped(
        lambda w, s: {"customer_no": w.no("shared", s.who), "grant_id": w.objects["grant"][s.who].pk},
        post=CUSTOMER_WORKERS_POST,
        data=lambda w, s: {"note": "back from holiday"},
    )
)
URLS["vip:override"] = Url(
    scoped(
        _customer(),
        post=BM_ONLY_POST,
        data=lambda w, s: {"tier": "platinum", "expires_on": _today(30), "reason": "board decision"},
    )
)
URLS["vip:override_end"] = Url(
    scoped(
        _customer("overridden"),
        post=BM_ONLY_POST,
        data=lambda w, s: {"end-reason": "board changed its mind"},
    )
)
URLS["vip:register"] = Url(
    scoped(
        _customer(),
        post=BM_ONLY_POST,
        data=lambda w, s: {"benefits": "airport lounge", "registered_on": _today()},
    )
)
URLS["vip:liquidate"] = Url(
    scoped(
        _customer("registered"),
        post=BM_ONLY_POST,
        data=lambda w, s: {"reason": "moved abroad", "liquidated_on": _today()},
    )
)

# marketing ------------------------------------------------------------------------------
URLS["marketing:campaign_list"] = Url(Case(get=MARKETING_READERS))
URLS["marketing:campaign_create"] = Url(Case(get=BM_ONLY_GET, post=BM_ONLY_POST, data=_campaign_data))
_RUNNING = _of("campaign", "running")
_DRAFT = _of("campaign", "draft")
# campaigns that are not running (or were not) exist for head office only
HEAD_OFFICE_ONLY = "403 403 200 200 404 404 404 404 login"
URLS["marketing:campaign_detail"] = Url(
    Case(label="running", kwargs=_RUNNING, get=MARKETING_READERS),
    Case(label="draft", kwargs=_DRAFT, get=HEAD_OFFICE_ONLY),
)
URLS["marketing:campaign_edit"] = Url(
    Case(
        label="draft",
        kwargs=_DRAFT,
        get=BM_ONLY_GET,
        post=BM_ONLY_POST,
        data=lambda w, s: {**_campaign_data(w, s), "name": "草稿活动(改)"},
    )
)
URLS["marketing:target_list"] = Url(
    Case(label="running", kwargs=_RUNNING, get=MARKETING_READERS),
    Case(label="draft", kwargs=_DRAFT, get=HEAD_OFFICE_ONLY),
)
URLS["marketing:campaign_export"] = Url(
    Case(label="running", kwargs=_RUNNING, get="403 403 200a 403 200a 403 403 403 login")
)
# moving a campaign along needs the right to change, approve or run campaigns first
_NOT_LIVE_ACTION = BM_ONLY_POST
URLS["marketing:campaign_action"] = Url(
    Case(label="close", kwargs=_campaign_action("running", "close"), post=BM_ONLY_POST),
    Case(label="submit", kwargs=_campaign_action("draft", "submit"), post=_NOT_LIVE_ACTION),
    Case(label="approve", kwargs=_campaign_action("submitted", "approve"), post=_NOT_LIVE_ACTION),
    Case(
        label="reject",
        kwargs=_campaign_action("submitted", "reject"),
        post=_NOT_LIVE_ACTION,
        data=lambda w, s: {"comment": "budget too high"},
    ),
    Case(label="start", kwargs=_campaign_action("approved", "start"), post=_NOT_LIVE_ACTION),
    Case(label="revise", kwargs=_campaign_action("rejected", "revise"), post=_NOT_LIVE_ACTION),
    Case(
        label="evaluate",
        kwargs=_campaign_action("closed", "evaluate"),
        post=BM_ONLY_POST,
        data=lambda w, s: {"evaluation": "worked well", "actual_cost": "900"},
    ),
    Case(
        label="unknown-action",
        kwargs=_campaign_action("running", "explode"),
        post="403 403 404 404 404 404 404 404 login",
    ),
)
URLS["marketing:my_targets"] = Url(Case(get=CMS_ONLY_GET))
URLS["marketing:target_detail"] = Url(scoped(_of("target", "who"), get=MARKETING_READERS))
URLS["marketing:log_contact"] = Url(
    scoped(
        _of("target", "who"),
        get=CMS_ONLY_GET,
        post=CMS_ONLY_POST,
        data=lambda w, s: {"channel": "visit", "outcome": "interested"},
    )
)
URLS["marketing:target_opportunity"] = Url(
    scoped(
        _of("target", "who"),
        get=CMS_ONLY_GET,
        post=CMS_ONLY_POST,
        data=lambda w, s: {
            "product": w.objects["product"]["wealth"].pk,
            "expected_amount": "50000",
            "expected_close_date": "2030-01-01",
        },
    )
)
SEGMENT_READERS = "403 403 200 200 200 403 403 403 login"
URLS["marketing:segment_list"] = Url(Case(get=SEGMENT_READERS))
URLS["marketing:segment_create"] = Url(
    Case(
        get=BRANCH_WORK_GET, post=BRANCH_WORK_POST, data=lambda w, s: {"name": "高净值", "aum_min": "1000000"}
    )
)
URLS["marketing:segment_preview"] = Url(
    Case(post="403 403 200 200 200 403 403 403 login", data=lambda w, s: {"aum_min": "50000"})
)
_SEGMENT_DATA: Builder = lambda w, s: {"name": "改名客群", "aum_min": "2000"}  # noqa: E731
URLS["marketing:segment_edit"] = Url(
    # the role's own segment (head office's for the others)
    Case(label="own", kwargs=_own_segment, get=BRANCH_WORK_GET, post=BRANCH_WORK_POST, data=_SEGMENT_DATA),
    # another branch head's segment
    Case(
        label="foreign",
        kwargs=lambda w, s: {"pk": w.objects["segment"]["bh_11000"].pk},
        foreign=True,
        get="403 403 200 403 404 403 403 403 login",
        post="403 403 302w 403 404 403 403 403 login",
        data=_SEGMENT_DATA,
    ),
    # head office's segment: a branch head reads it but may not change it
    Case(
        label="head-office",
        kwargs=lambda w, s: {"pk": w.objects["segment"]["head_office"].pk},
        get=BRANCH_WORK_GET,
        post="403 403 302w 403 403 403 403 403 login",
        data=_SEGMENT_DATA,
    ),
)
URLS["marketing:product_list"] = Url(Case(get="403 200 200 200 200 200 200 200 login"))
URLS["marketing:opportunity_list"] = Url(Case(get=MARKETING_READERS))
URLS["marketing:lead_create"] = Url(
    scoped(
        _no_args,
        get=CMS_ONLY_GET,
        post=CMS_ONLY_POST,
        get_foreign=CMS_ONLY_GET,
        # a customer outside the scope is "no customer with this number" on the form
        post_foreign="403 403 403 403 403 400 400 400 login",
        data=lambda w, s: {
            "customer_no": w.no("main", s.who),
            "product": w.objects["product"]["deposit"].pk,
            "expected_amount": "5000",
            "expected_close_date": "2030-01-01",
        },
    )
)
URLS["marketing:opportunity_detail"] = Url(
    scoped(
        _of("opportunity", "who"),
        get=MARKETING_READERS,
        post=CMS_ONLY_POST,
        data=lambda w, s: {"amount": "5000", "sale_date": _today()},
        label="win",
    ),
    Case(
        label="advance",
        kwargs=_of("opportunity", "who"),
        post=CMS_ONLY_POST,
        data=lambda w, s: {"stage": "proposal"},
    ),
)
URLS["marketing:task_list"] = Url(Case(get=MARKETING_READERS))
URLS["marketing:task_create"] = Url(
    Case(
        get=BM_ONLY_GET,
        post=BM_ONLY_POST,
        data=lambda w, s: {
            "name": "新任务",
            "indicator": "sales_amount",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "target": "100",
        },
    )
)


def _library_indicator(w: World, s: Subject) -> dict[str, Any]:
    from marketing.models import Indicator

    return {"pk": Indicator.objects.get(code="sales_count").pk}


def _indicator_data(w: World, s: Subject) -> dict[str, Any]:
    return {
        "code": "wealth_sales_count",
        "name": "理财产品销售笔数",
        "kind": "sales_count",
        "params": '{"categories": ["WEALTH"]}',
        "unit": "count",
        "direction": "higher",
        "description": "",
        "active": "on",
    }


# the indicator library: read by marketing's readers, written by the business manager
URLS["marketing:indicator_list"] = Url(Case(get=MARKETING_READERS))
URLS["marketing:indicator_create"] = Url(Case(get=BM_ONLY_GET, post=BM_ONLY_POST, data=_indicator_data))
URLS["marketing:indicator_edit"] = Url(
    Case(kwargs=_library_indicator, get=BM_ONLY_GET, post=BM_ONLY_POST, data=_indicator_data)
)

URLS["marketing:task_detail"] = Url(
    # issued, head office's share only: nobody below head office holds a share yet
    Case(label="issued", kwargs=_of("task", "issued"), get=HEAD_OFFICE_ONLY),
    Case(label="decomposed", kwargs=_of("task", "decomposed"), get=MARKETING_READERS),
)
URLS["marketing:task_issue"] = Url(Case(label="draft", kwargs=_of("task", "draft"), post=BM_ONLY_POST))
URLS["marketing:task_export"] = Url(
    Case(label="issued", kwargs=_of("task", "issued"), get="403 403 200a 403 404 403 403 403 login"),
    Case(label="decomposed", kwargs=_of("task", "decomposed"), get="403 403 200a 403 200a 403 403 403 login"),
)
URLS["marketing:decompose"] = Url(
    # head office decomposes its share, demo_bh 11100's
    Case(kwargs=_decompose_allocation, get=BRANCH_WORK_GET, post=BRANCH_WORK_POST, data=_decompose_data),
    # Shanghai's share: head office may decompose any branch's share; for demo_bh
    # it is outside the branches
    Case(
        label="foreign",
        kwargs=_decompose_allocation,
        foreign=True,
        get="403 403 200 403 404 403 403 403 login",
        post="403 403 302w 403 404 403 403 403 login",
        data=_decompose_data,
    ),
)
URLS["marketing:respond"] = Url(
    # a manager's share of the decomposed task; 11100's share for demo_bh
    Case(
        kwargs=_respond_allocation,
        post="403 403 403 403 302w 302w 302w 302w login",
        data=lambda w, s: {"decision": "accept"},
    ),
    # a colleague's share (12100's for demo_bh)
    Case(
        label="foreign",
        kwargs=_respond_allocation,
        foreign=True,
        post="403 403 403 403 404 404 404 404 login",
        data=lambda w, s: {"decision": "accept"},
    ),
)

# performance ------------------------------------------------------------------------------
URLS["performance:ftp"] = Url(
    Case(
        get="200 200 200 200 403 403 403 403 login",
        post="403 302w 403 403 403 403 403 403 login",
        data=lambda w, s: {"period": "", "DEP_CUR": "0.0190", "LOAN_BUSINESS": "0.0175", "reason": "curve"},
    ),
    # refused by the service (5 decimals): the form again, nothing kept
    Case(
        label="invalid",
        post="403 400 403 403 403 403 403 403 login",
        data=lambda w, s: {"period": "", "DEP_CUR": "0.02005", "reason": "curve"},
    ),
)
FTP_APPROVERS = "302w 302w 403 403 403 403 403 403 login"
URLS["performance:ftp_approve"] = Url(Case(kwargs=_of("ftp_other"), post=FTP_APPROVERS))
URLS["performance:ftp_reject"] = Url(
    Case(kwargs=_of("ftp_other"), post=FTP_APPROVERS, data=lambda w, s: {"note": "not convinced"})
)
URLS["performance:ftp_withdraw"] = Url(
    Case(kwargs=_of("ftp_own"), post="403 302w 403 403 403 403 403 403 login")
)
# The figures pages: every role has a data scope (the world computed February 2026:
# each client manager has figures). The branch ranking and the downloads are a branch
# head's and head office's; a download is audited. A manager's customers: a client
# manager opens their own, a branch head their subtree's managers (others: 404).
FIGURES_BOARD_GET = "200 200 200 200 200 403 403 403 login"
FIGURES_EXPORT = "200a 200a 200a 200a 200a 403 403 403 login"
_NOT_A_PERIOD = {"period": "1999-13"}
_FIGURES_MANAGER: Builder = lambda w, s: {"employee_no": w.emp(WHO_MANAGER[s.who])}  # noqa: E731
URLS["performance:figures"] = Url(
    Case(get=EVERYONE),
    Case(label="not a period", get="400 400 400 400 400 400 400 400 login", query=lambda w, s: _NOT_A_PERIOD),
)
URLS["performance:branches"] = Url(
    Case(get=FIGURES_BOARD_GET),
    Case(label="not a period", get="400 400 400 400 400 403 403 403 login", query=lambda w, s: _NOT_A_PERIOD),
)
URLS["performance:board_export"] = Url(
    Case(get=FIGURES_EXPORT),
    Case(label="not a period", get="400 400 400 400 400 403 403 403 login", query=lambda w, s: _NOT_A_PERIOD),
)
URLS["performance:manager"] = Url(scoped(_FIGURES_MANAGER, get=EVERYONE))
URLS["performance:manager_export"] = Url(scoped(_FIGURES_MANAGER, get=FIGURES_EXPORT))
# A branch pool's customers and their days: a branch head's subtree and head office.
_POOL: Builder = lambda w, s: {"branch_code": WHO_BRANCH[s.who]}  # noqa: E731
URLS["performance:pool"] = Url(scoped(_POOL, get=FIGURES_BOARD_GET))
URLS["performance:pool_customer_days"] = Url(
    scoped(
        lambda w, s: {"branch_code": WHO_BRANCH[s.who], "customer_no": w.no("pool", s.who)},
        get=FIGURES_BOARD_GET,
        query=lambda w, s: {"period": "2026-02"},
    )
)
# Below a customer's row: the credited days (whoever may open the manager's figures);
# the manager disputes days from there (a "mine" claim on their outlet's pool customer).
_DAYS_OF_MAIN: Builder = lambda w, s: {  # noqa: E731
    "employee_no": w.emp(WHO_MANAGER[s.who]),
    "customer_no": w.no("main", s.who),
}
_DAYS_OF_POOL: Builder = lambda w, s: {  # noqa: E731
    "employee_no": w.emp(WHO_MANAGER[s.who]),
    "customer_no": w.no("pool", s.who),
}
URLS["performance:customer_days"] = Url(
    scoped(_DAYS_OF_MAIN, get=EVERYONE, query=lambda w, s: {"period": "2026-02"}),
    scoped(
        _DAYS_OF_POOL,
        label="dispute",
        post=CMS_ONLY_POST,
        query=lambda w, s: {"period": "2026-02"},
        data=lambda w, s: {
            "claim": "mine",
            "first_day": "2026-02-27",
            "last_day": "2026-02-27",
            "reason": "I opened this account",
        },
    ),
)
# Disputes: the managers' own, and their branch heads' to decide (others: 403)
URLS["performance:disputes"] = Url(Case(get="403 403 403 403 200 200 200 200 login"))
DISPUTE_DECIDERS = "403 403 403 403 302w 403 403 403 login"
URLS["performance:dispute_approve"] = Url(scoped(_of("dispute", "who"), post=DISPUTE_DECIDERS))
URLS["performance:dispute_reject"] = Url(
    scoped(_of("dispute", "who"), post=DISPUTE_DECIDERS, data=lambda w, s: {"note": "not convinced"})
)
# Periods and publication: head office reads (the auditor too); business managers
# propose closing a period; another business manager or a system administrator
# decides bm2's proposal to close February; only its proposer withdraws it.
PERIOD_READERS = "200 403 200 200 403 403 403 403 login"
PUBLICATION_DECIDERS = "302w 403 302w 403 403 403 403 403 login"
URLS["performance:periods"] = Url(
    Case(
        get=PERIOD_READERS,
        post=BM_ONLY_POST,
        data=lambda w, s: {"period": "2026-03", "reason": "March closed"},
    ),
    Case(
        label="not a period",
        post="403 403 400 403 403 403 403 403 login",
        data=lambda w, s: {"period": "2026-13", "reason": "March closed"},
    ),
)
URLS["performance:period"] = Url(
    Case(kwargs=lambda w, s: {"code": "2026-02"}, get=PERIOD_READERS),
    Case(
        label="no figures",
        kwargs=lambda w, s: {"code": "2031-01"},
        get="404 403 404 404 403 403 403 403 login",
    ),
)
URLS["performance:publication_approve"] = Url(Case(kwargs=_of("publication"), post=PUBLICATION_DECIDERS))
URLS["performance:publication_reject"] = Url(
    Case(kwargs=_of("publication"), post=PUBLICATION_DECIDERS, data=lambda w, s: {"note": "not yet"})
)
# demo_bm is not its proposer: refused with a message, nothing changes
URLS["performance:publication_withdraw"] = Url(
    Case(kwargs=_of("publication"), post="403 403 302 403 403 403 403 403 login")
)
# Assessment schemes: business managers change them, auditors read; bm2's scheme of
# February waits for another business manager (approving it scores February).
SCHEME_READERS = "403 403 200 200 403 403 403 403 login"
URLS["performance:schemes"] = Url(
    Case(
        get=SCHEME_READERS,
        post=BM_ONLY_POST,
        data=lambda w, s: {"period": "2026-03", "role": "outlet", "name": "Outlets"},
    )
)
URLS["performance:scheme"] = Url(
    Case(
        kwargs=_of("scheme_pending"),
        get=SCHEME_READERS,
        post=BM_ONLY_POST,
        data=lambda w, s: {"action": "approve"},
    )
)
URLS["performance:whatif"] = Url(Case(kwargs=_of("scheme_pending"), get=SCHEME_READERS))


# --- the admin's own views (the generated model pages follow ADMIN_MODELS) -----------

SYSADMIN_ONLY = "200 403 adminlogin 403 adminlogin adminlogin adminlogin adminlogin login"
# the admin's own pages render whatever the method
URLS["admin:index"] = Url(Case(get=STAFF_ONLY), probe_status="200")
URLS["admin:app_list"] = Url(
    Case(kwargs=lambda w, s: {"app_label": "accounts"}, get=STAFF_ONLY), probe_status="200"
)
URLS["admin_login_redirect"] = Url(Case(get=" ".join(["login"] * len(ROLES))))
URLS["admin:login"] = Url(
    Case(get=" ".join(["login"] * len(ROLES))),
    note="shadowed by admin_login_redirect (same address, listed first)",
)
# staff log out (to the login page); anyone else is sent to the admin's index
URLS["admin:logout"] = Url(Case(post="302a 302a 302 302a 302 302 302 302 adminlogin"))
# the admin's password form redirects to the portal's (its rules and audit event)
_TO_PASSWORD_PAGE = " ".join(["302"] * (len(ROLES) - 1) + ["login"])
URLS["admin_password_change_redirect"] = Url(
    Case(get=_TO_PASSWORD_PAGE, post=_TO_PASSWORD_PAGE, data=_password_change_data), probe_status="302"
)
URLS["admin:password_change"] = Url(
    Case(get=_TO_PASSWORD_PAGE, post=_TO_PASSWORD_PAGE, data=_password_change_data),
    note="shadowed by admin_password_change_redirect (same address, listed first)",
)
URLS["admin:password_change_done"] = Url(Case(get=STAFF_ONLY))
URLS["admin:autocomplete"] = Url(
    Case(
        get=STAFF_ONLY,
        query=lambda w, s: {"app_label": "accounts", "model_name": "branch", "field_name": "parent"},
    )
)
URLS["admin:jsi18n"] = Url(Case(get=STAFF_ONLY))


def _branch_on_site(w: World, s: Subject) -> dict[str, Any]:
    from django.contrib.contenttypes.models import ContentType

    head_office = w.org["10000"]
    return {
        "content_type_id": ContentType.objects.get_for_model(head_office).pk,
        "object_id": head_office.pk,
    }


URLS["admin:view_on_site"] = Url(
    Case(
        kwargs=_branch_on_site,
        # no model of the portal has a page of its own to show
        get="404 404 adminlogin 404 adminlogin adminlogin adminlogin adminlogin adminlogin",
    )
)
# the admin's catch-all (unnamed): an unknown admin address
URLS["admin/(?P<url>.*)$"] = Url(
    Case(get="404 404 adminlogin 404 adminlogin adminlogin adminlogin adminlogin adminlogin"),
    path=lambda w, s: "/admin/no-such-page/",
)


def _not_a_zip():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("20260303.zip", b"this is not a zip archive", content_type="application/zip")


# the custom views of the batch loads (customers/admin.py)
_LOADED = _of("load_loaded")
URLS["admin:customers_batchload_upload"] = Url(
    Case(
        get=SYSADMIN_ONLY,
        # a file that is not a batch: refused on the form, nothing recorded
        post=SYSADMIN_ONLY,
        data=lambda w, s: {"archive": _not_a_zip()},
    )
)
URLS["admin:customers_batchload_progress"] = Url(
    Case(kwargs=_LOADED, get=SYSADMIN_ONLY, htmx=True), probe_status="200"
)
URLS["admin:customers_batchload_errors"] = Url(
    Case(kwargs=_LOADED, get="200a 403 adminlogin 403 adminlogin adminlogin adminlogin adminlogin login"),
    probe_status="200a",  # any method downloads it
)
SYSADMIN_WRITE = "302w 403 adminlogin 403 adminlogin adminlogin adminlogin adminlogin login"
URLS["admin:customers_batchload_again"] = Url(
    Case(kwargs=_of("load_failed"), post=SYSADMIN_WRITE), probe_status="403"
)
URLS["admin:customers_batchload_after_load"] = Url(
    Case(kwargs=_LOADED, post=SYSADMIN_WRITE), probe_status="403"
)


# --- Django admin's generated model pages ----------------------------------------------


@dataclass(frozen=True)
class AdminRule:
    """Which staff roles (demo_admin, demo_pm, demo_audit) the admin lets do what
    with a model; everybody else is sent to the admin's login."""

    view: frozenset[str] = frozenset()
    add: frozenset[str] = frozenset()
    change: frozenset[str] = frozenset()
    delete: frozenset[str] = frozenset()
    import_: frozenset[str] = frozenset()
    export: frozenset[str] = frozenset()

    def status(self, page: str, role: str) -> str:
        if role == ANONYMOUS:
            return "login"  # the login-required middleware sends anonymous to the login page first
        if role not in STAFF:
            return "adminlogin"
        if page == "object":
            return "302"  # to the change page
        if page == "process_import":
            return "405"  # the confirmation of an import is POSTed
        allowed = {
            "changelist": self.view | self.change,
            "change": self.view | self.change,
            "history": self.view | self.change,
            "add": self.add,
            "delete": self.delete,
            "import": self.import_,
            "export": self.export,
            "password": self.change,
        }[page]
        return "200" if role in allowed else "403"


def _roles(*names: str) -> frozenset[str]:
    return frozenset(f"demo_{n}" for n in names)


NOBODY = AdminRule()
ADMIN_MODELS: dict[str, AdminRule] = {
    "auth.group": NOBODY,  # roles are code (accounts.roles), synced on migrate
    "axes.accessattempt": NOBODY,
    "axes.accesslog": NOBODY,
    "axes.accessfailurelog": NOBODY,
    "authtoken.tokenproxy": NOBODY,  # tokens are issued by the command, audited
    "django_celery_beat.periodictask": AdminRule(view=_roles("admin", "pm"), change=_roles("admin", "pm")),
    "django_celery_beat.crontabschedule": AdminRule(
        view=_roles("admin", "pm"), add=_roles("admin", "pm"), change=_roles("admin", "pm")
    ),
    "django_celery_beat.intervalschedule": NOBODY,
    "django_celery_beat.solarschedule": NOBODY,
    "django_celery_beat.clockedschedule": NOBODY,
    "accounts.branch": AdminRule(
        view=_roles("admin", "pm", "audit"),
        add=_roles("admin"),
        change=_roles("admin"),
        import_=_roles("admin"),
        export=_roles("admin", "pm", "audit"),
    ),
    # users are requested and approved in the portal; the admin shows them
    "accounts.user": AdminRule(view=_roles("admin", "audit"), import_=_roles("admin")),
    "accounts.auditevent": AdminRule(view=_roles("admin", "audit")),
    "customers.batchload": AdminRule(view=_roles("admin")),
    # parameters change through proposals, made by parameter managers
    "vip.tierlevel": AdminRule(
        view=_roles("admin", "pm", "audit"),
        add=_roles("pm"),
        change=_roles("pm"),
        import_=_roles("pm"),
        export=_roles("admin", "pm", "audit"),
    ),
    "vip.tierpolicy": AdminRule(view=_roles("admin", "pm", "audit"), change=_roles("pm")),
    "vip.parameterproposal": AdminRule(view=_roles("admin", "pm", "audit")),
    "vip.evaluationrun": AdminRule(view=_roles("admin", "pm", "audit")),
    # the catalogue is the parameter manager's; the auditor reads it
    "marketing.product": AdminRule(
        view=_roles("pm", "audit"),
        add=_roles("pm"),
        change=_roles("pm"),
        import_=_roles("pm"),
        export=_roles("pm", "audit"),
    ),
    "marketing.productchange": AdminRule(view=_roles("pm", "audit")),
    "marketing.contactpolicy": AdminRule(view=_roles("pm", "audit"), add=_roles("pm")),
    # FTP spreads change through proposals (the portal's page); the admin shows them
    "performance.ftpspreads": AdminRule(view=_roles("admin", "pm", "audit")),
    "performance.ftpproposal": AdminRule(view=_roles("admin", "pm", "audit")),
    # schemes change on the portal's pages; the admin shows them to the auditor
    "performance.scheme": AdminRule(view=_roles("audit")),
}

# The generated pages: route suffix after "admin/<app_label>/<model_name>/" -> page.
ADMIN_PAGES = {
    "": "changelist",
    "add/": "add",
    "<path:object_id>/change/": "change",
    "<path:object_id>/delete/": "delete",
    "<path:object_id>/history/": "history",
    "<path:object_id>/": "object",
    "import/": "import",
    "process_import/": "process_import",
    "export/": "export",
    "<id>/password/": "password",
}


# --- parts whose entries live beside their tests (tests/<app>/urls_*.py) -------------

for _part in PARTS:
    import_module(part_module(_part, "urls")).add(sys.modules[__name__])


# --- known defects: (url key, case label, method, role) -> reason -----------------------

DEFECTS: dict[tuple[str, str, str, str], str] = {}


def _defect(key: str, label: str, method: str, roles: str, reason: str) -> None:
    for role in roles.split():
        DEFECTS[(key, label, method, role)] = reason
