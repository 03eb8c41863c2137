"""The world the roles × URLs harness (tests/test_url_harness.py) runs in: the demo
org and users, and for every client manager (cm1 at 11101, cm2 at 11102, cm3 at
12101 in another branch) one customer of each kind an action needs, plus the
objects the other pages work on (transfers, prospects, campaigns and targets,
opportunities, tasks, quality issues, exports, batches, loads...; alerts in tests/care/world_alerts.py).

It is built once per module (tests/test_url_harness.py::world) inside a
transaction that is rolled back at the end; each test runs in a savepoint of it.

"Whose" objects a role works on (see `Subject`): a client manager works on their
own customers and a colleague's (the foreign ones); a branch head (11100) on cm1's
and, as the foreign ones, cm3's in Shanghai; head office on cm1's and cm3's (both
in their scope). Objects that belong to one user (alerts, exports, batches) are
the role's own and, as the foreign ones, another user's.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module
from typing import Any

from django.apps import apps as django_apps
from django.utils import timezone

from accounts.models import Branch, User
from accounts.roles import Role, sync_roles
from accounts.services import api_token_issue, user_disable, user_provision, user_request
from customers.aum import write_daily_figures
from customers.choices import ContactType
from customers.models import Account, AccountBalance, BatchLoad, Customer, DataQualityIssue, ExportJob
from customers.services import assignment_set_primary
from demo.org import seed_org, seed_users
from marketing import catalogue
from marketing import services as marketing
from marketing.choices import CampaignObjective, RiskRating
from marketing.models import CampaignTarget, ContactPolicy, Indicator, Product, TaskAllocation
from performance import parameters as performance_parameters
from performance import services as performance_services
from tests.customers.factories import AccountFactory, ContactPointFactory, CustomerFactory
from vip import services as vip
from vip.models import AssignmentBatch, EvaluationRun

PASSWORD = "Harness-Pass-2026!"
ANONYMOUS = "anonymous"
# The 8 demo roles and anonymous, in the column order of the table's status strings.
ROLES = (
    "demo_admin",
    "demo_pm",
    "demo_bm",
    "demo_audit",
    "demo_bh",
    "demo_cm1",
    "demo_cm2",
    "demo_cm3",
    ANONYMOUS,
)
HEAD_OFFICE = frozenset({"demo_admin", "demo_pm", "demo_bm", "demo_audit"})
CLIENT_MANAGERS = frozenset({"demo_cm1", "demo_cm2", "demo_cm3"})

# whose customers: the client manager, their outlet, and a colleague a customer can move to
WHO = ("cm1", "cm2", "cm3")
WHO_MANAGER = {"cm1": "demo_cm1", "cm2": "demo_cm2", "cm3": "demo_cm3"}
WHO_BRANCH = {"cm1": "11101", "cm2": "11102", "cm3": "12101"}
WHO_COLLEAGUE = {"cm1": "demo_cm2", "cm2": "demo_cm1", "cm3": "cm_12102"}
# whom each manager's "shared" customer is shared with: not another demo manager,
# whose scope the grant would widen
WHO_SHARED_WITH = {"cm1": "cm_11201", "cm2": "cm_11202", "cm3": "cm_12102"}


@dataclass(frozen=True)
class Subject:
    """Who is asking (`role`) and about whose objects (`foreign`: outside what the
    role owns, see the module docstring)."""

    role: str
    foreign: bool = False

    @property
    def who(self) -> str:
        """Whose customers (a key of WHO)."""
        if self.foreign:
            return {"demo_cm1": "cm2", "demo_cm2": "cm1", "demo_cm3": "cm1"}.get(self.role, "cm3")
        return {"demo_cm2": "cm2", "demo_cm3": "cm3"}.get(self.role, "cm1")

    @property
    def user(self) -> str:
        """Whose per-user objects (alerts, exports, batches)."""
        if self.foreign:
            return "demo_cm1" if self.role == "demo_cm2" else "demo_cm2"
        return "demo_cm1" if self.role == ANONYMOUS else self.role


@dataclass
class World:
    org: dict[str, Branch]
    users: dict[str, User]
    # kind -> who -> customer
    customers: dict[str, dict[str, Customer]] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)

    def customer(self, kind: str, who: str) -> Customer:
        return self.customers[kind][who]

    def no(self, kind: str, who: str) -> str:
        return self.customers[kind][who].customer_no

    def emp(self, username: str) -> str:
        return self.users[username].employee_no


def _customer(world: World, who: str, *, manager: bool = True, **fields) -> Customer:
    branch = world.org[WHO_BRANCH[who]]
    defaults = {
        "aum": Decimal("800000"),
        "tier": "gold",
        "risk_level": "C5",
        "risk_expiry": datetime.date(2030, 1, 1),
    }
    customer = CustomerFactory(home_branch=branch, **{**defaults, **fields})
    ContactPointFactory(customer=customer, type=ContactType.MOBILE, value=customer.mobile, is_primary=True)
    AccountFactory(customer=customer)
    if manager:
        assignment_set_primary(
            customer=customer,
            manager=world.users[WHO_MANAGER[who]],
            by=None,
            reason="harness",
            on=datetime.date(2020, 1, 1),
        )
        customer.refresh_from_db()
    return customer


def _provision(org, username: str, role: str, branch: str, employee_no: str) -> User:
    return user_provision(
        username=username,
        employee_no=employee_no,
        display_name=username,
        branch=org[branch],
        roles=[role],
        password=PASSWORD,
        source="test",
    )


# The parts whose world objects and URL entries live beside their own tests:
# tests/<app>/world_<part>.py (`build(world, today)`) and tests/<app>/urls_<part>.py.
PARTS = (
    "care.alerts",
    "care.plan",
    "care.outbox",
    "care.home",
    "care.parameters",
    "accounts.audit",
    "accounts.user_change",
    "customers.records",
    "customers.employers",
    "marketing.segments",
    "marketing.channels",
    "marketing.channel_report",
    "marketing.openings",
    "marketing.opening_reports",
    "vip.bulk",
    "analysis.save",
    "analysis.reports",
    "analysis.models",
    "credit.reports",
    "credit.queries",
)


def part_module(part: str, kind: str) -> str:
    """The module of a part's world objects (kind "world") or URL entries ("urls")."""
    app, name = part.split(".")
    return f"tests.{app}.{kind}_{name}"


