"""Reads of the VIP area. Every read starts from its model's
`objects.visible_to(user)` (the customer data scope, `customers.querysets`; a list
function also takes the rows a view already holds narrowed, `core.views.ScopedView`);
every page runs a bounded number of queries whatever the size of the book, the
branch or the bank."""

from __future__ import annotations

import datetime
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch, BranchLevel, User
from accounts.roles import Role
from accounts.scope import data_scope, visible_branches
from customers.choices import AssignmentRole
from customers.models import Customer, CustomerAssignment, CustomerUserObjectPermission, Interaction
from customers.panels import PanelItem
from customers.selectors import KeysetPage, keyset_page

from .choices import ProposalStatus, ReminderKind, TransferStatus, VipStatus
from .models import (
    ParameterProposal,
    Reminder,
    TierChange,
    TierLevel,
    TierOverride,
    TierPolicy,
    TransferRequest,
    VipProspect,
    VipStatusChange,
)
from .standards import CONTACT_KINDS, next_due

NO_TIER = "none"  # the filter value for customers without a tier


# --- levels ----------------------------------------------------------------------------


def tier_names() -> dict[str, str]:
    """Every level's name by code (withdrawn ones too: the history names them)."""
    return dict(TierLevel.objects.values_list("code", "name"))


def tier_label(code: str, names: dict[str, str]) -> str:
    if not code:
        return _("No tier")
    return names.get(code, code)


@dataclass(frozen=True)
class LevelTable:
    """Every level in one query: names (withdrawn ones too), thresholds, and the
    contact interval of the active ones."""

    names: dict[str, str]
    thresholds: dict[str, Decimal]
    intervals: dict[str, int]


def level_table() -> LevelTable:
    rows = list(
        TierLevel.objects.values_list("code", "name", "aum_threshold", "contact_interval_days", "is_active")
    )
    return LevelTable(
        names={code: name for code, name, *_rest in rows},
        thresholds={code: threshold for code, _n, threshold, _d, _a in rows},
        intervals={code: days for code, _n, _t, days, active in rows if active},
    )


def active_levels() -> list[TierLevel]:
    return list(TierLevel.objects.filter(is_active=True).order_by("-aum_threshold"))


# --- my customers -----------------------------------------------------------------------


@dataclass
class BookRow:
    customer: Customer
    tier_name: str
    last_contact: datetime.datetime | None
    since: datetime.date | None
    next_due: datetime.date | None
    interval: int | None
    major: bool
    overdue: bool


@dataclass
class Book:
    manager: User
    page: KeysetPage
    rows: list[BookRow]
    tiers: list[dict[str, Any]]
    total: int
    total_aum: Decimal
    major_floor: Decimal | None
    names: dict[str, str] = field(default_factory=dict)


def _last_contact():
    return Subquery(
        Interaction.objects.filter(customer=OuterRef("pk"), kind__in=CONTACT_KINDS)
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )


def _assigned_since():
    return Subquery(
        CustomerAssignment.objects.filter(
            customer=OuterRef("pk"), role=AssignmentRole.PRIMARY, end_date__isnull=True
        ).values("start_date")[:1]
    )


def major_floor(manager: User, share_pct: int) -> Decimal | None:
    """The smallest AUM among the manager's top `share_pct` % (None: nobody)."""
    book = Customer.objects.filter(primary_manager=manager, merged_into__isnull=True)
    size = book.count()
    top = math.ceil(size * share_pct / 100)
    if not top:
        return None
    return book.order_by("-aum", "-id").values_list("aum", flat=True)[top - 1]


