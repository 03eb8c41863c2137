"""Sales from core banking and their attribution, set-based.

`sales_from_new_accounts(business_date)` runs after the nightly load:

0. confirms account-opening requests (开户预约): the n-th open request of a product
   for a customer (recorded by the end of the business date, oldest first) takes the
   n-th account of that product the customer opened on the business date that is
   not a sale yet. The request becomes opened and its sale is written, attributed to
   the requesting manager and that manager's branch, through the request's channel:
   the unconfirmed sale of the won opportunity the request carries when there is
   one, else a new sale (which wins the open opportunity the request carries). One
   OPENING_CONFIRMED audit event per request (`opening_matches.audit_confirmed`);
1. confirms won-opportunity sales: the n-th unconfirmed sale of a product to a
   customer (won in the last `MATCH_DAYS` days) takes the n-th account of that
   product the customer opened on the business date; the sale then carries the
   account's date and amount;
2. records every other account opened on the business date as a sale;
3. attributes the day's sales (but those of opening requests, which stay with the
   requesting manager) to the manager of record on the sale date
   (`customers.CustomerAssignment`, the primary assignment open on that date) and
   to that manager's branch (the customer's home branch when nobody looks after
   the customer);
4. links a sale to the campaign it converts: the customer was an included target
   of a campaign running on the sale date that offers the product, and was
   contacted in it by the end of that day; the target is then converted. Such a
   sale came through the channel of the target's last contact by the end of that
   day (a request's sale keeps the request's channel).

Each step is one statement; running the job twice for a date changes nothing more.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .choices import OPEN_STAGES, OpeningStatus, OpportunityStage, SaleSource, TargetStatus

MATCH_DAYS = 60

# --- account-opening requests ------------------------------------------------------

# Pairs the n-th open request of a product for a customer, recorded by the end of the
# business date (oldest first), with the n-th account of that product the customer
# opened that day (lowest id first) that is neither a sale nor another request's.
OPENING_PAIR_SQL = """
UPDATE marketing_openingrequest
   SET status = %(opened)s, account_id = pairs.account_id, opened_on = %(day)s, matched_at = %(now)s
  FROM (
        SELECT q.id AS request_id, a.id AS account_id
          FROM (SELECT r.id, r.customer_id, p.code AS product_code,
                       ROW_NUMBER() OVER (PARTITION BY r.customer_id, p.code ORDER BY r.created_at, r.id) AS n
                  FROM marketing_openingrequest r
                  JOIN marketing_product p ON p.id = r.product_id
                 WHERE r.status IN (%(requested)s, %(appointed)s) AND r.created_at < %(day_end)s) q
          JOIN (SELECT acc.id, acc.customer_id, acc.product_code,
                       ROW_NUMBER() OVER (PARTITION BY acc.customer_id, acc.product_code ORDER BY acc.id) AS n
                  FROM customers_account acc
                 WHERE acc.open_date = %(day)s
                   AND NOT EXISTS (SELECT 1 FROM marketing_sale x WHERE x.account_id = acc.id)
                   AND NOT EXISTS (SELECT 1 FROM marketing_openingrequest y WHERE y.account_id = acc.id)) a
            ON a.customer_id = q.customer_id AND a.product_code = q.product_code AND a.n = q.n
       ) pairs
 WHERE marketing_openingrequest.id = pairs.request_id
