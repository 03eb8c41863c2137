"""Sales from core banking and their attribution, set-based.

`sales_from_new_accounts(business_date)` runs after the nightly load:

1. confirms won-opportunity sales: the n-th unconfirmed sale of a product to a
   customer (won in the last `MATCH_DAYS` days) takes the n-th account of that
   product the customer opened on the business date; the sale then carries the
   account's date and amount;
2. records every other account opened on the business date as a sale;
3. attributes the day's sales to the manager of record on the sale date
   (`customers.CustomerAssignment`, the primary assignment open on that date) and
   to that manager's branch (the customer's home branch when nobody looks after
   the customer);
4. links a sale to the campaign it converts: the customer was an included target
   of a campaign running on the sale date that offers the product, and was
   contacted in it by the end of that day; the target is then converted.

Each step is one statement; running the job twice for a date changes nothing more.
"""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .choices import SaleSource, TargetStatus

MATCH_DAYS = 60

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
ATTRIBUTE_SQL = """
UPDATE marketing_sale
   SET manager_id = (
        SELECT ca.manager_id FROM customers_customerassignment ca
         WHERE ca.customer_id = marketing_sale.customer_id AND ca.role = 'primary'
           AND ca.start_date <= marketing_sale.sale_date
           AND (ca.end_date IS NULL OR ca.end_date > marketing_sale.sale_date)
         ORDER BY ca.start_date DESC, ca.id DESC
         LIMIT 1)
 WHERE {where}
"""
BRANCH_SQL = """
UPDATE marketing_sale
   SET branch_id = COALESCE(
        (SELECT u.branch_id FROM accounts_user u WHERE u.id = marketing_sale.manager_id),
        (SELECT c.home_branch_id FROM customers_customer c WHERE c.id = marketing_sale.customer_id))
 WHERE {where}
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
    params: dict[str, datetime.date | str | None] = {
        "day": business_date,
        "since": business_date - datetime.timedelta(days=MATCH_DAYS),
        "opportunity": SaleSource.OPPORTUNITY.value,
        "core": SaleSource.CORE_BANKING.value,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
        "day_end": connection.ops.adapt_datetimefield_value(_day_end(business_date)),
        "converted": TargetStatus.CONVERTED.value,
    }
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(CONFIRM_SQL, params)
        counts["confirmed"] = cursor.rowcount
        cursor.execute(INSERT_SQL, params)
        counts["recorded"] = cursor.rowcount
        where = "sale_date = %(day)s"
        cursor.execute(ATTRIBUTE_SQL.format(where=where), params)
        cursor.execute(BRANCH_SQL.format(where=where), params)
        cursor.execute(LINK_SQL, params)
        counts["linked"] = cursor.rowcount
        cursor.execute(CAMPAIGN_SQL, params)
        cursor.execute(CONVERT_SQL, params)
        counts["converted"] = cursor.rowcount
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
