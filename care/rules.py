"""The alert rules of docs/alerts.md, each one set-based statement for a business
date `d` (PostgreSQL). Elsewhere (the embedded SQLite default) the engine runs the
same rules through the ORM (`care.rules_portable`), which a test holds to writing
exactly the same alerts; it is also the benchmark's fair alternative.

Every rule is a `hits` query naming, per customer and event, the event's key and
dates and the figures the reason sentence is made of (care/reasons.py reads them;
numbers and codes only, never personal data). One statement around it
(`INSERT_ALERTS`) finds whom each alert is for and writes it:

    INSERT INTO care_alert (...)
    WITH heads AS (...), branch_head AS (...), hits AS (<the rule>)
    SELECT ... FROM hits JOIN customers_customer ...
    ON CONFLICT (kind, customer_id, event_key) DO NOTHING

The unique constraint `alert_once_per_event` (kind, customer, event) makes a
second evaluation of the same date add nothing and keeps a closed alert from being
raised again for the same event: the row is still there, whatever its status.

Whom for: the customer's manager of record (an active user), else the head of the
nearest branch at or above the customer's home branch that has one (an active user
with the branch-head role there; the lowest id when a branch has two). `branch` is
the customer's home branch.

Lunar birthdays are the one rule computed in Python (the lunar calendar is a table,
not arithmetic): those customers are few; their dates go into the same statement as
arrays.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.roles import Role
from core.months import month_back
from customers.choices import AccountCategory, AccountStatus, BirthdayCalendar, CustomerStatus, RiskClass

from .choices import AlertKind, AlertPriority, AlertStatus
from .parameters import AlertRules

# The memory of one evaluation's joins and aggregates (SET LOCAL, its transaction only).
WORK_MEM = "256MB"

# The account categories that mature (spec: time deposits, wealth products, insurance).
MATURING_CATEGORIES = (AccountCategory.DEP_TIME, AccountCategory.WEALTH, AccountCategory.INSURANCE)

# The branch head of every branch: the head of the nearest branch at or above it that
# has one. Branches are few (hundreds): this is small beside any rule.
HEADS_SQL = """
heads AS (
    SELECT u.branch_id, MIN(u.id) AS head_id
      FROM accounts_user u
      JOIN accounts_user_groups ug ON ug.user_id = u.id
      JOIN auth_group g ON g.id = ug.group_id
     WHERE u.is_active AND g.name = %(head_role)s AND u.branch_id IS NOT NULL
     GROUP BY u.branch_id
),
branch_head AS (
    SELECT DISTINCT ON (b.id) b.id AS branch_id, h.head_id
      FROM accounts_branch b
      JOIN accounts_branch up ON starts_with(b.path, up.path)
      JOIN heads h ON h.branch_id = up.id
     ORDER BY b.id, length(up.path) DESC
)"""


# The statement every rule runs in: `{hits}` yields customer_id, event_key,
# event_date, due_date, valid_until, figures (jsonb), and the customer's branch_id
# (home branch) and manager_id (manager of record), read where the rule reads the
# customer anyway. Events already raised are left out before the insert: NOT IN over
# the kind's alerts is one hashed subplan (a NOT EXISTS was planned as a nested loop
# when the rule's row estimate was low), cheaper than a conflict per row; ON CONFLICT
# still settles a concurrent run. `{hits}` may read `branch_head`.
def _insert_statement(priority: str) -> str:
    return (
        """
INSERT INTO care_alert (kind, customer_id, event_key, event_date, due_date, valid_until, priority,
                        assignee_id, branch_id, figures, status, outcome, close_note, created_at)
WITH"""
        + HEADS_SQL
        + """,
hits AS ({hits})
SELECT %(kind)s, h.customer_id, h.event_key, h.event_date, h.due_date, h.valid_until, """
        + priority
        + """,
       COALESCE(m.id, bh.head_id), h.branch_id, h.figures, %(open)s, '', '', %(now)s
  FROM hits h
  LEFT JOIN accounts_user m ON m.id = h.manager_id AND m.is_active
  LEFT JOIN branch_head bh ON bh.branch_id = h.branch_id
 WHERE (h.customer_id, h.event_key) NOT IN (SELECT x.customer_id, x.event_key FROM care_alert x
                                             WHERE x.kind = %(kind)s AND x.customer_id IS NOT NULL)