"""

# The requests the pairing just confirmed: opened on the day by nobody (the job), no sale yet.
JUST_PAIRED = (
    "r.status = %(opened)s AND r.opened_on = %(day)s AND r.sale_id IS NULL AND r.matched_by_id IS NULL"
)

# The branch of an opening request's sale: the requesting manager's (the request's
# own branch when the manager has none), as a sale's branch is its manager's.
OPENING_BRANCH = "COALESCE((SELECT u.branch_id FROM accounts_user u WHERE u.id = r.manager_id), r.branch_id)"

# A confirmed request carrying a won opportunity whose sale core banking has not
# confirmed yet: that sale is the account's (no second sale of the same opening),
# and it now belongs to the request.
OPENING_OPPORTUNITY_SQL = f"""
UPDATE marketing_sale
   SET account_id = r.account_id, amount = a.cny_balance, sale_date = r.opened_on, source = %(opening)s,
       manager_id = r.manager_id, branch_id = {OPENING_BRANCH}, channel_id = r.channel_id,
       target_id = COALESCE(marketing_sale.target_id, r.target_id)
  FROM marketing_openingrequest r
  JOIN customers_account a ON a.id = r.account_id
 WHERE {JUST_PAIRED}
   AND marketing_sale.opportunity_id = r.opportunity_id AND marketing_sale.account_id IS NULL
   AND marketing_sale.product_id = r.product_id
"""

# Every other confirmed request: a new sale of its account. It carries the request's
# opportunity when no sale does yet (the first request of it, if several).
OPENING_INSERT_SQL = f"""
INSERT INTO marketing_sale
    (customer_id, product_id, product_code, category, amount, sale_date, manager_id, branch_id, source,
     account_id, opportunity_id, target_id, channel_id, recorded_at)
SELECT a.customer_id, r.product_id, a.product_code, a.category, a.cny_balance, r.opened_on, r.manager_id,
       {OPENING_BRANCH}, %(opening)s, a.id,
       CASE WHEN r.opportunity_id IS NOT NULL
                 AND ROW_NUMBER() OVER (PARTITION BY r.opportunity_id ORDER BY r.id) = 1
                 AND NOT EXISTS (SELECT 1 FROM marketing_sale o WHERE o.opportunity_id = r.opportunity_id)
            THEN r.opportunity_id END,
       r.target_id, r.channel_id, %(now)s
  FROM marketing_openingrequest r
  JOIN customers_account a ON a.id = r.account_id
 WHERE {JUST_PAIRED}
   AND NOT EXISTS (SELECT 1 FROM marketing_sale s WHERE s.account_id = a.id)
"""

# The request's sale: the one of its account (the requests' ids are given).
OPENING_LINK_SQL = """
UPDATE marketing_openingrequest
   SET sale_id = (SELECT s.id FROM marketing_sale s WHERE s.account_id = marketing_openingrequest.account_id)
 WHERE id IN ({ids})
"""
# What the audit names of each confirmed request.
OPENING_CONFIRMED_SQL = """
SELECT r.id, r.customer_id, r.product_id, s.account_id, s.id, s.opportunity_id
  FROM marketing_openingrequest r JOIN marketing_sale s ON s.id = r.sale_id
 WHERE r.id IN ({ids}) ORDER BY r.id
"""

# An open opportunity whose customer opened the account through a request is won by it.
OPENING_WIN_SQL = """
UPDATE marketing_opportunity SET stage = %(won)s, closed_at = %(now)s
 WHERE stage IN ({open_stages})
   AND id IN (SELECT opportunity_id FROM marketing_sale
               WHERE source = %(opening)s AND sale_date = %(day)s AND opportunity_id IS NOT NULL)
"""

# --- won opportunities and new accounts ---------------------------------------------

CONFIRM_SQL = """
UPDATE marketing_sale
   SET account_id = pairs.account_id, amount = pairs.amount, sale_date = %(day)s
  FROM (
        SELECT s.id AS sale_id, a.id AS account_id, a.cny_balance AS amount
          FROM (SELECT id, customer_id, product_code,
                       ROW_NUMBER() OVER (PARTITION BY customer_id, product_code ORDER BY sale_date, id) AS n
                  FROM marketing_sale
                 WHERE account_id IS NULL AND source = %(opportunity)s
                   AND sale_date > %(since)s AND sale_date <= %(day)s) s
          JOIN (SELECT acc.id, acc.customer_id, acc.product_code, acc.cny_balance,
                       ROW_NUMBER() OVER (PARTITION BY acc.customer_id, acc.product_code ORDER BY acc.id) AS n
                  FROM customers_account acc
                 WHERE acc.open_date = %(day)s
                   AND NOT EXISTS (SELECT 1 FROM marketing_sale x WHERE x.account_id = acc.id)) a
            ON a.customer_id = s.customer_id AND a.product_code = s.product_code AND a.n = s.n
       ) pairs
 WHERE marketing_sale.id = pairs.sale_id
