"""Next best product (docs/analysis.md): what customers like this one hold that
this one does not.

A group is the customers who hold an open account of one category (time deposit,
fund, ...) and whose month-average AUM falls in one band (`AUM_BANDS`). For each
group of at least `MIN_GROUP` customers and each product on sale, the share of the
group holding it (an open account with the product's code) is a co-holding
(`analysis.CoHolding`). A customer's candidates are the products on sale they do
not hold, each scored by its highest share among the customer's groups; a rated
product their valid risk assessment does not cover is left out (the rule of
`marketing.suitability`, in its SQL form), and a customer who opted out of every
marketing channel gets none. The three best become `CustomerAnalysis.next_products`,
each with the group that gave its share, which `product_reasons` turns into a
sentence.

    recommend_products(as_of) -> {"groups": ..., "coholdings": ..., "customers": ...}

Set-based and portable (PostgreSQL and SQLite 3.33+: UPDATE ... FROM), in one
transaction: readers see last night's figures until the new ones commit, and a
re-run gives the same rows. How it stays fast at a million customers: customers
who hold the same categories, sit in the same band and may be offered the same
ratings (a "profile") share one ranked candidate list, worked out once per
profile (a few thousand at most); a customer then needs only the first
3 + (products they hold) of their profile's list, since only a product they hold
can push a candidate out of the top three. Category sets and rating sets are
carried as sums of powers of two so that the profile is three integers; a bit is
read back with integer arithmetic, `(mask / bit) % 2 = 1`, which both databases
evaluate alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.choices import AccountCategory, AccountStatus, MarketingChannel
from customers.models import Customer
from marketing import suitability
from marketing.choices import RiskRating
from marketing.models import Product
from marketing.selectors import on_sale

# (lower bound in CNY, label); a band runs from its bound up to the next one's.
AUM_BANDS: list[tuple[int, Any]] = [
    (0, gettext_lazy("0–50k")),
    (50_000, gettext_lazy("50k–200k")),
    (200_000, gettext_lazy("200k–500k")),
    (500_000, gettext_lazy("500k–1m")),
    (1_000_000, gettext_lazy("1m–3m")),
    (3_000_000, gettext_lazy("3m–6m")),
    (6_000_000, gettext_lazy("6m+")),
]
MIN_GROUP = 30  # a smaller group says too little to make a rule
TOP = 3

# One bit per account category and per rating; the profile carries sets of them.
CATEGORY_BITS = {category: 1 << n for n, category in enumerate(AccountCategory.values)}
RATING_BITS = {rating: 1 << n for n, rating in enumerate(RiskRating.values)}


def _case(column: str, bits: dict[str, int]) -> str:
    # Built from the choice codes and powers of two above, never from input.
    whens = " ".join(f"WHEN '{code}' THEN {bit}" for code, bit in bits.items())
    return f"CASE {column} {whens} ELSE 0 END"


def band_index(aum: Decimal | int) -> int:
    """The AUM band of an amount (what BAND_SQL computes)."""
    return max(n for n, (low, _label) in enumerate(AUM_BANDS) if n == 0 or aum >= low)


# The band of the month-average AUM `m.avg_aum` (none this month counts as 0).
BAND_SQL = (
    "CASE "
    + " ".join(
        f"WHEN COALESCE(m.avg_aum, 0) < {low} THEN {n - 1}" for n, (low, _l) in enumerate(AUM_BANDS) if n
    )
    + f" ELSE {len(AUM_BANDS) - 1} END"
)

TEMP_TABLES = ("recommend_product", "recommend_holding", "recommend_customer", "recommend_rule",
               "recommend_rank", "recommend_pick")  # fmt: skip

# The categories with their bits as a relation, to spread a profile over its groups.
CATEGORIES_SQL = " UNION ALL ".join(
    f"SELECT '{category}' AS category, {bit} AS bit" for category, bit in CATEGORY_BITS.items()
)

# The products on sale on the day (marketing.selectors.on_sale), with their rating's bit.
PRODUCT_SQL = f"""
CREATE TEMPORARY TABLE recommend_product AS
SELECT p.id, p.code, {_case("p.risk_rating", RATING_BITS)} AS rating_bit
  FROM ({{on_sale}}) p
"""

# Who holds which product on sale: an open account with the product's code.
HOLDING_SQL = """
CREATE TEMPORARY TABLE recommend_holding AS
SELECT DISTINCT a.customer_id, p.id AS product_id
  FROM customers_account a
  JOIN recommend_product p ON p.code = a.product_code
 WHERE a.status = %s