def restore_migration_data() -> None:
    """What the data migrations write and a transactional test's flush empties: the
    default tier levels and policy (vip 0002), the indicator library (marketing
    0004 and 0005) and the channels (marketing 0006). Nothing is written twice."""
    import_module("vip.migrations.0002_default_levels").create_defaults(django_apps, None)
    for code, name, kind, params, unit, direction, description in import_module(
        "marketing.migrations.0004_indicator_library"
    ).LIBRARY:
        Indicator.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "params": params,
                "unit": unit,
                "direction": direction,
                "description": description,
            },
        )
    import_module("marketing.migrations.0005_payroll_link_indicator").add(django_apps, None)
    import_module("marketing.migrations.0006_channels_and_opening_requests").create_channels(
        django_apps, None
    )


def build_world() -> World:
    sync_roles()
    org = seed_org()
    users = {u.username: u for u in seed_users(org)}
    restore_migration_data()
    for username, role, branch, number in (
        ("bm2", Role.BUSINESS_MANAGER, "10000", "H0002"),
        ("pm2", Role.PARAMETER_MANAGER, "10000", "H0003"),
        ("bh_11000", Role.BRANCH_HEAD, "11000", "H1100"),
    ):
        users[username] = _provision(org, username, role, branch, number)
    world = World(org=org, users=users)
    u = users
    today = timezone.localdate()

    _build_customers(world)
    _build_accounts_objects(world)
    _build_vip_objects(world, today)
    _build_marketing_objects(world, today)
    _build_performance_objects(world)
    _build_per_user_objects(world, today)
    _build_admin_objects(world, today)
    _build_performance_figures(world)
    # each part builds its objects beside its own tests (tests/<app>/world_*.py)
    for part in PARTS:
        import_module(part_module(part, "world")).build(world, today)
    # token for the admin's token page
    api_token_issue(user=u["demo_cm1"])
    return world