"""

INSERT_SQL = """
INSERT INTO marketing_sale
    (customer_id, product_id, product_code, category, amount, sale_date, branch_id, source, account_id,
     recorded_at)
SELECT a.customer_id, p.id, a.product_code, a.category, a.cny_balance, a.open_date, c.home_branch_id,
       %(core)s, a.id, %(now)s
  FROM customers_account a
  JOIN customers_customer c ON c.id = a.customer_id
  LEFT JOIN marketing_product p ON p.code = a.product_code
 WHERE a.open_date = %(day)s
   AND NOT EXISTS (SELECT 1 FROM marketing_sale s WHERE s.account_id = a.id)
"""

# The manager of record on a date: the primary assignment that started on or
# before it and had not ended by it (an assignment ends on the day the next starts).
# An opening request's sale is the requesting manager's: never re-attributed.
ATTRIBUTE_SQL = """
UPDATE marketing_sale
   SET manager_id = (
        SELECT ca.manager_id FROM customers_customerassignment ca
         WHERE ca.customer_id = marketing_sale.customer_id AND ca.role = 'primary'
           AND ca.start_date <= marketing_sale.sale_date
           AND (ca.end_date IS NULL OR ca.end_date > marketing_sale.sale_date)
         ORDER BY ca.start_date DESC, ca.id DESC
         LIMIT 1)
 WHERE source <> 'opening' AND {where}
"""
BRANCH_SQL = """
UPDATE marketing_sale
   SET branch_id = COALESCE(
        (SELECT u.branch_id FROM accounts_user u WHERE u.id = marketing_sale.manager_id),
        (SELECT c.home_branch_id FROM customers_customer c WHERE c.id = marketing_sale.customer_id))
 WHERE source <> 'opening' AND {where}
"""

# The target a sale converts: an included target of a campaign running on the sale
# date that offers the product, contacted in it by the end of that day.
TARGET_SQL = """
        SELECT t.id FROM marketing_campaigntarget t
          JOIN marketing_campaign c ON c.id = t.campaign_id
         WHERE t.customer_id = marketing_sale.customer_id AND t.excluded_reason = ''
           AND c.status IN ('running', 'closed', 'evaluated')
           AND c.start_date <= marketing_sale.sale_date AND c.end_date >= marketing_sale.sale_date
           AND EXISTS (SELECT 1 FROM marketing_campaign_products cp
                        WHERE cp.campaign_id = c.id AND cp.product_id = marketing_sale.product_id)
           AND EXISTS (SELECT 1 FROM marketing_marketingcontact mc
                        WHERE mc.target_id = t.id AND mc.occurred_at < %(day_end)s)
         ORDER BY c.start_date DESC, t.id DESC
         LIMIT 1
"""
LINK_SQL = f"""
UPDATE marketing_sale SET target_id = ({TARGET_SQL})
 WHERE sale_date = %(day)s AND target_id IS NULL AND product_id IS NOT NULL
   AND EXISTS ({TARGET_SQL})
"""
# The channel of a sale linked to a campaign target: the one the target's last
# contact by the end of the sale day went through (none: NULL). A request's sale
# keeps the request's channel.
CHANNEL_SQL = """
UPDATE marketing_sale
   SET channel_id = (SELECT mc.via_id FROM marketing_marketingcontact mc
                      WHERE mc.target_id = marketing_sale.target_id AND mc.occurred_at < %(day_end)s
                      ORDER BY mc.occurred_at DESC, mc.id DESC
                      LIMIT 1)
 WHERE sale_date = %(day)s AND target_id IS NOT NULL AND source <> %(opening)s