"""

# Every customer with an open account (merged records aside) and their profile: the
# categories they hold an open account of (`mask`), the band of their month-average
# AUM (none this month counts as 0), the ratings they may be offered (`fit`: each
# rating tested by marketing.suitability's own SQL, the suitability subquery), and
# whether they get recommendations (an analysis row and not opted out of every
# marketing channel). `held_count` counts their open accounts of products on sale:
# at least the products on sale they hold, which is all the pick needs (a bound on
# how far down the ranking to look), without a DISTINCT.
CUSTOMER_SQL = """
CREATE TEMPORARY TABLE recommend_customer AS
SELECT o.customer_id, o.mask, {band} AS band, {fit} AS fit, o.held_count,
       CASE WHEN ca.customer_id IS NOT NULL AND s.opted_out = '' THEN 1 ELSE 0 END AS eligible
  FROM (
        SELECT a.customer_id, {mask} AS mask, COUNT(p.id) AS held_count
          FROM customers_account a
          LEFT JOIN recommend_product p ON p.code = a.product_code
         WHERE a.status = %s
         GROUP BY a.customer_id
       ) o
  JOIN ({suitability}) s ON s.id = o.customer_id
  LEFT JOIN customers_customermonthlyaum m ON m.customer_id = o.customer_id AND m.month = %s
  LEFT JOIN analysis_customeranalysis ca ON ca.customer_id = o.customer_id
"""

# Every group of at least MIN_GROUP customers × every product on sale: how many of
# the group hold it. Counted per profile first (a few thousand rows instead of a
# row per customer and category), then spread over the profile's categories. The
# share is rounded half up to four places in integers, so both databases store the
# same figure (PostgreSQL sums integers as numeric, hence the casts back; `%%` is
# the modulo, the statement taking parameters).
COHOLDING_SQL = f"""
INSERT INTO analysis_coholding (as_of, held, aum_band, product_id, customers, holders, share)
SELECT %s, g.category, g.band, p.id, g.customers, COALESCE(h.holders, 0),
       ((20000 * CAST(COALESCE(h.holders, 0) AS BIGINT) + g.customers) / (2 * g.customers)) / 10000.0
  FROM (
        SELECT k.category, pr.band, CAST(SUM(pr.customers) AS BIGINT) AS customers
          FROM (
                SELECT mask, band, COUNT(*) AS customers FROM recommend_customer GROUP BY mask, band
               ) pr
          JOIN ({CATEGORIES_SQL}) k ON (pr.mask / k.bit) %% 2 = 1
         GROUP BY k.category, pr.band
        HAVING SUM(pr.customers) >= %s
       ) g
 CROSS JOIN recommend_product p
  LEFT JOIN (
        SELECT k.category, ph.band, ph.product_id, CAST(SUM(ph.holders) AS BIGINT) AS holders
          FROM (
                SELECT c.mask, c.band, h.product_id, COUNT(*) AS holders
                  FROM recommend_holding h
                  JOIN recommend_customer c ON c.customer_id = h.customer_id
                 GROUP BY c.mask, c.band, h.product_id
               ) ph
          JOIN ({CATEGORIES_SQL}) k ON (ph.mask / k.bit) %% 2 = 1
         GROUP BY k.category, ph.band, ph.product_id
       ) h ON h.category = g.category AND h.band = g.band AND h.product_id = p.id
"""

# Per profile of the customers who get recommendations, its candidates ranked: each
# product on sale that some group of the profile holds (share above 0) and that
# the profile's ratings allow, scored by its highest share among the profile's
# groups (the largest group on a tie); best first.
RULE_SQL = f"""
CREATE TEMPORARY TABLE recommend_rule AS
SELECT mask, band, fit, product_id, bp, held, customers,
       ROW_NUMBER() OVER (PARTITION BY mask, band, fit ORDER BY bp DESC, product_id) AS position
  FROM (
        SELECT pr.mask, pr.band, pr.fit, ch.product_id, ch.held, ch.customers,
               (20000 * CAST(ch.holders AS BIGINT) + ch.customers) / (2 * ch.customers) AS bp,
               ROW_NUMBER() OVER (
                   PARTITION BY pr.mask, pr.band, pr.fit, ch.product_id
                   ORDER BY ch.holders * 1.0 / ch.customers DESC, ch.customers DESC, ch.held
               ) AS best
          FROM (SELECT DISTINCT mask, band, fit FROM recommend_customer WHERE eligible = 1) pr
          JOIN analysis_coholding ch ON ch.aum_band = pr.band
          JOIN recommend_product p ON p.id = ch.product_id
         WHERE ch.holders > 0
           AND (pr.mask / {_case("ch.held", CATEGORY_BITS)}) % 2 = 1
           AND (p.rating_bit = 0 OR (pr.fit / p.rating_bit) % 2 = 1)
       ) scored
 WHERE best = 1