def manager_book(
    *,
    user: User,
    manager: User,
    tier: str = "",
    cursor: str = "",
    size: int = 25,
    customers: QuerySet[Customer] | None = None,
) -> Book:
    """A manager's customers (as far as `user` may see them: `customers`, already
    narrowed to `user`, or `Customer.objects.visible_to(user)`), largest AUM first,
    with their last contact and the due date of the next one."""
    levels = level_table()
    names = levels.names
    if customers is None:
        customers = Customer.objects.visible_to(user)
    base = customers.filter(primary_manager=manager, merged_into__isnull=True)
    tiers = [
        {"code": row["tier"], "name": tier_label(row["tier"], names), "count": row["n"], "aum": row["aum"]}
        for row in base.order_by().values("tier").annotate(n=Count("pk"), aum=Sum("aum"))
    ]
    tiers.sort(key=lambda t: -(levels.thresholds.get(t["code"]) or Decimal("-1")))
    customers = base
    if tier == NO_TIER:
        customers = customers.filter(tier="")
    elif tier:
        customers = customers.filter(tier=tier)
    customers = customers.annotate(last_contact=_last_contact(), assigned_since=_assigned_since()).order_by(
        "-aum", "-id"
    )
    page = keyset_page(customers, sort="aum", cursor=cursor, size=size)
    policy = TierPolicy.current()
    floor = major_floor(manager, policy.major_share_pct)
    per_tier, default_days = levels.intervals, policy.major_contact_interval_days
    today = timezone.localdate()
    rows = []
    for customer in page.rows:
        major = bool(customer.tier) or (floor is not None and customer.aum >= floor)
        due, interval = next_due(
            tier=customer.tier,
            major=major,
            last_contact=customer.last_contact,
            since=customer.assigned_since,
            per_tier=per_tier,
            default_days=default_days,
        )
        rows.append(
            BookRow(
                customer=customer,
                tier_name=tier_label(customer.tier, names),
                last_contact=customer.last_contact,
                since=customer.assigned_since,
                next_due=due,
                interval=interval,
                major=major,
                overdue=bool(due and due < today),
            )
        )
    return Book(
        manager=manager,
        page=page,
        rows=rows,
        tiers=tiers,
        total=sum(t["count"] for t in tiers),
        total_aum=sum((t["aum"] or Decimal("0") for t in tiers), Decimal("0")),
        major_floor=floor,
        names=names,
    )


def managers_in_scope(user: User) -> QuerySet[User]:
    """Client managers (active or not: a manager who left still has a book) of the
    branches the user may see."""
    return (
        User.objects.filter(branch__in=visible_branches(user), groups__name=Role.CLIENT_MANAGER)
        .select_related("branch")
        .distinct()
    )


def managers_with_books(user: User) -> list[User]:
    """Managers in scope with the size and AUM of their books as far as the user may
    see them (one grouped query): a customer of a book homed outside the user's
    scope is not counted."""
    managers = list(managers_in_scope(user).order_by("branch__path", "employee_no"))
    figures = {
        row["primary_manager"]: row
        for row in Customer.objects.visible_to(user)
        .filter(primary_manager__in=[m.pk for m in managers], merged_into__isnull=True)
        .order_by()
        .values("primary_manager")
        .annotate(n=Count("pk"), aum=Sum("aum"))
    }
    for manager in managers:
        row = figures.get(manager.pk, {})
        manager.book_size = row.get("n", 0)
        manager.book_aum = row.get("aum") or Decimal("0")
    return managers


# --- pool -----------------------------------------------------------------------------


def pool_customers(
    *,
    user: User,
    branch: Branch | None = None,
    cursor: str = "",
    size: int = 50,
    customers: QuerySet[Customer] | None = None,
) -> KeysetPage:
    """Customers without a manager of record in the user's scope (`customers`,
    already narrowed to `user`, or `Customer.objects.visible_to(user)`; a branch
    subtree when given), largest AUM first."""
    if customers is None:
        customers = Customer.objects.visible_to(user)
    customers = customers.filter(primary_manager__isnull=True, merged_into__isnull=True)
    if branch is not None:
        customers = customers.filter(
            home_branch_id__in=list(Branch.objects.subtree(branch).values_list("pk", flat=True))
        )
    customers = customers.select_related("home_branch").order_by("-aum", "-id")
    return keyset_page(customers, sort="aum", cursor=cursor, size=size)