"""
CAMPAIGN_SQL = """
UPDATE marketing_sale
   SET campaign_id = (SELECT t.campaign_id FROM marketing_campaigntarget t
                       WHERE t.id = marketing_sale.target_id)
 WHERE sale_date = %(day)s AND target_id IS NOT NULL AND campaign_id IS NULL
"""
CONVERT_SQL = """
UPDATE marketing_campaigntarget SET status = %(converted)s
 WHERE status <> %(converted)s
   AND id IN (SELECT target_id FROM marketing_sale WHERE sale_date = %(day)s AND target_id IS NOT NULL)
"""


def _day_end(day: datetime.date) -> datetime.datetime:
    start = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
    return timezone.make_aware(start) if timezone.is_naive(start) else start


@transaction.atomic
def sales_from_new_accounts(business_date: datetime.date) -> dict[str, int]:
    """The day's sales (see the module's docstring). "confirmed" counts the
    requests and the won-opportunity sales an account confirmed."""
    from .opening_matches import audit_confirmed

    params: dict[str, Any] = {
        "day": business_date,
        "since": business_date - datetime.timedelta(days=MATCH_DAYS),
        "opportunity": SaleSource.OPPORTUNITY.value,
        "core": SaleSource.CORE_BANKING.value,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
        "day_end": connection.ops.adapt_datetimefield_value(_day_end(business_date)),
        "converted": TargetStatus.CONVERTED.value,
        "opening": SaleSource.OPENING.value,
        "opened": OpeningStatus.OPENED.value,
        "requested": OpeningStatus.REQUESTED.value,
        "appointed": OpeningStatus.APPOINTED.value,
        "won": OpportunityStage.WON.value,
    }
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(OPENING_PAIR_SQL, params)
        cursor.execute(f"SELECT r.id FROM marketing_openingrequest r WHERE {JUST_PAIRED}", params)
        paired = [row[0] for row in cursor.fetchall()]
        confirmed: list[tuple] = []
        if paired:  # the statements below work on the requests just paired
            cursor.execute(OPENING_OPPORTUNITY_SQL, params)
            cursor.execute(OPENING_INSERT_SQL, params)
            ids = ", ".join(str(int(pk)) for pk in paired)
            cursor.execute(OPENING_LINK_SQL.format(ids=ids))
            cursor.execute(OPENING_CONFIRMED_SQL.format(ids=ids))
            confirmed = cursor.fetchall()
            stages = ", ".join(f"'{stage}'" for stage in OPEN_STAGES)
            cursor.execute(OPENING_WIN_SQL.format(open_stages=stages), params)
        cursor.execute(CONFIRM_SQL, params)
        counts["confirmed"] = len(confirmed) + cursor.rowcount
        cursor.execute(INSERT_SQL, params)
        counts["recorded"] = cursor.rowcount
        where = "sale_date = %(day)s"
        cursor.execute(ATTRIBUTE_SQL.format(where=where), params)
        cursor.execute(BRANCH_SQL.format(where=where), params)
        cursor.execute(LINK_SQL, params)
        counts["linked"] = cursor.rowcount
        cursor.execute(CHANNEL_SQL, params)
        cursor.execute(CAMPAIGN_SQL, params)
        cursor.execute(CONVERT_SQL, params)
        counts["converted"] = cursor.rowcount
    audit_confirmed(confirmed)
    return counts


def attribute_sales(sales: QuerySet) -> None:
    """Attribute some sales (a queryset of Sale) to the manager of record on their
    sale date, and to that manager's branch."""
    ids = list(sales.values_list("pk", flat=True))
    if not ids:
        return
    where = "id IN (" + ", ".join(["%s"] * len(ids)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(ATTRIBUTE_SQL.format(where=where), ids)
        cursor.execute(BRANCH_SQL.format(where=where), ids)