ON CONFLICT (kind, customer_id, event_key) DO NOTHING
"""
    )


# Every alert of the rule at the kind's priority (the parameter `priority_<kind>`).
INSERT_ALERTS = _insert_statement("%(priority)s")
# Each alert at the priority its hit gives (a column `priority`): the overdue rule.
INSERT_ALERTS_PRIORITISED = _insert_statement("h.priority")

# A customer the rules look at: not folded into another record, not closed.
LIVE = "c.merged_into_id IS NULL AND c.status <> %(closed)s"

# Birthdays by the solar calendar in [d, d + birthday_days]: this year's and next
# year's birthday of each customer whose month and day fall in the window (the keys
# prefilter: month * 100 + day); 29 February is kept on 28 February in other years.
BIRTHDAY_HITS = f"""
SELECT c.id AS customer_id, b.y::text AS event_key, b.day AS event_date, b.day AS due_date,
       b.day + 1 AS valid_until,
       jsonb_build_object('birthday', to_char(b.day, 'YYYY-MM-DD'),
                          'age', b.y - EXTRACT(YEAR FROM c.birth_date)::int,
                          'calendar', 'solar') AS figures,
       c.home_branch_id AS branch_id, c.primary_manager_id AS manager_id
  FROM customers_customer c
  CROSS JOIN LATERAL (
        SELECT y, CASE WHEN EXTRACT(MONTH FROM c.birth_date) = 2 AND EXTRACT(DAY FROM c.birth_date) = 29
                            AND NOT (y %% 4 = 0 AND (y %% 100 <> 0 OR y %% 400 = 0))
                       THEN make_date(y, 2, 28)
                       ELSE make_date(y, EXTRACT(MONTH FROM c.birth_date)::int,
                                      EXTRACT(DAY FROM c.birth_date)::int) END AS day
          FROM (VALUES (%(year)s), (%(year)s + 1)) AS years(y)
       ) b
 WHERE {LIVE} AND c.birth_date IS NOT NULL AND c.birthday_calendar = %(solar)s
   AND (EXTRACT(MONTH FROM c.birth_date) * 100 + EXTRACT(DAY FROM c.birth_date))::int = ANY(%(keys)s)
   AND b.day BETWEEN %(d)s AND %(until)s AND b.day > c.birth_date
"""

# Lunar birthdays, computed in Python (`lunar_birthdays`), passed as arrays.
LUNAR_BIRTHDAY_HITS = """
SELECT u.customer_id, u.y::text AS event_key, u.day AS event_date, u.day AS due_date,
       u.day + 1 AS valid_until,
       jsonb_build_object('birthday', to_char(u.day, 'YYYY-MM-DD'), 'age', u.age,
                          'calendar', 'lunar') AS figures,
       c.home_branch_id AS branch_id, c.primary_manager_id AS manager_id
  FROM unnest(%(ids)s::bigint[], %(days)s::date[], %(years)s::int[], %(ages)s::int[])
       AS u(customer_id, day, y, age)
  JOIN customers_customer c ON c.id = u.customer_id
"""

# Open accounts of the maturing categories with their maturity in [d, d + maturity_days]
# (index account_open_maturity: maturity_date of open accounts).
MATURITY_HITS = f"""
SELECT a.customer_id, a.id::text || ':' || to_char(a.maturity_date, 'YYYY-MM-DD') AS event_key,
       a.maturity_date AS event_date, a.maturity_date AS due_date, a.maturity_date AS valid_until,
       jsonb_build_object('account_tail', right(a.account_no, 4), 'category', a.category,
                          'maturity_date', to_char(a.maturity_date, 'YYYY-MM-DD'),
                          'amount', a.cny_balance::text) AS figures,
       c.home_branch_id AS branch_id, c.primary_manager_id AS manager_id
  FROM customers_account a
  JOIN customers_customer c ON c.id = a.customer_id
 WHERE a.status = %(account_open)s AND a.category = ANY(%(categories)s)
   AND a.maturity_date BETWEEN %(d)s AND %(until)s AND {LIVE}