def pool_counts(user: User) -> list[dict[str, Any]]:
    """Pool size per home branch in the user's scope."""
    rows = (
        Customer.objects.visible_to(user)
        .filter(primary_manager__isnull=True, merged_into__isnull=True)
        .order_by()
        .values("home_branch__code", "home_branch__name")
        .annotate(n=Count("pk"), aum=Sum("aum"))
        .order_by("home_branch__code")
    )
    return list(rows)


# --- one customer's VIP page --------------------------------------------------------------


@dataclass
class CustomerVip:
    customer: Customer
    tier_name: str
    override: TierOverride | None
    tier_changes: list[TierChange]
    vip_changes: list[VipStatusChange]
    assignments: list[CustomerAssignment]
    shares: list[CustomerUserObjectPermission]
    pending_transfer: TransferRequest | None
    names: dict[str, str] = field(default_factory=dict)


def customer_vip(customer: Customer) -> CustomerVip:
    """The VIP card of a customer already fetched through `access_customer`."""
    names = tier_names()
    now = timezone.now()
    return CustomerVip(
        customer=customer,
        tier_name=tier_label(customer.tier, names),
        override=TierOverride.objects.filter(customer=customer, ended_on__isnull=True)
        .select_related("created_by")
        .first(),
        tier_changes=list(
            TierChange.objects.filter(customer=customer)
            .select_related("changed_by")
            .order_by("-effective_date", "-id")[:50]
        ),
        vip_changes=list(
            VipStatusChange.objects.filter(customer=customer)
            .select_related("changed_by")
            .order_by("-effective_date", "-id")[:50]
        ),
        # The full history: performance is attributed by it.
        assignments=list(
            customer.assignments.select_related("manager", "created_by").order_by("-start_date", "-id")
        ),
        shares=list(
            CustomerUserObjectPermission.objects.filter(content_object=customer)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .select_related("user")
        ),
        pending_transfer=TransferRequest.objects.filter(customer=customer, status=TransferStatus.PENDING)
        .select_related("from_manager", "to_manager", "proposed_by")
        .first(),
        names=names,
    )


# --- approvals ----------------------------------------------------------------------------


def transfers_to_approve(user: User, limit: int = 200) -> list[TransferRequest]:
    if not user.has_perm("vip.approve_transferrequest"):
        return []
    return list(
        TransferRequest.objects.visible_to(user)
        .filter(status=TransferStatus.PENDING)
        .exclude(proposed_by=user)
        .select_related("customer", "customer__home_branch", "from_manager", "to_manager", "proposed_by")
        .order_by("proposed_at", "id")[:limit]
    )


def my_transfer_requests(user: User, limit: int = 100) -> list[TransferRequest]:
    return list(
        TransferRequest.objects.filter(proposed_by=user)
        .select_related("customer", "from_manager", "to_manager", "decided_by")
        .order_by("-proposed_at", "-id")[:limit]
    )


def proposals_to_approve(user: User) -> list[ParameterProposal]:
    if not user.has_perm("vip.approve_parameterproposal"):
        return []
    return list(
        ParameterProposal.objects.filter(status=ProposalStatus.PENDING)
        .exclude(proposed_by=user)
        .select_related("proposed_by")
        .order_by("proposed_at", "id")
    )


def my_proposals(user: User, limit: int = 50) -> list[ParameterProposal]:
    if not user.has_perm("vip.add_parameterproposal"):
        return []
    return list(
        ParameterProposal.objects.filter(proposed_by=user)
        .select_related("decided_by")
        .order_by("-proposed_at")[:limit]
    )


def pending_approval_count(user: User) -> int:
    count = 0
    if user.has_perm("vip.approve_transferrequest"):
        count += (
            TransferRequest.objects.visible_to(user)
            .filter(status=TransferStatus.PENDING)
            .exclude(proposed_by=user)
            .count()
        )
    if user.has_perm("vip.approve_parameterproposal"):
        count += (
            ParameterProposal.objects.filter(status=ProposalStatus.PENDING).exclude(proposed_by=user).count()
        )
    return count