"""

# The positions a customer may need: 1 .. 3 + the most products on sale anyone holds.
RANK_SQL = f"""
CREATE TEMPORARY TABLE recommend_rank AS
WITH RECURSIVE n(position) AS (
     SELECT 1
     UNION ALL
     SELECT position + 1 FROM n
      WHERE position < (SELECT COALESCE(MAX(held_count), 0) + {TOP} FROM recommend_customer)
)
SELECT position FROM n
"""

# One JSON item: {"product": id, "share": "0.3800", "held": category, "band": n,
# "customers": group size}; the share is written from its basis points (bp).
ITEM_SQL = (
    "'{\"product\": ' || CAST(r.product_id AS TEXT)"
    " || ', \"share\": \"' || CASE WHEN r.bp >= 10000 THEN '1.0000'"
    " ELSE '0.' || SUBSTR(CAST(10000 + r.bp AS TEXT), 2) END"
    ' || \'", "held": "\' || r.held'
    ' || \'", "band": \' || CAST(r.band AS TEXT)'
    " || ', \"customers\": ' || CAST(r.customers AS TEXT) || '}'"
)

# Each customer with an analysis row and their list: the first 3 + held positions
# of their profile's ranking (an equality join through recommend_rank, so that no
# customer meets the whole ranking), less what they hold, the best three of the
# rest, joined into a JSON array; [] when there are none.
PICK_SQL = f"""
CREATE TEMPORARY TABLE recommend_pick AS
SELECT ca.customer_id,
       COALESCE(
           '[' || x.item1 || COALESCE(', ' || x.item2, '') || COALESCE(', ' || x.item3, '') || ']',
           '[]'
       ) AS items
  FROM analysis_customeranalysis ca
  LEFT JOIN (
        SELECT customer_id,
               MAX(CASE WHEN n = 1 THEN item END) AS item1,
               MAX(CASE WHEN n = 2 THEN item END) AS item2,
               MAX(CASE WHEN n = 3 THEN item END) AS item3
          FROM (
                SELECT c.customer_id, {ITEM_SQL} AS item,
                       ROW_NUMBER() OVER (PARTITION BY c.customer_id ORDER BY r.position) AS n
                  FROM recommend_customer c
                  JOIN recommend_rank k ON k.position <= c.held_count + {TOP}
                  JOIN recommend_rule r
                    ON r.mask = c.mask AND r.band = c.band AND r.fit = c.fit AND r.position = k.position
                 WHERE c.eligible = 1
                   AND NOT EXISTS (
                        SELECT 1 FROM recommend_holding h
                         WHERE h.customer_id = c.customer_id AND h.product_id = r.product_id
                       )
               ) ranked
         WHERE n <= {TOP}
         GROUP BY customer_id
       ) x ON x.customer_id = ca.customer_id
"""

# One UPDATE, touching only the rows whose list changes (a re-run writes nothing).
UPDATE_SQL = """
UPDATE analysis_customeranalysis AS a
   SET next_products = {items}
  FROM recommend_pick AS r
 WHERE r.customer_id = a.customer_id AND a.next_products {differs} {items}