def _build_customers(world: World) -> None:
    u = world.users
    kinds = ("main", "registered", "overridden", "shared", "transferring", "pool", "dup_a", "dup_b", "split")
    for kind in kinds:
        world.customers[kind] = {}
    today = timezone.localdate()
    for who in WHO:
        c = world.customers
        c["main"][who] = _customer(world, who, name=f"王{who}")
        c["split"][who] = _customer(world, who)  # a colleague assists, with 30% of the credit
        vip.split_credit_set(
            customer=c["split"][who],
            manager=u[WHO_COLLEAGUE[who]],
            share="30",
            by=u["demo_bm"],
            reason="joint care",
        )
        c["registered"][who] = _customer(world, who)
        vip.vip_register(customer=c["registered"][who], by=u["demo_bm"], benefits="lounge")
        c["overridden"][who] = _customer(world, who)
        vip.tier_override_set(
            customer=c["overridden"][who],
            tier="platinum",
            reason="board decision",
            expires_on=today + datetime.timedelta(days=30),
            by=u["demo_bm"],
        )
        c["shared"][who] = _customer(world, who)
        grant = vip.customer_share(
            customer=c["shared"][who],
            with_user=u[WHO_SHARED_WITH[who]],
            by=u[WHO_MANAGER[who]],
            until=timezone.now() + datetime.timedelta(days=7),
            reason="holiday cover",
        )
        world.objects.setdefault("grant", {})[who] = grant
        c["transferring"][who] = _customer(world, who)
        world.objects.setdefault("transfer", {})[who] = vip.transfer_request(
            customer=c["transferring"][who],
            to_manager=u[WHO_COLLEAGUE[who]],
            by=u[WHO_MANAGER[who]],
            reason="moving house",
        )
        c["pool"][who] = _customer(world, who, manager=False, tier="")
        # a possible duplicate pair (same person under two numbers) and a single issue
        c["dup_a"][who] = _customer(world, who, name=f"李{who}", aum=Decimal("1000"), tier="")
        c["dup_b"][who] = _customer(world, who, name=f"李{who}", aum=Decimal("500"), tier="")
        world.objects.setdefault("pair_issue", {})[who] = DataQualityIssue.objects.create(
            kind="duplicate_person",
            customer=c["dup_a"][who],
            other_customer=c["dup_b"][who],
            pair_key=str(c["dup_b"][who].pk),
            branch=world.org[WHO_BRANCH[who]],
            detail="name birth_date mobile",
        )
        world.objects.setdefault("single_issue", {})[who] = DataQualityIssue.objects.create(
            kind="missing_data",
            customer=c["main"][who],
            branch=world.org[WHO_BRANCH[who]],
            detail="mobile",
        )
        world.objects.setdefault("prospect", {})[who] = vip.prospect_create(
            by=u[WHO_MANAGER[who]],
            name="周先生",
            source="referral",
            estimated_assets=Decimal("2000000"),
            mobile="13912345678",
        )


def _build_accounts_objects(world: World) -> None:
    """A pending and a disabled account at each manager's outlet."""
    for who in WHO:
        branch = world.org[WHO_BRANCH[who]]
        world.objects.setdefault("pending_user", {})[who] = user_request(
            requested_by=world.users["bh_11000"],
            username=f"pending_{who}",
            employee_no=f"P{WHO_BRANCH[who]}",
            display_name=f"pending {who}",
            branch=branch,
            roles=[Role.CLIENT_MANAGER],
            password=PASSWORD,
        )
        left = _provision(
            world.org, f"left_{who}", Role.CLIENT_MANAGER, WHO_BRANCH[who], f"L{WHO_BRANCH[who]}"
        )
        world.objects.setdefault("disabled_user", {})[who] = user_disable(
            user=left, disabled_by=None, reason="left the bank"
        )


def _build_vip_objects(world: World, today: datetime.date) -> None:
    u = world.users
    # Parameter proposals: pm2's waits for demo_pm or demo_admin; demo_pm's own one
    # (withdraw) changes another parameter.
    world.objects["proposal_other"] = vip.parameter_propose(
        proposed_by=u["pm2"], reason="market review", levels={"gold": {"aum_threshold": "550000"}}
    )
    world.objects["proposal_own"] = vip.parameter_propose(
        proposed_by=u["demo_pm"], reason="contact review", levels={"platinum": {"contact_interval_days": 45}}
    )
    world.objects["evaluation_run"] = EvaluationRun.objects.create(as_of=today)