# --- reminders ------------------------------------------------------------------------------


@dataclass
class ReminderRow:
    reminder: Reminder
    text: str
    customer: Customer | None


def _reminder_text(reminder: Reminder, names: dict[str, str]) -> str:
    detail = reminder.detail or ""
    kind = reminder.kind
    if kind == ReminderKind.TIER_CHANGED and ">" in detail:
        old, new = detail.split(">", 1)
        return _("Tier changed: %(old)s → %(new)s") % {
            "old": tier_label(old, names),
            "new": tier_label(new, names),
        }
    if kind == ReminderKind.POTENTIAL_VIP:
        return _("Close to the next tier or growing fast: a potential VIP")
    if kind == ReminderKind.CONTACT_OVERDUE:
        if not detail:
            return _("Contact overdue (a major customer of your book)")
        return _("Contact overdue (%(tier)s service standard)") % {"tier": tier_label(detail, names)}
    if kind == ReminderKind.TEAM_OVERDUE and ":" in detail:
        manager, count = detail.split(":", 1)
        return _("Manager %(no)s has %(n)s overdue contacts with major customers") % {
            "no": manager,
            "n": count,
        }
    if kind == ReminderKind.CUSTOMER_ASSIGNED:
        return _("Now in your care (assigned by %(no)s)") % {"no": detail}
    if kind == ReminderKind.CUSTOMER_SHARED:
        return _("Shared with you for a time by %(no)s") % {"no": detail}
    if kind == ReminderKind.TRANSFER_DECIDED:
        return _("Your transfer request was %(what)s") % {
            "what": _("approved") if detail == "approved" else _("rejected")
        }
    return str(ReminderKind(kind).label) if kind in ReminderKind.values else kind


def open_reminders(
    user: User, limit: int = 20, names: dict[str, str] | None = None
) -> tuple[list[ReminderRow], int]:
    """The user's open reminders, newest first, about customers they may (still)
    see; and how many there are in all. Two queries plus the level names."""
    reminders = Reminder.objects.visible_to(user).filter(done_at__isnull=True)
    total = reminders.count()
    names = names if names is not None else tier_names()
    rows = [
        ReminderRow(r, _reminder_text(r, names), r.customer)
        for r in reminders.select_related("customer").order_by("-due_date", "-id")[:limit]
    ]
    return rows, total


def customer_reminders(customer: Customer, user: User) -> list[PanelItem]:
    """The 360 view's panel: the viewer's open reminders about this customer (the
    customer is already in the viewer's scope). One query, plus the level names
    when a tier change is among them."""
    reminders = list(
        Reminder.objects.filter(user=user, customer=customer, done_at__isnull=True).order_by(
            "-due_date", "-id"
        )[:10]
    )
    names = tier_names() if any(r.kind == ReminderKind.TIER_CHANGED for r in reminders) else {}
    return [PanelItem(_reminder_text(r, names), when=r.due_date) for r in reminders]


# --- prospects --------------------------------------------------------------------------------


def prospect_list(*, user: User, prospects: QuerySet[VipProspect] | None = None) -> QuerySet[VipProspect]:
    """Client managers see their own prospects; branch heads their branches';
    head office all (`VipProspect.objects.visible_to`), open ones first."""
    if prospects is None:
        prospects = VipProspect.objects.visible_to(user)
    return prospects.select_related("manager", "branch", "customer").order_by("status", "-created_at")


# --- reports ---------------------------------------------------------------------------------


def _scoped_customers(user: User) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user).filter(merged_into__isnull=True)


def report_branches(user: User, level: int) -> list[Branch]:
    """The branches the report rolls up to: those of `level` in the user's scope (or
    the user's own branch when it sits below that level)."""
    branches = list(visible_branches(user).filter(level=level).order_by("path"))
    if not branches and data_scope(user).branch is not None:
        branches = [data_scope(user).branch]
    return branches