"""

# The risk assessment expires in [d, d + risk_expiry_days] or has expired. One alert
# per expiry date; one that had already expired is due at once (d), not in the past.
RISK_EXPIRY_HITS = f"""
SELECT c.id AS customer_id, to_char(c.risk_expiry, 'YYYY-MM-DD') AS event_key,
       c.risk_expiry AS event_date, GREATEST(c.risk_expiry, %(d)s::date) AS due_date,
       GREATEST(c.risk_expiry, %(d)s::date) + %(validity)s AS valid_until,
       jsonb_build_object('expiry_date', to_char(c.risk_expiry, 'YYYY-MM-DD'),
                          'expired', c.risk_expiry < %(d)s::date) AS figures,
       c.home_branch_id AS branch_id, c.primary_manager_id AS manager_id
  FROM customers_customer c
 WHERE {LIVE} AND c.risk_expiry IS NOT NULL AND c.risk_expiry <= %(until)s
"""

# AUM at d against AUM on the last loaded date on or before d - lookback: a fall of
# at least the percentage AND at least the amount. A customer alerted for an outflow
# within the lookback already is not alerted again for the same fall, seen from the
# following days.
LARGE_OUTFLOW_HITS = f"""
SELECT n.customer_id, to_char(%(d)s::date, 'YYYY-MM-DD') AS event_key, %(d)s::date AS event_date,
       %(d)s::date AS due_date, %(d)s::date + %(validity)s AS valid_until,
       jsonb_build_object('aum_before', p.aum::text, 'aum_now', n.aum::text,
                          'change', (n.aum - p.aum)::text,
                          'percent', round((n.aum - p.aum) * 100 / p.aum, 1)::text,
                          'since', to_char(p.business_date, 'YYYY-MM-DD')) AS figures,
       c.home_branch_id AS branch_id, c.primary_manager_id AS manager_id
  FROM customers_customerdailyaum n
  JOIN customers_customerdailyaum p ON p.customer_id = n.customer_id
   AND p.business_date = (SELECT MAX(business_date) FROM customers_customerdailyaum
                           WHERE business_date <= %(back)s)
  JOIN customers_customer c ON c.id = n.customer_id
 WHERE n.business_date = %(d)s AND p.aum > 0
   AND p.aum - n.aum >= %(amount)s AND (p.aum - n.aum) * 100 >= p.aum * %(percent)s
   AND {LIVE}
   AND NOT EXISTS (SELECT 1 FROM care_alert x
                    WHERE x.kind = %(kind)s AND x.customer_id = n.customer_id
                      AND x.event_date > %(back)s AND x.event_date < %(d)s)
"""

# Dormancy, two events: the status is dormant (once per spell: not again while no
# transaction came after the last such alert), or no transaction for dormancy_days
# (the last transaction date is the marketing profile's, recomputed after each load;
# a customer who never transacted counts once the bank's transactions reach back
# that far and the relationship is that old).
DORMANCY_HITS = """
SELECT c.id AS customer_id, 'status:' || to_char(%(d)s::date, 'YYYY-MM-DD') AS event_key,
       %(d)s::date AS event_date, %(d)s::date AS due_date, %(d)s::date + %(validity)s AS valid_until,
       jsonb_build_object('reason', 'status',
                          'last_transaction', to_char(mp.last_txn_date, 'YYYY-MM-DD'),
                          'days', COALESCE(%(d)s::date - COALESCE(mp.last_txn_date, c.open_date), 0))
         AS figures, c.home_branch_id AS branch_id, c.primary_manager_id AS manager_id
  FROM customers_customer c
  LEFT JOIN marketing_marketingprofile mp ON mp.customer_id = c.id
 WHERE c.status = %(dormant)s AND c.merged_into_id IS NULL
   AND NOT EXISTS (SELECT 1 FROM care_alert x
                    WHERE x.kind = %(kind)s AND x.customer_id = c.id AND x.event_key LIKE 'status:%%'
                      AND (mp.last_txn_date IS NULL OR x.event_date >= mp.last_txn_date))
