"""The URL harness's entries of the records a manager keeps on the 360 view
(relationships, household, other assets: customers.record_views); see
tests/url_table.py for the format. `t` is that module.

Who records: whoever may change customers (the business manager, branch head and
client managers), on a customer of their scope; a customer outside it is a 404,
a relationship or an asset of such a customer too. Bad input answers 400."""

from __future__ import annotations

WORKERS_GET = "403 403 200 403 200 200 200 200 login"
WORKERS_POST = "403 403 302w 403 302w 302w 302w 302w login"
WORKERS_BAD = "403 403 400 403 400 400 400 400 login"


def add(t) -> None:
    main = lambda w, s: {"customer_no": w.no("main", s.who)}  # noqa: E731

    def relationship(w, s):
        return {"customer_no": w.no("main", s.who), "pk": w.objects["relationship"][s.who].pk}

    def asset(w, s):
        return {"customer_no": w.no("main", s.who), "pk": w.objects["other_asset"][s.who].pk}

    t.URLS["customers:relationship_add"] = t.Url(
        t.scoped(
            main,
            get=WORKERS_GET,
            post=WORKERS_POST,
            data=lambda w, s: {"relation_type": "parent", "related_name": "王父"},
        ),
        t.Case(
            label="no one named", kwargs=main, post=WORKERS_BAD, data=lambda w, s: {"relation_type": "parent"}
        ),
    )
    t.URLS["customers:relationship_edit"] = t.Url(
        t.scoped(
            relationship,
            get=WORKERS_GET,
            post=WORKERS_POST,
            data=lambda w, s: {
                "relation_type": "spouse",
                "related_name": "harness spouse",
                "note": "married 2010",
            },
        )
    )
    t.URLS["customers:relationship_remove"] = t.Url(t.scoped(relationship, post=WORKERS_POST))
    t.URLS["customers:household_edit"] = t.Url(
        t.scoped(
            main, get=WORKERS_GET, post=WORKERS_POST, data=lambda w, s: {"role": "head", "name": "王家"}
        ),
        t.Case(label="unknown role", kwargs=main, post=WORKERS_BAD, data=lambda w, s: {"role": "boss"}),
    )
    t.URLS["customers:household_leave"] = t.Url(
        t.scoped(lambda w, s: {"customer_no": w.no("in_household", s.who)}, post=WORKERS_POST)
    )
    t.URLS["customers:asset_add"] = t.Url(
        t.scoped(
            main,
            get=WORKERS_GET,
            post=WORKERS_POST,
            data=lambda w, s: {"kind": "vehicle", "description": "比亚迪 汉", "estimated_value": "200000"},
        ),
        t.Case(
            label="negative value",
            kwargs=main,
            post=WORKERS_BAD,
            data=lambda w, s: {"kind": "vehicle", "description": "car", "estimated_value": "-1"},
        ),
    )
    t.URLS["customers:asset_edit"] = t.Url(
        t.scoped(
            asset,
            get=WORKERS_GET,
            post=WORKERS_POST,
            data=lambda w, s: {
                "kind": "property",
                "description": "harness flat",
                "estimated_value": "2100000",
            },
        )
    )
    t.URLS["customers:asset_remove"] = t.Url(t.scoped(asset, post=WORKERS_POST))