def _build_performance_objects(world: World) -> None:
    """FTP spreads: the bank's default row (an approved proposal writes it), pm2's
    proposal waiting for demo_pm or demo_admin, and demo_pm's own (withdraw)."""
    u = world.users
    approved = performance_parameters.ftp_propose(
        by=u["pm2"], spreads={"DEP_CUR": "0.0210"}, reason="treasury curve"
    )
    performance_parameters.ftp_approve(proposal=approved, by=u["demo_pm"])
    world.objects["ftp_other"] = performance_parameters.ftp_propose(
        by=u["pm2"], spreads={"DEP_TIME": "0.0090"}, reason="treasury curve, time deposits"
    )
    world.objects["ftp_own"] = performance_parameters.ftp_propose(
        by=u["demo_pm"], spreads={"CREDIT_CARD": "0.0450"}, reason="card margins"
    )


def _build_performance_figures(world: World) -> None:
    """A batch of 27 February 2026 with balances of each manager's main customer and
    of each outlet's customer without a manager, and February's provisional figures
    computed from it: every client manager has figures, and so has each outlet's
    pool of unassigned customers."""
    day = datetime.date(2026, 2, 27)
    BatchLoad.objects.create(
        source="/srv/inbox/archive/20260227",
        started_via="beat",
        status="loaded",
        business_date=day,
        digest="1" * 64,
    )
    for who in WHO:
        for kind, amount in (("main", Decimal("500000")), ("pool", Decimal("80000"))):
            account = Account.objects.filter(customer=world.customer(kind, who)).order_by("pk").first()
            assert account is not None  # every customer of the world has an account
            AccountBalance.objects.create(
                business_date=day, account=account, balance=amount, cny_balance=amount
            )
    write_daily_figures(day)  # what the load derives from the batch's balances
    world.objects["performance_version"] = performance_services.performance_run("2026-02")
    # an assessment scheme of February, bm2's, waiting for another business manager
    from marketing.models import Indicator
    from performance import schemes

    scheme = schemes.scheme_create(by=world.users["bm2"], period="2026-02", role="client_manager", name="CM")
    schemes.scheme_indicator_set(
        scheme=scheme,
        by=world.users["bm2"],
        indicator=Indicator.objects.get(code="deposit_avg"),
        weight=100,
        formula="completion",
        target=100000,
    )
    schemes.scheme_bands_set(
        scheme=scheme, by=world.users["bm2"], bands=[schemes.BandInput("A", min_score=Decimal(0))]
    )
    world.objects["scheme_pending"] = schemes.scheme_submit(scheme=scheme, by=world.users["bm2"])
    # each manager disputes their main customer's last day of February (their branch head decides)
    from performance.choices import DisputeClaim
    from performance.disputes import dispute_raise
    from performance.models import Period

    february = Period.objects.get(code="2026-02")
    world.objects["dispute"] = {
        who: dispute_raise(
            by=world.users[WHO_MANAGER[who]],
            period=february,
            customer=world.customer("main", who),
            claim=DisputeClaim.NOT_MINE,
            first_day=day,
            last_day=day,
            reason="moved to my colleague",
        )
        for who in WHO
    }
    # bm2 proposes closing February: a version computed and waiting for demo_bm or demo_admin
    from performance.publication import proposed_version_compute, publication_propose

    closing = publication_propose(code="2026-02", by=world.users["bm2"], reason="month end close")
    proposed_version_compute(version_id=closing.version_id)
    world.objects["publication"] = closing