UNION ALL
SELECT c.id, 'idle:' || COALESCE(to_char(mp.last_txn_date, 'YYYY-MM-DD'), 'never'),
       %(d)s::date, %(d)s::date, %(d)s::date + %(validity)s,
       jsonb_build_object('reason', 'no_transaction',
                          'last_transaction', to_char(mp.last_txn_date, 'YYYY-MM-DD'),
                          'days', %(d)s::date - COALESCE(mp.last_txn_date, c.open_date, %(back)s::date)),
       c.home_branch_id, c.primary_manager_id
  FROM customers_customer c
  JOIN marketing_marketingprofile mp ON mp.customer_id = c.id
 WHERE c.status = %(active)s AND c.merged_into_id IS NULL
   AND (mp.last_txn_date <= %(back)s
        OR (mp.last_txn_date IS NULL AND %(history)s AND COALESCE(c.open_date, %(back)s::date) <= %(back)s))
"""

# The nightly tier evaluation's changes effective at d (vip.TierChange): the latest
# of the day per customer.
TIER_CHANGE_HITS = f"""
SELECT DISTINCT ON (t.customer_id)
       t.customer_id, to_char(%(d)s::date, 'YYYY-MM-DD') AS event_key, %(d)s::date AS event_date,
       %(d)s::date AS due_date, %(d)s::date + %(validity)s AS valid_until,
       jsonb_build_object('from', t.from_tier, 'to', t.to_tier) AS figures,
       c.home_branch_id AS branch_id, c.primary_manager_id AS manager_id
  FROM vip_tierchange t
  JOIN customers_customer c ON c.id = t.customer_id
 WHERE t.effective_date = %(d)s AND {LIVE}
 ORDER BY t.customer_id, t.id DESC
"""

# Contact overdue (vip.standards' rule, the same facts): a major customer (holding a
# tier, or in the top share of their manager's book by AUM) whose last contact, and
# their assignment to the manager, are older than their tier's contact interval. The
# event is the day the contact fell due (the last contact, else the assignment, plus
# the interval): the same key vip.standards' announcement gives it (care.services.
# alerts), so the two writers never make two alerts of one event; a contact since
# moves it and makes a new event later. One open warning per customer.
CONTACT_OVERDUE_HITS = """
WITH book AS (
    SELECT c.id, c.primary_manager_id AS manager_id, c.home_branch_id AS branch_id, c.tier,
           ROW_NUMBER() OVER (PARTITION BY c.primary_manager_id ORDER BY c.aum DESC, c.id DESC) AS pos,
           COUNT(*) OVER (PARTITION BY c.primary_manager_id) AS n
      FROM customers_customer c
     WHERE c.primary_manager_id IS NOT NULL AND c.merged_into_id IS NULL AND c.status <> %(closed)s
),
major AS (SELECT id, manager_id, branch_id, tier FROM book
           WHERE tier <> '' OR (pos - 1) * 100 < n * %(share)s),
facts AS MATERIALIZED (
    SELECT m.id AS customer_id, m.manager_id, m.branch_id, m.tier,
           COALESCE(iv.days, %(default_days)s) AS days, a.start_date,
           ((SELECT MAX(i.occurred_at) FROM customers_interaction i
              WHERE i.customer_id = m.id AND i.kind = ANY(%(contact_kinds)s)) AT TIME ZONE %(tz)s)::date
             AS last_contact
      FROM major m
      JOIN customers_customerassignment a
        ON a.customer_id = m.id AND a.role = 'primary' AND a.end_date IS NULL
      LEFT JOIN unnest(%(tiers)s::text[], %(tier_days)s::int[]) AS iv(tier, days) ON iv.tier = m.tier
),
overdue AS (
    SELECT f.*, COALESCE(f.last_contact, f.start_date) + f.days AS since
      FROM facts f
     WHERE f.start_date + f.days < %(d)s
       AND (f.last_contact IS NULL OR f.last_contact + f.days < %(d)s)
)
SELECT o.customer_id, to_char(o.since, 'YYYY-MM-DD') AS event_key, o.since AS event_date,
       o.since AS due_date, o.since + %(validity)s AS valid_until,
       jsonb_build_object('tier', o.tier, 'last_contact', to_char(o.last_contact, 'YYYY-MM-DD'),
                          'standard_days', o.days,
                          'overdue_since', to_char(o.since, 'YYYY-MM-DD')) AS figures,
       o.branch_id, o.manager_id
  FROM overdue o
 WHERE NOT EXISTS (SELECT 1 FROM care_alert x
                    WHERE x.kind = %(kind)s AND x.customer_id = o.customer_id
                      AND x.status IN (%(open)s, %(snoozed)s))