@dataclass
class BranchReport:
    levels: list[TierLevel]
    rows: list[dict[str, Any]]  # branch, per-tier counts and AUM, totals
    totals: dict[str, Any]


def vip_by_branch(user: User, level: int = BranchLevel.BRANCH) -> BranchReport:
    """VIP counts and AUM by tier, per branch of `level` (and everything below it)."""
    levels = active_levels()
    names = tier_names()
    branches = report_branches(user, level)
    grouped = (
        _scoped_customers(user)
        .exclude(tier="")
        .order_by()
        .values("home_branch__path", "tier")
        .annotate(
            n=Count("pk"), aum=Sum("aum"), registered=Count("pk", filter=Q(vip_status=VipStatus.REGISTERED))
        )
    )
    codes = [lvl.code for lvl in levels]
    rows: OrderedDict[int, dict[str, Any]] = OrderedDict()
    for branch in branches:
        rows[branch.pk] = {
            "branch": branch,
            "tiers": {code: {"n": 0, "aum": Decimal("0")} for code in codes},
            "n": 0,
            "aum": Decimal("0"),
            "registered": 0,
        }
    other: dict[str, dict[str, Any]] = {}
    for g in grouped:
        owner = next((b for b in branches if (g["home_branch__path"] or "").startswith(b.path)), None)
        if owner is None:
            continue
        row = rows[owner.pk]
        cell = row["tiers"].get(g["tier"])
        if cell is None:  # a withdrawn level still held: its own column
            cell = row["tiers"].setdefault(g["tier"], {"n": 0, "aum": Decimal("0")})
            other[g["tier"]] = {"code": g["tier"], "name": tier_label(g["tier"], names)}
        cell["n"] += g["n"]
        cell["aum"] += g["aum"] or 0
        row["n"] += g["n"]
        row["aum"] += g["aum"] or 0
        row["registered"] += g["registered"]
    columns = [{"code": lvl.code, "name": lvl.name} for lvl in levels] + list(other.values())
    for row in rows.values():
        row["cells"] = [row["tiers"].get(c["code"], {"n": 0, "aum": Decimal("0")}) for c in columns]
    totals = {
        "cells": [
            {
                "n": sum(r["cells"][i]["n"] for r in rows.values()),
                "aum": sum((r["cells"][i]["aum"] for r in rows.values()), Decimal("0")),
            }
            for i in range(len(columns))
        ],
        "n": sum(r["n"] for r in rows.values()),
        "aum": sum((r["aum"] for r in rows.values()), Decimal("0")),
        "registered": sum(r["registered"] for r in rows.values()),
    }
    return BranchReport(levels=columns, rows=list(rows.values()), totals=totals)  # type: ignore[arg-type]