def _build_marketing_objects(world: World, today: datetime.date) -> None:
    u = world.users
    common = {"sale_start": datetime.date(2020, 1, 1), "channels": ["manager", "mobile"]}
    deposit = Product.objects.create(
        code="H-TD-12M", name="一年定期", category="DEP_TIME", term_days=365, rate=Decimal("1.65"), **common
    )
    wealth = Product.objects.create(
        code="H-WM-01",
        name="稳健理财",
        category="WEALTH",
        risk_rating=RiskRating.R3,
        min_amount=Decimal("10000"),
        rate=Decimal("2.85"),
        term_days=180,
        **common,
    )
    world.objects["product"] = {"deposit": deposit, "wealth": wealth}
    segment = marketing.segment_save(user=u["demo_bm"], name="全行客户", rules={"aum_min": "1"})
    world.objects["segment"] = {
        "head_office": segment,
        "demo_bh": marketing.segment_save(user=u["demo_bh"], name="海淀客群", rules={"aum_min": "1000"}),
        "bh_11000": marketing.segment_save(user=u["bh_11000"], name="北京客群", rules={"aum_min": "1000"}),
    }

    def campaign(name: str, by: str = "bm2"):
        return marketing.campaign_create(
            user=u[by],
            name=name,
            objective=CampaignObjective.CROSS_SELL,
            segment=segment,
            channels=["call", "visit"],
            budget=Decimal("10000"),
            start_date=today - datetime.timedelta(days=10),
            end_date=today + datetime.timedelta(days=30),
            products=[wealth, deposit],
        )

    bm, bm2 = u["demo_bm"], u["bm2"]
    campaigns = {"draft": campaign("草稿活动", by="demo_bm")}
    campaigns["submitted"] = marketing.campaign_submit(campaign=campaign("待审活动"), user=bm2)
    campaigns["approved"] = marketing.campaign_approve(
        campaign=marketing.campaign_submit(campaign=campaign("已批活动"), user=bm2), user=bm
    )
    campaigns["rejected"] = marketing.campaign_reject(
        campaign=marketing.campaign_submit(campaign=campaign("驳回活动"), user=bm2),
        user=bm,
        comment="budget too high",
    )
    running = marketing.campaign_approve(
        campaign=marketing.campaign_submit(campaign=campaign("理财推广"), user=bm2), user=bm
    )
    campaigns["running"] = marketing.campaign_start(campaign=running, user=bm)
    closed = marketing.campaign_start(
        campaign=marketing.campaign_approve(
            campaign=marketing.campaign_submit(campaign=campaign("已结束活动"), user=bm2), user=bm
        ),
        user=bm,
    )
    campaigns["closed"] = marketing.campaign_close(campaign=closed, user=bm)
    world.objects["campaign"] = campaigns
    world.objects["target"] = {
        who: CampaignTarget.objects.get(campaign=campaigns["running"], customer=world.customer("main", who))
        for who in WHO
    }
    world.objects["opportunity"] = {
        who: marketing.opportunity_create(
            user=u[WHO_MANAGER[who]],
            customer=world.customer("main", who),
            product=deposit,
            expected_amount=Decimal("1000"),
            expected_close_date=datetime.date(2030, 1, 1),
        )
        for who in WHO
    }
    _build_tasks(world)


def _task(world: World, name: str, *, issue: bool = True):
    task = marketing.task_create(
        user=world.users["demo_bm"],
        name=name,
        indicator=Indicator.objects.get(code="sales_amount"),
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 12, 31),
        target=Decimal("100"),
    )
    if issue:
        task = marketing.task_issue(task=task, user=world.users["demo_bm"])
    return task


def _share(task, *, branch: Branch | None = None, manager: User | None = None) -> TaskAllocation:
    return TaskAllocation.objects.get(task=task, branch=branch, manager=manager)