"""

# Loans and cards past due or downgraded (customers.LoanStatus, a change log: the
# rows of d are the accounts whose status changed on d; the status before is the
# account's latest row before d, none meaning current and normal). Past due: the
# highest threshold crossed on d (below it before, at or above it now), once per
# delinquency episode (its first day: d - overdue_days + 1) and threshold; high
# priority from `high_days`. Classified: at or worse than `class_from` and worse than
# before, high priority, for the manager of record (as every rule) and a copy for
# the branch head (`manager_id` NULL: the head is the assignee), unless the first
# alert is the head's already (no active manager, or the manager is the head).
OVERDUE_HITS = f"""
WITH changed AS MATERIALIZED (
    SELECT t.account_id, t.overdue_days, t.overdue_amount, t.risk_class,
           COALESCE(p.overdue_days, 0) AS days_before, COALESCE(p.risk_class, %(normal)s) AS class_before,
           a.customer_id, right(a.account_no, 4) AS tail, a.category,
           c.home_branch_id AS branch_id, c.primary_manager_id AS manager_id
      FROM customers_loanstatus t
      JOIN customers_account a ON a.id = t.account_id
      JOIN customers_customer c ON c.id = a.customer_id
      LEFT JOIN LATERAL (SELECT q.overdue_days, q.risk_class FROM customers_loanstatus q
                          WHERE q.account_id = t.account_id AND q.business_date < t.business_date
                          ORDER BY q.business_date DESC LIMIT 1) p ON true
     WHERE t.business_date = %(d)s AND {LIVE}
),
past_due AS (
    SELECT x.*, (SELECT MAX(th) FROM unnest(%(thresholds)s::int[]) AS th
                  WHERE th > x.days_before AND th <= x.overdue_days) AS threshold
      FROM changed x
     WHERE x.overdue_days > x.days_before
),
classified AS (
    SELECT x.*, 'class:' || x.account_id || ':' || to_char(%(d)s::date, 'YYYY-MM-DD') || ':' || x.risk_class
             AS key,
           jsonb_build_object('account', x.account_id, 'tail', x.tail, 'category', x.category,
                              'class', x.risk_class, 'from', x.class_before) AS figures
      FROM changed x
     WHERE x.risk_class >= %(class_from)s AND x.risk_class > x.class_before
)
SELECT x.customer_id,
       'due:' || x.account_id || ':' || to_char(%(d)s::date - x.overdue_days + 1, 'YYYY-MM-DD')
         || ':' || x.threshold AS event_key,
       %(d)s::date AS event_date, %(d)s::date AS due_date, %(d)s::date + %(validity)s AS valid_until,
       jsonb_build_object('account', x.account_id, 'tail', x.tail, 'category', x.category,
                          'days', x.overdue_days, 'amount', x.overdue_amount::text,
                          'threshold', x.threshold) AS figures,
       x.branch_id, x.manager_id,
       CASE WHEN x.overdue_days >= %(high_days)s THEN %(high)s ELSE %(priority)s END AS priority
  FROM past_due x
 WHERE x.threshold IS NOT NULL
UNION ALL
SELECT x.customer_id, x.key, %(d)s::date, %(d)s::date, %(d)s::date + %(validity)s, x.figures,
       x.branch_id, x.manager_id, %(high)s
  FROM classified x
UNION ALL
SELECT x.customer_id, x.key || ':head', %(d)s::date, %(d)s::date, %(d)s::date + %(validity)s, x.figures,
       x.branch_id, NULL, %(high)s
  FROM classified x
  JOIN branch_head bh ON bh.branch_id = x.branch_id
  JOIN accounts_user m ON m.id = x.manager_id AND m.is_active
 WHERE m.id <> bh.head_id