def month_end(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return min(following - datetime.timedelta(days=1), timezone.localdate())


def _last_tiers(changes: QuerySet[TierChange], on: datetime.date) -> QuerySet:
    """(customer_id, to_tier) of each customer's last tier change up to `on`, among
    `changes` (merged records aside: their survivor counts)."""
    merged = Customer.objects.filter(merged_into__isnull=False).values("pk")
    return (
        changes.filter(effective_date__lte=on)
        .exclude(customer_id__in=merged)
        .annotate(
            rn=Window(
                RowNumber(),
                partition_by=[F("customer_id")],
                order_by=[F("effective_date").desc(), F("id").desc()],
            )
        )
        .filter(rn=1)
        .values("customer_id", "to_tier")
    )


@dataclass
class Matrix:
    month_from: datetime.date
    month_to: datetime.date
    codes: list[str]  # highest tier first, "" (no tier) last
    labels: list[str]
    cells: list[list[int]]  # [from][to]
    row_totals: list[int]
    col_totals: list[int]
    total: int


def migration_matrix(user: User, month_from: datetime.date, month_to: datetime.date) -> Matrix:
    """How customers moved between tiers from the end of one month to the end of
    another, from the tier history (a customer never changed holds no tier)."""
    date_from, date_to = month_end(month_from), month_end(month_to)
    # The last tier of each customer at each end, as compiled querysets of the
    # changes the user may see, joined and counted in SQL.
    changes = TierChange.objects.visible_to(user)
    counts: dict[tuple[str, str], int] = {}
    try:
        after_sql, after_params = _last_tiers(changes, date_to).query.sql_with_params()
        before_sql, before_params = _last_tiers(changes, date_from).query.sql_with_params()
    except EmptyResultSet:  # a user who may see no customer
        pass
    else:
        sql = f"""SELECT COALESCE(a.to_tier, ''), b.to_tier, COUNT(*)
                    FROM ({after_sql}) b
                    LEFT JOIN ({before_sql}) a ON a.customer_id = b.customer_id
                   GROUP BY COALESCE(a.to_tier, ''), b.to_tier"""
        with connection.cursor() as cursor:
            cursor.execute(sql, [*after_params, *before_params])
            counts = {(f or "", t or ""): n for f, t, n in cursor.fetchall()}
    never_changed = _scoped_customers(user).count() - sum(counts.values())
    counts[("", "")] = counts.get(("", ""), 0) + max(never_changed, 0)
    names = tier_names()
    thresholds = dict(TierLevel.objects.values_list("code", "aum_threshold"))
    seen = {code for pair in counts for code in pair if code}
    codes = sorted(seen | {lvl.code for lvl in active_levels()}, key=lambda c: -(thresholds.get(c) or 0)) + [
        ""
    ]
    cells = [[counts.get((f, t), 0) for t in codes] for f in codes]
    return Matrix(
        month_from=month_from,
        month_to=month_to,
        codes=codes,
        labels=[tier_label(c, names) for c in codes],
        cells=cells,
        row_totals=[sum(row) for row in cells],
        col_totals=[sum(cells[i][j] for i in range(len(codes))) for j in range(len(codes))],
        total=sum(sum(row) for row in cells),
    )


@dataclass
class WonLost:
    start: datetime.date
    end: datetime.date
    registered: int
    liquidated: int
    entered: int  # came into a tier
    left: int  # dropped out of every tier
    rows: list[VipStatusChange]
    by_branch: list[dict[str, Any]]


def won_and_lost(user: User, start: datetime.date, end: datetime.date, limit: int = 200) -> WonLost:
    """VIPs newly won (registered) and lost (liquidated) between two dates, and the
    customers who came into or dropped out of the tiers, in the user's scope."""
    changes = VipStatusChange.objects.visible_to(user).filter(
        effective_date__gte=start,
        effective_date__lte=end,
        to_status__in=[VipStatus.REGISTERED, VipStatus.LIQUIDATED],
    )
    counts = dict(changes.order_by().values_list("to_status").annotate(n=Count("pk")))
    tiers = TierChange.objects.visible_to(user).filter(effective_date__gte=start, effective_date__lte=end)
    entered = tiers.filter(from_tier="").exclude(to_tier="").count()
    left = tiers.filter(to_tier="").exclude(from_tier="").count()
    by_branch = list(
        changes.order_by()
        .values("customer__home_branch__code", "customer__home_branch__name")
        .annotate(
            registered=Count("pk", filter=Q(to_status=VipStatus.REGISTERED)),
            liquidated=Count("pk", filter=Q(to_status=VipStatus.LIQUIDATED)),
        )
        .order_by("customer__home_branch__code")
    )
    rows = list(
        changes.select_related("customer", "customer__home_branch", "changed_by").order_by(
            "-effective_date", "-id"
        )[:limit]
    )
    return WonLost(
        start=start,
        end=end,
        registered=counts.get(VipStatus.REGISTERED, 0),
        liquidated=counts.get(VipStatus.LIQUIDATED, 0),
        entered=entered,
        left=left,
        rows=rows,
        by_branch=by_branch,
    )