"""
UPDATE_FORMS = {
    "postgresql": {"items": "CAST(r.items AS jsonb)", "differs": "IS DISTINCT FROM"},
    # the JSON column is text on SQLite; the list is written by this same SQL
    "sqlite": {"items": "r.items", "differs": "IS NOT"},
}


def _suitability_sql(as_of: datetime.date) -> tuple[str, list]:
    """Per customer, marketing.suitability's exclusion reason for each rating ("" when
    the rating may be offered) and for opting out of every marketing channel."""
    annotations: dict[str, Any] = {
        rating.lower(): suitability.exclusion_case(rating, on=as_of, channels=[])
        for rating in RiskRating.values
    }
    annotations["opted_out"] = suitability.exclusion_case(
        "", on=as_of, channels=list(MarketingChannel.values)
    )
    query = (
        Customer.objects.filter(merged_into__isnull=True)
        .annotate(**annotations)
        .values("id", *annotations)
        .order_by()
    )
    sql, params = query.query.sql_with_params()
    return sql, list(params)


def _fit_sql() -> str:
    # The ratings a customer may be offered, as the sum of their bits.
    return " + ".join(
        f"CASE WHEN s.{rating.lower()} = '' THEN {bit} ELSE 0 END" for rating, bit in RATING_BITS.items()
    )


def _mask_sql() -> str:
    """The categories of a customer's open accounts, as the sum of their bits: an OR
    of the bits on PostgreSQL, one MAX per category where there is no BIT_OR."""
    if connection.vendor == "postgresql":
        return f"BIT_OR({_case('a.category', CATEGORY_BITS)})"
    return " + ".join(
        f"MAX(CASE WHEN a.category = '{category}' THEN {bit} ELSE 0 END)"
        for category, bit in CATEGORY_BITS.items()
    )


def _analyse(cursor, *tables: str) -> None:
    # PostgreSQL never analyses temporary tables by itself, and the joins that
    # follow need their row counts to pick hash joins over nested loops.
    if connection.vendor == "postgresql":
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def _drop_temporary(cursor) -> None:
    for table in TEMP_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


@transaction.atomic
def recommend_products(as_of: datetime.date) -> dict[str, int]:
    """Rebuild the co-holdings and every analysed customer's next best products for
    business date `as_of`; the groups that make rules, the co-holding rows and the
    customers given at least one product."""
    vendor = connection.vendor
    if vendor not in UPDATE_FORMS:
        raise NotImplementedError(f"next best products are not written for {vendor}")
    month = as_of.replace(day=1)
    products_sql, products_params = (
        on_sale(Product.objects.all(), on=as_of)
        .values("id", "code", "risk_rating")
        .order_by()
        .query.sql_with_params()
    )
    suitability_sql, suitability_params = _suitability_sql(as_of)
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            # The groupings and window sorts over millions of rows fit in memory; the
            # statements are cheap per row, and compiling them (JIT) costs more than it saves.
            cursor.execute("SET LOCAL work_mem = '512MB'")
            cursor.execute("SET LOCAL jit = off")
        _drop_temporary(cursor)
        cursor.execute(PRODUCT_SQL.format(on_sale=products_sql), list(products_params))
        cursor.execute(HOLDING_SQL, [AccountStatus.OPEN])
        _analyse(cursor, "recommend_product", "recommend_holding")
        cursor.execute(
            CUSTOMER_SQL.format(band=BAND_SQL, fit=_fit_sql(), mask=_mask_sql(), suitability=suitability_sql),
            [AccountStatus.OPEN, *suitability_params, month],
        )
        _analyse(cursor, "recommend_customer")
        cursor.execute("DELETE FROM analysis_coholding")
        cursor.execute(COHOLDING_SQL, [as_of, MIN_GROUP])
        coholdings = cursor.rowcount
        cursor.execute(RULE_SQL)
        cursor.execute(RANK_SQL)
        _analyse(cursor, "recommend_rule", "recommend_rank")
        cursor.execute(PICK_SQL)
        cursor.execute(UPDATE_SQL.format(**UPDATE_FORMS[vendor]))
        cursor.execute("SELECT COUNT(*) FROM (SELECT DISTINCT held, aum_band FROM analysis_coholding) g")
        groups = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM recommend_pick WHERE items <> '[]'")
        customers = cursor.fetchone()[0]
        _drop_temporary(cursor)
    return {"groups": groups, "coholdings": coholdings, "customers": customers}


def _percent(share: Decimal) -> str:
    percent = share * 100
    whole = percent.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    if whole == 0 and percent > 0:
        return f"{percent.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
    return f"{whole}%"


def product_reasons(items: Iterable[dict]) -> list[dict]:
    """A customer's next best products (`CustomerAnalysis.next_products`), each with
    its product and the reason in words, e.g. "Of customers who hold Time deposit and
    have AUM 500k–1m, 38% hold Wealth A."; one query for the products. An item whose
    product no longer exists is left out."""
    items = list(items)
    products = Product.objects.in_bulk([item["product"] for item in items])
    reasons = []
    for item in items:
        product = products.get(item["product"])
        if product is None:
            continue
        share = Decimal(item["share"])
        band = int(item["band"])
        if item["held"] not in AccountCategory.values:
            continue
        category = AccountCategory(item["held"]).label
        sentence = _(
            "Of customers who hold %(category)s and have AUM %(band)s, %(share)s hold %(product)s."
        ) % {
            "category": category,
            "band": AUM_BANDS[band][1] if 0 <= band < len(AUM_BANDS) else "",
            "share": _percent(share),
            "product": product.name,
        }
        reasons.append(
            {
                "product": product,
                "share": share,
                "customers": int(item["customers"]),
                "sentence": sentence,
            }
        )
    return reasons