"""

# Escalation: an alert left open (or snoozed, counted from the end of its snooze)
# past its due date by escalation_days goes to the head of the nearest branch at or
# above its branch that has one other than its assignee. Once: escalated_at is set.
ESCALATE_SQL = """
WITH heads AS (
    SELECT DISTINCT u.branch_id, u.id AS head_id
      FROM accounts_user u
      JOIN accounts_user_groups ug ON ug.user_id = u.id
      JOIN auth_group g ON g.id = ug.group_id
     WHERE u.is_active AND g.name = %(head_role)s AND u.branch_id IS NOT NULL
),
due AS (
    SELECT DISTINCT ON (a.id) a.id, h.head_id
      FROM care_alert a
      JOIN accounts_branch b ON b.id = a.branch_id
      JOIN accounts_branch up ON starts_with(b.path, up.path)
      JOIN heads h ON h.branch_id = up.id AND h.head_id IS DISTINCT FROM a.assignee_id
     WHERE a.status IN (%(open)s, %(snoozed)s) AND a.escalated_at IS NULL AND a.kind <> %(own)s
       AND GREATEST(a.due_date, COALESCE(a.snoozed_until, a.due_date)) <= %(cutoff)s
     ORDER BY a.id, length(up.path) DESC, h.head_id
)
UPDATE care_alert SET escalated_at = %(now)s, escalated_to_id = due.head_id
  FROM due
 WHERE care_alert.id = due.id"""


@dataclass(frozen=True)
class Context:
    """What one evaluation runs with: the business date, the parameters in force, the
    time the alerts are raised at."""

    day: datetime.date
    rules: AlertRules
    now: datetime.datetime

    def base(self, kind: str) -> dict[str, Any]:
        return {
            "kind": kind,
            "priority": self.rules.priorities.get(kind, 2),
            "now": self.now,
            "open": AlertStatus.OPEN.value,
            "snoozed": AlertStatus.SNOOZED.value,
            "head_role": Role.BRANCH_HEAD.value,
            "closed": CustomerStatus.CLOSED.value,
            "d": self.day,
            "validity": self.rules.validity_days,
        }


def _days(day: datetime.date, n: int) -> datetime.date:
    return day + datetime.timedelta(days=n)


def _insert(kind: str, hits: str, params: dict[str, Any], statement: str = INSERT_ALERTS) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement.replace("{hits}", hits), params)
        return max(cursor.rowcount, 0)


def birthday(ctx: Context) -> int:
    from marketing.segments import birthday_keys

    n = ctx.rules.birthday_days
    params = {
        **ctx.base(AlertKind.BIRTHDAY),
        "year": ctx.day.year,
        "until": _days(ctx.day, n),
        "keys": birthday_keys(ctx.day, n),
        "solar": BirthdayCalendar.SOLAR.value,
    }
    solar = _insert(AlertKind.BIRTHDAY, BIRTHDAY_HITS, params)
    found = lunar_birthdays(ctx.day, n)
    if not found:
        return solar
    lunar = _insert(
        AlertKind.BIRTHDAY,
        LUNAR_BIRTHDAY_HITS,
        {
            **ctx.base(AlertKind.BIRTHDAY),
            "ids": [f.customer_id for f in found],
            "days": [f.day for f in found],
            "years": [f.lunar_year for f in found],
            "ages": [f.age for f in found],
        },
    )
    return solar + lunar


@dataclass(frozen=True)
class LunarBirthday:
    customer_id: int
    day: datetime.date  # the solar date it falls on
    lunar_year: int
    age: int


def lunar_birthday_in(birth: datetime.date, lunar_year: int) -> datetime.date | None:
    """The solar date of a lunar-calendar birthday in `lunar_year`: the same lunar
    month and day (a leap-month birthday is kept in the ordinary month of that
    number; the 30th, in a month of 29 days, on the 29th). None outside the
    calendar's table."""
    from lunardate import LunarDate  # type: ignore[import-untyped]

    try:
        born = LunarDate.from_solar_date(birth.year, birth.month, birth.day)
    except ValueError:
        return None
    for day in (born.day, 29):
        try:  # the table refuses a 30th the month lacks (and years outside it)
            return LunarDate(lunar_year, born.month, day).to_solar_date()
        except ValueError:
            continue
    return None


def lunar_birthdays(day: datetime.date, days: int) -> list[LunarBirthday]:
    """The customers keeping their birthday by the lunar calendar whose birthday falls
    in [day, day + days], with the lunar year (the event) and the age then."""
    from lunardate import LunarDate

    from customers.models import Customer

    until = _days(day, days)
    try:
        first_year = LunarDate.from_solar_date(day.year, day.month, day.day).year
    except ValueError:
        return []
    found = []
    people = (
        Customer.objects.filter(
            birthday_calendar=BirthdayCalendar.LUNAR, birth_date__isnull=False, merged_into__isnull=True
        )
        .exclude(status=CustomerStatus.CLOSED)
        .values_list("pk", "birth_date")
    )
    for pk, birth in people.iterator(chunk_size=2000):
        born_year = LunarDate.from_solar_date(birth.year, birth.month, birth.day).year
        for lunar_year in (first_year - 1, first_year, first_year + 1):
            on = lunar_birthday_in(birth, lunar_year)
            if on is not None and day <= on <= until and lunar_year > born_year:
                found.append(LunarBirthday(pk, on, lunar_year, lunar_year - born_year))
    return found