def _build_tasks(world: World) -> None:
    """draft: a draft task; issued: head office's share only; decomposed: down to the
    three managers (their shares waiting for their answer); branch: 11100's share
    waiting for demo_bh's answer and 12100's waiting for nobody's (foreign)."""
    u, org = world.users, world.org
    bm, bh_11000, bh = u["demo_bm"], u["bh_11000"], u["demo_bh"]
    tasks = {"draft": _task(world, "草稿任务", issue=False), "issued": _task(world, "总行任务")}

    decomposed = _task(world, "分解任务")
    root = _share(decomposed, branch=org["10000"])
    marketing.task_decompose(
        allocation=root, user=bm, shares=[(org["11000"], Decimal("70")), (org["12000"], Decimal("30"))]
    )
    beijing = _share(decomposed, branch=org["11000"])
    marketing.allocation_respond(allocation=beijing, user=bh_11000, accept=True)
    marketing.task_decompose(allocation=beijing, user=bh_11000, shares=[(org["11100"], Decimal("70"))])
    haidian = _share(decomposed, branch=org["11100"])
    marketing.allocation_respond(allocation=haidian, user=bh, accept=True)
    marketing.task_decompose(
        allocation=haidian,
        user=bh,
        shares=[(u["demo_cm1"], Decimal("40")), (u["demo_cm2"], Decimal("30"))],
    )
    # Shanghai has no branch heads: head office takes the shares as it decomposes them
    shanghai = _share(decomposed, branch=org["12000"])
    marketing.task_decompose(allocation=shanghai, user=bm, shares=[(org["12100"], Decimal("30"))])
    pudong = _share(decomposed, branch=org["12100"])
    marketing.task_decompose(allocation=pudong, user=bm, shares=[(u["demo_cm3"], Decimal("30"))])
    tasks["decomposed"] = decomposed

    branch_task = _task(world, "支行任务")
    root = _share(branch_task, branch=org["10000"])
    marketing.task_decompose(
        allocation=root, user=bm, shares=[(org["11000"], Decimal("60")), (org["12000"], Decimal("40"))]
    )
    beijing = _share(branch_task, branch=org["11000"])
    marketing.allocation_respond(allocation=beijing, user=bh_11000, accept=True)
    marketing.task_decompose(allocation=beijing, user=bh_11000, shares=[(org["11100"], Decimal("60"))])
    shanghai = _share(branch_task, branch=org["12000"])
    marketing.task_decompose(allocation=shanghai, user=bm, shares=[(org["12100"], Decimal("40"))])
    tasks["branch"] = branch_task
    world.objects["task"] = tasks
    world.objects["allocation"] = {
        "issued_root": _share(tasks["issued"], branch=org["10000"]),
        "haidian": _share(decomposed, branch=org["11100"]),
        "pudong": _share(decomposed, branch=org["12100"]),
        "manager": {who: _share(decomposed, manager=u[WHO_MANAGER[who]]) for who in WHO},
        "haidian_pending": _share(branch_task, branch=org["11100"]),
        "pudong_pending": _share(branch_task, branch=org["12100"]),
    }


def _build_per_user_objects(world: World, today: datetime.date) -> None:
    """A finished export and a draft assignment batch of every demo user (their
    alerts: tests/care/world_alerts.py)."""
    now = timezone.now()
    for username in ROLES[:-1]:
        user = world.users[username]
        world.objects.setdefault("export", {})[username] = ExportJob.objects.create(
            user=user,
            status="done",
            query={"q": "", "filters": {}, "sort": "aum"},
            masked=True,
            row_count=1,
            total=1,
            progress=100,
            filename="customers-harness.xlsx",
            content=b"PK\x03\x04 not really a workbook",
            expires_at=now + datetime.timedelta(hours=12),
        )
        world.objects.setdefault("batch", {})[username] = AssignmentBatch.objects.create(
            created_by=user, source="search", reason="harness batch", rows=[]
        )


def _build_admin_objects(world: World, today: datetime.date) -> None:
    """At least one row of every model the admin shows (its change, delete and
    history pages need one), and two batch loads for the load pages."""
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    world.objects["load_loaded"] = BatchLoad.objects.create(
        source="/srv/inbox/archive/20260301",
        started_via="beat",
        status="loaded",
        business_date=datetime.date(2026, 3, 1),
        digest="0" * 64,
    )
    world.objects["load_failed"] = BatchLoad.objects.create(
        source="/srv/inbox/20260302",
        started_via="upload",
        started_by=world.users["demo_admin"],
        status="failed",
        business_date=datetime.date(2026, 3, 2),
    )
    catalogue.product_change_propose(
        proposed_by=world.users["demo_pm"],
        reason="rate review",
        products={"H-TD-12M": {"rate": "1.75"}},
    )
    ContactPolicy.objects.create(
        max_contacts=3,
        window_days=7,
        quiet_start=datetime.time(21),
        quiet_end=datetime.time(8),
        status="proposed",
        proposed_by=world.users["demo_pm"],
    )
    interval, _created = IntervalSchedule.objects.get_or_create(every=1, period="days")
    CrontabSchedule.objects.get_or_create(minute="0", hour="2")
    SolarSchedule.objects.get_or_create(event="sunrise", latitude=Decimal("31.2"), longitude=Decimal("121.5"))
    ClockedSchedule.objects.get_or_create(clocked_time=timezone.now() + datetime.timedelta(days=1))
    PeriodicTask.objects.get_or_create(
        name="harness task", defaults={"task": "crm_portal.after_load", "interval": interval}
    )
