"""Benchmark: the customer 360 page, against a straightforward prefetching assembly of
the same data (the fair baseline) and a naive one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/customer_360.py [--customers N] [--samples 200]

On a database seeded with demo customers (``bench/seed_customers.py``; with
``--customers N`` the database is first topped up to N customers), picks random
customers and fetches each one's page ``/customers/<customer_no>/`` through
``django.test.Client`` logged in as ``demo_bm`` (head office, sees everyone) and as
the client manager who owns the customer, counting queries per page
(``CaptureQueriesContext``). Side by side, in the same run, on the same customers:

* the portal's data path alone: ``access_customer`` + ``selectors.customer_360``;
* the fair baseline (``prefetching_360``): what a Django developer writes for the
  same data -- one ``Customer.objects.visible_to(user)`` get with
  ``select_related`` (branch, manager, household) and ``prefetch_related`` of the
  contacts, open accounts, household members (with whether each is in the user's
  scope), other assets, relationships with their related customer (in scope or
  None), the latest 20 interactions and 10 assignments with their managers (sliced
  prefetches); then one query each for what has no reverse relation to prefetch
  (the 13-month AUM trend, the viewer's open reminders, the running campaigns
  targeting the customer); account groups and totals summed in Python;
* a naive baseline: the same data assembled without select_related/prefetch --
  the customer's branch, manager and household fetched lazily, every account's
  branch, every household member's accounts summed in Python, each month of the
  trend, each interaction's and assignment's manager, each related customer.

Before timing, the fair baseline's data is compared with ``customer_360``'s for
every sampled customer, as head office and as the customer's client manager
(printed: customers whose data differs, which must be 0). The headline is the
portal's data path against the fair baseline: p50 and queries.

If the page's URL does not resolve (yet), the "page" rows measure
``access_customer`` + ``customer_360`` + rendering ``customers/customer_detail.html``
when the template exists. Prints p50 / p95 / max in ms and queries per page;
``--json PATH`` also writes these figures to PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_portal.settings.local")
    os.environ.setdefault("DEBUG", "False")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def pick_customers(n: int, seed: int) -> list[tuple[str, int | None]]:
    """`n` random customers (customer number, manager id): random ids in the id range,
    each an index lookup, so it costs the same on 3,000 or 1,000,000 rows."""
    from django.db.models import Max, Min

    from customers.models import Customer

    bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        raise SystemExit("no customers: seed some first (bench/seed_customers.py or --customers N)")
    rng = random.Random(seed)
    found: dict[int, tuple[str, int | None]] = {}
    total = Customer.objects.count()
    for _ in range(50):
        if len(found) >= min(n, total):
            break
        ids = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(2 * n)]
        for pk, no, manager in Customer.objects.filter(pk__in=ids).values_list(
            "pk", "customer_no", "primary_manager_id"
        ):
            if len(found) < n:
                found[pk] = (no, manager)
    picked = list(found.values())
    rng.shuffle(picked)
    return picked


def prefetching_360(user, customer_no: str) -> dict:
    """The 360 data as a straightforward Django view assembles it: select_related
    for the single-valued relations, prefetch_related for the lists."""
    from django.db.models import Exists, OuterRef, Prefetch
    from django.utils import timezone

    from care.models import Alert
    from core.months import month_starts
    from customers.choices import AccountCategory
    from customers.models import (
        Account,
        ContactPoint,
        Customer,
        CustomerAssignment,
        CustomerMonthlyAum,
        Interaction,
        OtherAsset,
        Relationship,
    )
    from marketing.choices import CampaignStatus
    from marketing.models import CampaignTarget

    visible = Customer.objects.visible_to(user)
    c = (
        visible.select_related("home_branch", "primary_manager", "household")
        .prefetch_related(
            Prefetch("contacts", queryset=ContactPoint.objects.order_by("type", "-is_primary", "pk")),
            Prefetch(
                "accounts", queryset=Account.objects.exclude(status="C").order_by("category", "-cny_balance")
            ),
            Prefetch(
                "household__members",
                queryset=Customer.objects.annotate(
                    in_scope=Exists(visible.filter(pk=OuterRef("pk")))
                ).order_by("household_role", "customer_no"),
            ),
            Prefetch("other_assets", queryset=OtherAsset.objects.order_by("kind", "pk")),
            Prefetch("relationships", queryset=Relationship.objects.order_by("relation_type", "pk")),
            Prefetch("relationships__related_customer", queryset=Customer.objects.visible_to(user)),
            Prefetch(
                "interactions",
                queryset=Interaction.objects.select_related("manager").order_by("-occurred_at", "-pk")[:20],
                to_attr="latest_interactions",  # a sliced prefetch needs its own attribute
            ),
            Prefetch(
                "assignments",
                queryset=CustomerAssignment.objects.select_related("manager").order_by("-start_date", "-pk")[
                    :10
                ],
                to_attr="latest_assignments",
            ),
        )
        .get(customer_no=customer_no)
    )
    groups: dict[str, dict] = {}
    for a in c.accounts.all():
        group = groups.setdefault(a.category, {"accounts": [], "total": Decimal(0)})
        group["accounts"].append(a)
        group["total"] += a.cny_balance
    order = list(AccountCategory.values)
    months = month_starts(c.aum_date or datetime_today(), 13)
    rows = {
        r.month: r
        for r in CustomerMonthlyAum.objects.filter(customer=c, month__gte=months[0], month__lte=months[-1])
    }
    members = list(c.household.members.all()) if c.household_id else []
    assets = list(c.other_assets.all())
    return {
        "customer": c,
        "contacts": list(c.contacts.all()),
        "account_groups": sorted(groups.items(), key=lambda g: order.index(g[0]) if g[0] in order else 99),
        "aum_trend": [
            (m, rows[m].avg_aum if m in rows else Decimal(0), rows[m].end_aum if m in rows else Decimal(0))
            for m in months
        ],
        "household_members": members,
        "household_aum": sum((m.aum for m in members), Decimal(0)),
        "relationships": list(c.relationships.all()),
        "other_assets": assets,
        "other_assets_total": sum((a.estimated_value for a in assets), Decimal(0)),
        "interactions": c.latest_interactions,
        "assignments": c.latest_assignments,
        "reminders": list(
            Alert.objects.visible_to(user)
            .awake(timezone.localdate())
            .filter(customer=c)
            .order_by("due_date", "priority", "id")[:10]
        ),
        "campaigns": list(
            CampaignTarget.objects.filter(
                customer=c, campaign__status=CampaignStatus.RUNNING, excluded_reason=""
            )
            .select_related("campaign")
            .order_by("campaign__end_date", "campaign_id")[:10]
        ),
    }


def digest_portal(view) -> tuple:
    """What the 360 shows, as comparable values (the portal's selector)."""
    return (
        view.customer.pk,
        [ct.pk for ct in view.contacts],
        [(g.category, [a.pk for a in g.accounts], g.total) for g in view.account_groups],
        [(p["month"], p["avg_aum"], p["end_aum"]) for p in view.aum_trend],
        [(m.pk, m.aum, getattr(m, "in_scope", True)) for m in view.household_members],
        view.household_aum,
        [(r.pk, r.related_customer.pk if r.related_customer else None) for r in view.relationships],
        [a.pk for a in view.other_assets],
        view.other_assets_total,
        [i.pk for i in view.interactions],
        [a.pk for a in view.assignments],
        [r.when for r in view.reminders],
        [(r.text, r.when) for r in view.campaigns],
    )


def digest_prefetching(data: dict) -> tuple:
    """The same values from the fair baseline's assembly."""
    return (
        data["customer"].pk,
        [ct.pk for ct in data["contacts"]],
        [(category, [a.pk for a in g["accounts"]], g["total"]) for category, g in data["account_groups"]],
        [(m.strftime("%Y-%m"), avg, end) for m, avg, end in data["aum_trend"]],
        [(m.pk, m.aum, m.in_scope) for m in data["household_members"]],
        data["household_aum"],
        [(r.pk, r.related_customer.pk if r.related_customer else None) for r in data["relationships"]],
        [a.pk for a in data["other_assets"]],
        data["other_assets_total"],
        [i.pk for i in data["interactions"]],
        [a.pk for a in data["assignments"]],
        [r.due_date for r in data["reminders"]],
        [(t.campaign.name, t.campaign.end_date) for t in data["campaigns"]],
    )


def naive_360(customer_no: str) -> dict:
    """The 360 data assembled the naive way: every relation fetched when touched."""
    from customers.choices import ASSET_CATEGORIES
    from customers.models import (
        Account,
        ContactPoint,
        Customer,
        CustomerAssignment,
        CustomerMonthlyAum,
        Interaction,
        OtherAsset,
        Relationship,
    )
    from customers.selectors import month_starts

    c = Customer.objects.get(customer_no=customer_no)
    data: dict = {
        "branch": c.home_branch.name,
        "manager": c.primary_manager.display_name if c.primary_manager_id else "",
        "household": c.household.name if c.household_id else "",
    }
    data["contacts"] = [(cp.type, cp.value) for cp in ContactPoint.objects.filter(customer_id=c.pk)]
    groups: dict[str, Decimal] = {}
    accounts = []
    for a in Account.objects.filter(customer_id=c.pk).exclude(status="C"):
        accounts.append((a.account_no, a.category, a.cny_balance, a.branch.name))
        groups[a.category] = groups.get(a.category, Decimal(0)) + a.cny_balance
    data["accounts"], data["groups"] = accounts, groups
    members = []
    if c.household_id:
        for m in Customer.objects.filter(household_id=c.household_id):
            held = sum(
                (
                    a.cny_balance
                    for a in Account.objects.filter(customer_id=m.pk)
                    if a.category in ASSET_CATEGORIES
                ),
                Decimal(0),
            )
            members.append((m.name, m.household_role, held))
    data["members"] = members
    trend = []
    for month in month_starts(c.aum_date or datetime_today(), 13):
        row = CustomerMonthlyAum.objects.filter(customer_id=c.pk, month=month).first()
        trend.append((month, row.avg_aum if row else 0, row.end_aum if row else 0))
    data["trend"] = trend
    data["relationships"] = [
        (r.relation_type, r.related_customer.name if r.related_customer_id else r.related_name)
        for r in Relationship.objects.filter(customer_id=c.pk)
    ]
    data["assets"] = [(o.kind, o.estimated_value) for o in OtherAsset.objects.filter(customer_id=c.pk)]
    data["interactions"] = [
        (i.subject, i.manager.display_name if i.manager_id else "")
        for i in Interaction.objects.filter(customer_id=c.pk).order_by("-occurred_at")[:20]
    ]
    data["assignments"] = [
        (a.start_date, a.manager.display_name) for a in CustomerAssignment.objects.filter(customer_id=c.pk)
    ]
    return data


def datetime_today():
    from django.utils import timezone

    return timezone.localdate()


def measure(label: str, samples: list, call: Callable[[tuple], None], warmup: int = 10) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    for sample in samples[:warmup]:
        call(sample)
    times, queries = [], []
    for sample in samples:
        reset_queries()  # the query log is capped (9000): start each count from empty
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            call(sample)
            times.append((time.perf_counter() - started) * 1000)
        queries.append(len(ctx.captured_queries))
    times.sort()
    return {
        "label": label,
        "n": len(times),
        "p50": statistics.median(times),
        "p95": times[max(0, int(len(times) * 0.95) - 1)],
        "max": times[-1],
        "q_min": min(queries),
        "q_med": statistics.median(queries),
        "q_max": max(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, help="top the database up to this many customers first")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the figures printed to this file (JSON)")
    args = parser.parse_args()
    setup()

    from django.db import connection
    from django.template.loader import get_template, render_to_string
    from django.test import Client
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse

    from accounts.models import User
    from customers.models import Customer
    from customers.permissions import access_customer
    from customers.selectors import customer_360

    if args.customers:
        from django.core.management import call_command

        from demo.seeding import seed_customers

        call_command("seed_demo", customers=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        seed_customers(count=args.customers, stdout=sys.stdout)
    total = Customer.objects.count()
    samples = pick_customers(args.samples, args.seed)
    bm = User.objects.get(username="demo_bm")
    managers = {u.pk: u for u in User.objects.filter(pk__in={m for _no, m in samples if m})}

    try:
        path = reverse("customers:detail", args=[samples[0][0]])
        resolve(path)
        page = True
    except (NoReverseMatch, Resolver404):
        page = False

    rows = []
    keys = []  # a short name per row, for --json
    if page:
        clients: dict[int, Client] = {}

        def client_for(user) -> Client:
            if user.pk not in clients:
                clients[user.pk] = Client(HTTP_HOST="localhost")
                clients[user.pk].force_login(user)
            return clients[user.pk]

        for user in [bm, *managers.values()]:
            client_for(user)

        def fetch(user):
            def call(sample):
                no, _manager = sample
                response = client_for(user).get(f"/customers/{no}/")
                assert response.status_code == 200, (no, response.status_code)

            return call

        def fetch_as_owner(sample):
            no, manager = sample
            response = client_for(managers[manager]).get(f"/customers/{no}/")
            assert response.status_code == 200, (no, response.status_code)

        rows.append(measure("page /customers/<no>/ as demo_bm (head office)", samples, fetch(bm)))
        owned = [s for s in samples if s[1] in managers]
        rows.append(measure("page as the customer's client manager", owned, fetch_as_owner))
        keys += ["page_head_office", "page_client_manager"]
    else:
        try:
            get_template("customers/customer_detail.html")
            template = True
        except Exception:  # noqa: BLE001  (no template yet: measure the data path only)
            template = False
        if template:

            def render_page(sample):
                customer = access_customer(bm, sample[0], for_change=False)
                view = customer_360(customer, user=bm)
                render_to_string("customers/customer_detail.html", {"c": customer, "view": view})

            rows.append(
                measure("access_customer + customer_360 + template (no URL yet)", samples, render_page)
            )
            keys.append("page_template")

    def selector(sample):
        customer = access_customer(bm, sample[0], for_change=False)
        customer_360(customer, user=bm)

    # The fair baseline shows the same data: compared for every sample, as head
    # office and as the customer's client manager (not timed).
    differ = {"demo_bm": 0, "client manager": 0}
    for no, manager in samples:
        for role, user in (("demo_bm", bm), ("client manager", managers.get(manager))):
            if user is None:
                continue
            portal = digest_portal(customer_360(access_customer(user, no, for_change=False), user=user))
            if portal != digest_prefetching(prefetching_360(user, no)):
                differ[role] += 1

    portal = measure("access_customer + customer_360 (data only)", samples, selector)
    fair = measure(
        "fair baseline: select_related + prefetch_related", samples, lambda s: prefetching_360(bm, s[0])
    )
    rows += [
        portal,
        fair,
        measure("naive baseline (lazy relations, no select_related)", samples, lambda s: naive_360(s[0])),
    ]
    keys += ["portal", "fair", "naive"]

    print(
        f"\nCustomer 360 on {connection.vendor} ({connection.settings_dict['NAME']}), {total:,} customers, "
        f"{len(samples)} random customers each (10 warm-up requests first)"
    )
    print(f"{'path':56} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries (min/median/max)':>26}")
    for r in rows:
        print(
            f"{r['label']:56} {r['p50']:8.1f} {r['p95']:8.1f} {r['max']:8.1f} "
            f"{r['q_min']:>10} / {r['q_med']:>5.0f} / {r['q_max']:>5}"
        )
    print(
        f"\nportal data path against the fair baseline (as demo_bm): p50 {versus(portal['p50'], fair['p50'])}, "
        f"p95 {versus(portal['p95'], fair['p95'])}; queries (median) {portal['q_med']:.0f} against "
        f"{fair['q_med']:.0f}"
    )
    print(
        "customers whose 360 data differs between the portal and the fair baseline: "
        + ", ".join(f"{n} as {role}" for role, n in differ.items())
    )
    if args.json:
        paths = dict(zip(keys, rows, strict=True))
        out = {
            "customers": total,
            "samples": len(samples),
            "seed": args.seed,
            "paths": paths,
            "differ": differ,
        }
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")


def versus(ours: float, theirs: float) -> str:
    """How our time compares with a baseline's: "3.1x faster" or "1.4x slower"."""
    if ours <= 0 or theirs <= 0:
        return "-"
    return f"{theirs / ours:.1f}x faster" if ours <= theirs else f"{ours / theirs:.1f}x slower"


if __name__ == "__main__":
    main()