def maturity(ctx: Context) -> int:
    params = {
        **ctx.base(AlertKind.MATURITY),
        "until": _days(ctx.day, ctx.rules.maturity_days),
        "account_open": AccountStatus.OPEN.value,
        "categories": [str(c) for c in MATURING_CATEGORIES],
    }
    return _insert(AlertKind.MATURITY, MATURITY_HITS, params)


def risk_expiry(ctx: Context) -> int:
    params = {**ctx.base(AlertKind.RISK_EXPIRY), "until": _days(ctx.day, ctx.rules.risk_expiry_days)}
    return _insert(AlertKind.RISK_EXPIRY, RISK_EXPIRY_HITS, params)


def large_outflow(ctx: Context) -> int:
    params = {
        **ctx.base(AlertKind.LARGE_OUTFLOW),
        "back": _days(ctx.day, -ctx.rules.outflow_lookback_days),
        "amount": ctx.rules.outflow_amount,
        "percent": ctx.rules.outflow_percent,
    }
    return _insert(AlertKind.LARGE_OUTFLOW, LARGE_OUTFLOW_HITS, params)


def _transactions_reach(day: datetime.date) -> bool:
    from customers.models import TransactionSummary

    return TransactionSummary.objects.filter(business_date__lte=day).exists()


def dormancy(ctx: Context) -> int:
    back = _days(ctx.day, -ctx.rules.dormancy_days)
    params = {
        **ctx.base(AlertKind.DORMANCY),
        "back": back,
        "dormant": CustomerStatus.DORMANT.value,
        "active": CustomerStatus.ACTIVE.value,
        "history": _transactions_reach(back),
    }
    return _insert(AlertKind.DORMANCY, DORMANCY_HITS, params)


def tier_change(ctx: Context) -> int:
    return _insert(AlertKind.TIER_CHANGE, TIER_CHANGE_HITS, ctx.base(AlertKind.TIER_CHANGE))


def downgrade_warning(ctx: Context) -> int:
    """Customers inside the downgrade observation period of the tier evaluation
    (vip.evaluation): the latest window's average AUM below their tier's threshold,
    an earlier window of the period still at or above it (else the evaluation has
    downgraded them already), no override running. The downgrade takes effect in the
    month the youngest window at or above the threshold leaves the period, if every
    window until then stays below."""
    from vip.evaluation import current_rules

    rules = current_rules()
    w, n = rules.window, rules.observation
    if n < 2 or not rules.levels:
        return 0
    reference = ctx.day.replace(day=1)
    cents = "CAST(ROUND(m.avg_aum * 100) AS BIGINT)"
    sums, params = (
        [],
        {
            **ctx.base(AlertKind.DOWNGRADE_WARNING),
            "codes": [level.code for level in rules.levels],
            "thresholds": [level.threshold_cents * w for level in rules.levels],
            "first_month": month_back(reference, n + w - 2),
            "last_month": reference,
        },
    )
    for o in range(n):
        params[f"a{o}"], params[f"b{o}"] = month_back(reference, o + w - 1), month_back(reference, o)
        sums.append(f"SUM({cents}) FILTER (WHERE m.month BETWEEN %(a{o})s AND %(b{o})s) AS s{o}")
    effective = []
    for k in range(1, n):
        params[f"e{k}"] = month_back(reference, -(n - k))
        effective.append(f"WHEN s.s{k} >= lv.cents THEN %(e{k})s::date")
    in_observation = " OR ".join(f"s.s{k} >= lv.cents" for k in range(1, n))
    hits = f"""
    SELECT x.customer_id, to_char(x.effective, 'YYYY-MM-DD') AS event_key, %(d)s::date AS event_date,
           x.effective AS due_date, x.effective AS valid_until,
           jsonb_build_object('tier', x.tier, 'threshold', (x.cents / ({w} * 100.0))::numeric(18, 2)::text,
                              'aum', (x.s0 / ({w} * 100.0))::numeric(18, 2)::text,
                              'effective_date', to_char(x.effective, 'YYYY-MM-DD')) AS figures,
           x.branch_id, x.manager_id
      FROM (
            SELECT c.id AS customer_id, c.tier, lv.cents, COALESCE(s.s0, 0) AS s0,
                   c.home_branch_id AS branch_id, c.primary_manager_id AS manager_id,
                   CASE {" ".join(effective)} END AS effective
              FROM customers_customer c
              JOIN unnest(%(codes)s::text[], %(thresholds)s::bigint[]) AS lv(code, cents) ON lv.code = c.tier
             CROSS JOIN LATERAL (
                    SELECT {", ".join(sums)}
                      FROM customers_customermonthlyaum m
                     WHERE m.customer_id = c.id AND m.month BETWEEN %(first_month)s AND %(last_month)s
                   ) s
             WHERE c.tier = ANY(%(codes)s) AND {LIVE} AND COALESCE(s.s0, 0) < lv.cents AND ({in_observation})
               AND NOT EXISTS (SELECT 1 FROM vip_tieroverride o
                                WHERE o.customer_id = c.id AND o.ended_on IS NULL AND o.expires_on > %(d)s)
           ) x
    """
    return _insert(AlertKind.DOWNGRADE_WARNING, hits, params)


