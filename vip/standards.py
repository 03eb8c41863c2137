"""Service standards of major customers (重要客户服务标准).

Major customers are the top share (policy, default 20%) of each manager's book by
AUM, and every customer holding a tier. The contact interval of their tier (or the
policy's interval for major customers without a tier) turns into due dates; a
customer not contacted within it becomes a warning for the manager, and the
managers' overdue counts a warning for their branch head.

`contact_warnings_refresh` is the nightly, set-based job; the pages compute the due
dates of the rows they show (`vip.selectors`) with the same rule.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from customers.choices import InteractionKind

from . import events
from .models import TierLevel, TierPolicy

# What counts as a contact with the customer (service requests and complaints come
# from the customer, not from the manager).
CONTACT_KINDS = (
    InteractionKind.VISIT,
    InteractionKind.CALL,
    InteractionKind.SMS,
    InteractionKind.WECHAT,
    InteractionKind.EMAIL,
)


def contact_intervals() -> tuple[dict[str, int], int]:
    """Days between contacts per tier code, and for major customers without a tier."""
    policy = TierPolicy.current()
    per_tier = dict(TierLevel.objects.filter(is_active=True).values_list("code", "contact_interval_days"))
    return per_tier, policy.major_contact_interval_days


def is_top_share(position: int, book_size: int, share_pct: int) -> bool:
    """Position (1 = largest AUM) within the top `share_pct` % of a book, rounded up
    (a book of 3 at 20% has one major customer)."""
    return (position - 1) * 100 < book_size * share_pct


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _json_object(*pairs: str) -> str:
    """A JSON object built in SQL from alternating key literals and expressions."""
    function = "json_build_object" if connection.vendor == "postgresql" else "json_object"
    return f"{function}({', '.join(pairs)})"


def _date_plus_days(date_sql: str, days_sql: str) -> str:
    if connection.vendor == "postgresql":
        return f"({date_sql} + {days_sql})"
    return f"date({date_sql}, '+' || {days_sql} || ' days')"


def _local_date(timestamp_sql: str) -> str:
    if connection.vendor == "postgresql":
        return f"({timestamp_sql} AT TIME ZONE '{timezone.get_current_timezone_name()}')::date"
    # SQLite keeps timestamps in UTC: the local date is the date at the zone's offset
    # (today's; the bank's zone keeps one all year)
    offset = timezone.localtime().utcoffset() or datetime.timedelta(0)
    return f"date({timestamp_sql}, '{int(offset.total_seconds() // 60):+d} minutes')"


@transaction.atomic
def contact_warnings_refresh(*, as_of: datetime.date | None = None) -> dict[str, int]:
    """Warnings for the overdue contacts of major customers (idempotent: one open
    warning per manager and customer; a contact or a change of manager closes it).
    The warnings are announced (`vip.events`): the alerts keep them."""
    as_of = as_of or timezone.localdate()
    ops = connection.ops
    per_tier, default_days = contact_intervals()
    policy = TierPolicy.current()
    kinds = ", ".join(f"'{k}'" for k in CONTACT_KINDS)

    def cutoff_case(column: str, as_datetime: bool) -> tuple[str, list]:
        arms, params = [], []
        for code, days in sorted(per_tier.items()):
            day = as_of - datetime.timedelta(days=days)
            arms.append(f"WHEN '{code}' THEN %s")
            params.append(
                ops.adapt_datetimefield_value(_start_of_day(day))
                if as_datetime
                else ops.adapt_datefield_value(day)
            )
        day = as_of - datetime.timedelta(days=default_days)
        params.append(
            ops.adapt_datetimefield_value(_start_of_day(day))
            if as_datetime
            else ops.adapt_datefield_value(day)
        )
        return f"(CASE {column} {' '.join(arms)} ELSE %s END)", params

    date_case, date_params = cutoff_case("m.tier", as_datetime=False)
    time_case, time_params = cutoff_case("m.tier", as_datetime=True)
    # the tier's standard (integers of the tier levels, not user input)
    days_case = (
        "(CASE m.tier "
        + " ".join(f"WHEN '{code}' THEN {int(days)}" for code, days in sorted(per_tier.items()))
        + f" ELSE {int(default_days)} END)"
    )
    last_contact = _local_date("lc.occurred_at")
    figures = _json_object(
        "'tier'",
        "m.tier",
        "'last_contact'",
        f"CAST({last_contact} AS TEXT)",
        "'standard_days'",
        days_case,
        "'overdue_since'",
        f"CAST({_date_plus_days(f'COALESCE({last_contact}, a.start_date)', days_case)} AS TEXT)",
    )
    # Every major customer whose contact is overdue on `as_of`, with their manager.
    select = f"""
        WITH book AS (
            SELECT c.id, c.primary_manager_id AS manager_id, c.tier,
                   ROW_NUMBER() OVER (PARTITION BY c.primary_manager_id
                                      ORDER BY c.aum DESC, c.id DESC) AS pos,
                   COUNT(*) OVER (PARTITION BY c.primary_manager_id) AS n
              FROM customers_customer c
             WHERE c.primary_manager_id IS NOT NULL AND c.merged_into_id IS NULL AND c.status <> 'C'
        ),
        m AS (SELECT id, manager_id, tier FROM book WHERE tier <> '' OR (pos - 1) * 100 < n * %s)
        SELECT m.manager_id, m.id, {figures}
          FROM m
          JOIN customers_customerassignment a
            ON a.customer_id = m.id AND a.role = 'primary' AND a.end_date IS NULL
          LEFT JOIN (SELECT i.customer_id, MAX(i.occurred_at) AS occurred_at
                       FROM customers_interaction i
                      WHERE i.kind IN ({kinds})
                      GROUP BY i.customer_id) lc ON lc.customer_id = m.id
         WHERE a.start_date < {date_case}
           AND NOT EXISTS (SELECT 1 FROM customers_interaction i
                            WHERE i.customer_id = m.id AND i.kind IN ({kinds})
                              AND i.occurred_at >= {time_case})"""
    counts = events.contact_warnings(
        day=as_of,
        select=select,
        params=[policy.major_share_pct, *date_params, *time_params],
        contact_kinds=tuple(str(k) for k in CONTACT_KINDS),
    )
    counts["branch_heads"] = _team_warnings(as_of)
    return counts


def _team_warnings(as_of: datetime.date) -> int:
    """One warning per branch head and manager with overdue contacts: the branch
    head of the manager's branch, or of the nearest branch above it that has one.
    Bounded by the number of managers, not customers."""
    overdue = dict(events.open_contact_warnings())
    managers = User.objects.filter(pk__in=overdue).values_list(
        "pk", "employee_no", "branch_id", "branch__path"
    )
    heads: dict[str, list[int]] = defaultdict(list)
    for pk, path in User.objects.filter(
        is_active=True, groups__name=Role.BRANCH_HEAD, branch__isnull=False
    ).values_list("pk", "branch__path"):
        heads[path].append(pk)
    rows = []
    for pk, employee_no, branch_id, path in managers:
        codes = path.strip("/").split("/") if path else []
        for depth in range(len(codes), 0, -1):
            found = heads.get("/".join(codes[:depth]) + "/")
            if found:
                rows += [
                    events.TeamWarning(
                        head_id=head, manager_no=employee_no, manager_branch_id=branch_id, count=overdue[pk]
                    )
                    for head in found
                ]
                break
    events.team_warnings(day=as_of, rows=rows)
    return len(rows)


def next_due(
    *,
    tier: str,
    major: bool,
    last_contact: datetime.datetime | None,
    since: datetime.date | None,
    per_tier: dict[str, int],
    default_days: int,
) -> tuple[datetime.date | None, int | None]:
    """The due date of a customer's next contact (and the interval), or None when the
    customer is not major. From the last contact, else from the assignment."""
    if not major:
        return None, None
    days = per_tier.get(tier, default_days) if tier else default_days
    start = timezone.localtime(last_contact).date() if last_contact else since
    if start is None:
        return None, days
    return start + datetime.timedelta(days=days), days
