"""The URL harness's entries of employers and payroll relationships
(customers.employer_urls); see tests/url_table.py for the format. `t` is that
module.

The employer register is bank-wide: everyone who views customers views it (the
parameter manager does not); registering and editing an employer, linking a
customer and ending a link is the work of the roles who change customers. A
customer typed into the link form outside the user's scope is a form error (400),
a relationship of such a customer a 404."""

from __future__ import annotations

from tests.customers.world_employers import WORLD_EMPLOYER

VIEWERS = "200 403 200 200 200 200 200 200 login"
WORKERS_GET = "403 403 200 403 200 200 200 200 login"
WORKERS_POST = "403 403 302w 403 302w 302w 302w 302w login"
TYPED_FOREIGN = "403 403 302w 403 400 400 400 400 login"


def _employer(w, s) -> dict:
    return {"pk": w.objects["employer"].pk}


def _employer_data(w, s) -> dict:
    from customers.uscc import make_uscc

    return {
        "name": "新登记单位有限公司",
        "uscc": make_uscc("91110105MA00HRN3K"),
        "industry": "C",
        "contact_person": "钱经理",
        "contact_phone": "010-62810009",
    }


def _edit_data(w, s) -> dict:
    from customers.uscc import make_uscc

    return {
        "name": "世界科技股份有限公司",
        "uscc": make_uscc(WORLD_EMPLOYER),
        "industry": "I",
        "contact_person": "赵人事",
        "contact_phone": "",
    }


def add(t) -> None:
    t.URLS["customers:employer_list"] = t.Url(
        t.Case(get=VIEWERS), t.Case(label="search", get=VIEWERS, query=lambda w, s: {"q": "世界"})
    )
    t.URLS["customers:employer_create"] = t.Url(
        t.Case(get=WORKERS_GET, post=WORKERS_POST, data=_employer_data),
        t.Case(
            label="bad check character",
            post="403 403 400 403 400 400 400 400 login",
            data=lambda w, s: {**_employer_data(w, s), "uscc": make_bad()},
        ),
    )
    t.URLS["customers:employer_detail"] = t.Url(t.Case(kwargs=_employer, get=VIEWERS))
    t.URLS["customers:employer_edit"] = t.Url(
        t.Case(kwargs=_employer, get=WORKERS_GET, post=WORKERS_POST, data=_edit_data)
    )
    t.URLS["customers:payroll_link"] = t.Url(
        t.scoped(
            _employer,
            post=WORKERS_POST,
            post_foreign=TYPED_FOREIGN,
            data=lambda w, s: {"customer_no": w.no("unlinked", s.who)},
        ),
        t.Case(
            label="linked twice",
            kwargs=_employer,
            post="403 403 400 403 400 400 400 400 login",
            data=lambda w, s: {"customer_no": w.objects["payroll_link"][s.who].customer.customer_no},
        ),
    )
    t.URLS["customers:payroll_end"] = t.Url(
        t.scoped(lambda w, s: {"pk": w.objects["payroll_link"][s.who].pk}, post=WORKERS_POST)
    )


def make_bad() -> str:
    """A code whose check character is wrong."""
    from customers.uscc import ALPHABET, make_uscc

    good = make_uscc("91110105MA00HRN3K")
    wrong = ALPHABET[(ALPHABET.index(good[-1]) + 1) % len(ALPHABET)]
    return good[:-1] + wrong