def contact_overdue(ctx: Context) -> int:
    from vip.models import TierPolicy
    from vip.standards import CONTACT_KINDS, contact_intervals

    per_tier, default_days = contact_intervals()
    tiers = sorted(per_tier)
    params = {
        **ctx.base(AlertKind.CONTACT_OVERDUE),
        "share": TierPolicy.current().major_share_pct,
        "default_days": default_days,
        "tiers": tiers,
        "tier_days": [per_tier[t] for t in tiers],
        "contact_kinds": [str(k) for k in CONTACT_KINDS],
        "tz": settings.TIME_ZONE,
    }
    return _insert(AlertKind.CONTACT_OVERDUE, CONTACT_OVERDUE_HITS, params)


def overdue(ctx: Context) -> int:
    params = {
        **ctx.base(AlertKind.OVERDUE),
        "normal": RiskClass.NORMAL.value,
        "thresholds": list(ctx.rules.overdue_thresholds),
        "high_days": ctx.rules.overdue_high_days,
        "high": AlertPriority.HIGH.value,
        "class_from": ctx.rules.overdue_class,
    }
    return _insert(AlertKind.OVERDUE, OVERDUE_HITS, params, INSERT_ALERTS_PRIORITISED)


@dataclass(frozen=True)
class Rule:
    kind: str
    evaluate: Callable[[Context], int]
    # whether the rule reads what a core-banking load brings (else it runs daily too)
    needs_batch: bool


RULES: tuple[Rule, ...] = (
    Rule(AlertKind.BIRTHDAY, birthday, needs_batch=False),
    Rule(AlertKind.MATURITY, maturity, needs_batch=False),
    Rule(AlertKind.RISK_EXPIRY, risk_expiry, needs_batch=False),
    Rule(AlertKind.LARGE_OUTFLOW, large_outflow, needs_batch=True),
    Rule(AlertKind.DORMANCY, dormancy, needs_batch=True),
    Rule(AlertKind.TIER_CHANGE, tier_change, needs_batch=True),
    Rule(AlertKind.DOWNGRADE_WARNING, downgrade_warning, needs_batch=True),
    Rule(AlertKind.CONTACT_OVERDUE, contact_overdue, needs_batch=False),
    Rule(AlertKind.OVERDUE, overdue, needs_batch=True),
)


def escalate(*, today: datetime.date, days: int, now: datetime.datetime | None = None) -> int:
    """Escalate the alerts open past their due date by `days` or more; returns how many."""
    params: dict[str, Any] = {
        "head_role": Role.BRANCH_HEAD.value,
        "open": AlertStatus.OPEN.value,
        "snoozed": AlertStatus.SNOOZED.value,
        "own": AlertKind.OWN.value,
        "cutoff": _days(today, -days),
        "now": now or timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(ESCALATE_SQL, params)
        return max(cursor.rowcount, 0)
