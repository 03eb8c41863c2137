"""The nightly row of every customer (docs/analysis.md, "The nightly row"):
12-month contribution by business line, loyalty, the churn features and
probability, satisfaction, value at risk, and the parts of each score the reasons
are read from (`analysis.reasons` ranks them and makes the sentences when a row is
shown).

Set-based in three statements, in one transaction:
1. the churn features into a temporary table (`analysis.features.write_features`);
2. per customer, what the scores are made of (the features, each churn feature's
   push, the contribution of the months in force, the loyalty and satisfaction
   parts) into a second temporary table, each source table aggregated once and
   joined by customer;
3. DELETE + INSERT ... SELECT of `analysis_customeranalysis` from it: the totals,
   the probability and the parts (numbers only: ranking and wording a million
   rows' reasons in SQL took half the run, and a page shows a few). Readers see last
   night's rows until the new ones commit; a re-run gives the same rows. The next
   best products of the rows replaced are kept (`analysis.recommend` refreshes
   them after this and rewrites only those that change).

Churn probability: the newest model in use (`ChurnModel`), applied as its
coefficients say, p = 1 / (1 + e^−(b0 + Σ bᵢ·zᵢ)), zᵢ = (xᵢ − meanᵢ) / scaleᵢ over
the inputs of `features.MODEL_INPUTS`; without one, the rules' points. A feature's
push (bᵢ·zᵢ, or its points) ranks the churn reasons.

Portable SQL: PostgreSQL and SQLite 3.25+. What differs is spelled per database in
`_VENDOR` (date parts, the JSON column's type, the fence that keeps a derived
table's columns computed once); SQLite's EXP is Django's own where the library
lacks it.
"""

from __future__ import annotations

import datetime
import logging
import math
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from core.months import month_back
from customers.choices import AccountStatus
from performance.choices import PeriodKind, VersionStatus
from performance.models import Period, ResultVersion
from performance.selectors import shown_version

from .choices import ChurnSource
from .features import (
    FEATURES,
    MODEL_INPUTS,
    RATIO_CAP,
    RECENT_DAYS,
    carried_window,
    feature_params,
    write_features,
)
from .models import ChurnModel, TransactionWindow

logger = logging.getLogger(__name__)

FEATURE_TABLE = "analysis_score_features"
SCORE_TABLE = "analysis_score_parts"
CONTRIBUTION_MONTHS = 12

# Loyalty (docs/analysis.md)
TENURE_POINTS, TENURE_CAP = 30, 120
DEPTH_POINTS, DEPTH_CAP = 30, 5
WALLET_POINTS, WALLET_NO_HISTORY = 20, 10
RFM_POINTS = 20
# Satisfaction
SATISFACTION_UNRATED = 80
COMPLAINT_LESS, COMPLAINT_MOST = 15, 45
REQUESTS_FREE, REQUEST_LESS = 3, 5
# Rules' probability: min(RULES_CAP, RULES_BASE + RULES_SLOPE × points / 100)
RULES_BASE, RULES_SLOPE, RULES_CAP = 0.02, 0.9, 0.95
# A model's linear score is clamped before EXP: beyond it the probability rounds to
# 0 or 1 at four decimals anyway, and EXP of a large argument overflows.
LINEAR_LIMIT = 50

# The rules' points per feature (docs/analysis.md), over the feature table's columns.
RULE_POINTS: dict[str, str] = {
    "aum_change_3m": (
        "CASE WHEN aum_change_3m <= -0.3 THEN 25 WHEN aum_change_3m <= -0.1 THEN 10 ELSE 0 END"
    ),
    "aum_change_6m": "CASE WHEN aum_change_6m <= -0.5 THEN 15 WHEN aum_change_6m <= -0.2 THEN 5 ELSE 0 END",
    "maturity_runoff": (
        "CASE WHEN maturity_runoff > 0 AND (maturity_runoff >= 50000 OR maturity_runoff >= 0.3 * aum_3m)"
        " THEN 15 ELSE 0 END"
    ),
    "outflow": "CASE WHEN outflow >= 50000 AND outflow >= 0.3 * aum_3m THEN 15 ELSE 0 END",
    "dormant_days": "CASE WHEN dormant_days >= 180 THEN 15 WHEN dormant_days >= 90 THEN 8 ELSE 0 END",
    "txn_change": "CASE WHEN txn_change <= -0.5 THEN 10 ELSE 0 END",
    "complaints": "CASE WHEN complaints >= 2 THEN 15 WHEN complaints >= 1 THEN 10 ELSE 0 END",
    "service_requests": "0",
    "manager_changed": "CASE WHEN manager_changed = 1 THEN 5 ELSE 0 END",
}

_VENDOR: dict[str, dict[str, str]] = {
    "postgresql": {
        "year": "CAST(date_part('year', {x}) AS INTEGER)",
        "month": "CAST(date_part('month', {x}) AS INTEGER)",
        "day": "CAST(date_part('day', {x}) AS INTEGER)",
        "date": "CAST({x} AS DATE)",
        "json_type": "jsonb",
        # keeps a derived table from being merged into the query above it, so that
        # the columns it computes are computed once per row, not once per use
        "fence": "OFFSET 0",
    },
    "sqlite": {
        "year": "CAST(strftime('%%Y', {x}) AS INTEGER)",
        "month": "CAST(strftime('%%m', {x}) AS INTEGER)",
        "day": "CAST(strftime('%%d', {x}) AS INTEGER)",
        "date": "date({x})",
        "json_type": "TEXT",
        "fence": "LIMIT -1 OFFSET 0",
    },
}


def _sql(vendor: str, name: str, **parts: str) -> str:
    return _VENDOR.get(vendor, _VENDOR["sqlite"])[name].format(**parts)


def _months_since(vendor: str, earlier: str) -> str:
    """Whole months from the date `earlier` to as_of (a month is complete on the
    same day of the month); as_of's month index and day are parameters."""

    def part(name: str) -> str:
        return _sql(vendor, name, x=earlier)

    return (
        f"(%(as_of_months)s - ({part('year')} * 12 + {part('month')})"
        f" - CASE WHEN %(as_of_day)s < {part('day')} THEN 1 ELSE 0 END)"
    )


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Churn:
    """How tonight's churn probability is computed: a model or the rules."""

    model: ChurnModel | None
    intercept: float = 0.0
    # per feature: (coef, mean, scale)
    terms: tuple[tuple[str, float, float, float], ...] = ()

    @property
    def source(self) -> str:
        return ChurnSource.MODEL if self.model is not None else ChurnSource.RULES


def _finite(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def churn_method() -> Churn:
    """The newest model in use, if its coefficients can be applied as stored; else
    the rules (a model that cannot be applied is logged, never half-applied)."""
    model = ChurnModel.objects.filter(active=True).order_by("-number").first()
    if model is None:
        return Churn(model=None)
    try:
        stored = model.coefficients
        terms = []
        for name, term in stored["features"].items():
            if name not in MODEL_INPUTS:
                raise ValueError(f"unknown feature {name!r}")
            coef, mean, scale = _finite(term["coef"]), _finite(term["mean"]), _finite(term["scale"])
            if scale == 0:
                raise ValueError(f"scale 0 for {name!r}")
            terms.append((name, coef, mean, scale))
        return Churn(model=model, intercept=_finite(stored["intercept"]), terms=tuple(terms))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        logger.error("churn model v%s cannot be applied (%s): the rules score tonight", model.number, exc)
        return Churn(model=None)


def _float(value: float) -> str:
    return f"CAST({value!r} AS DOUBLE PRECISION)"


def push_sql(churn: Churn) -> dict[str, str]:
    """Per feature, how far it pushes the probability up: the model's bᵢ·zᵢ, or the
    rules' points (0 for a feature the model or the rules leave out)."""
    if churn.model is None:
        return {name: f"CAST({RULE_POINTS[name]} AS DOUBLE PRECISION)" for name in FEATURES}
    pushes = dict.fromkeys(FEATURES, "CAST(0 AS DOUBLE PRECISION)")
    for name, coef, mean, scale in churn.terms:
        pushes[name] = (
            f"({_float(coef)} * ((CAST({MODEL_INPUTS[name]} AS DOUBLE PRECISION) - {_float(mean)})"
            f" / {_float(scale)}))"
        )
    return pushes


def probability_sql(churn: Churn, total: str) -> str:
    """The probability from the sum of the pushes."""
    if churn.model is None:
        value = f"({RULES_BASE} + {RULES_SLOPE} * {total} / 100)"
        return f"CASE WHEN {value} > {RULES_CAP} THEN {RULES_CAP} ELSE {value} END"
    linear = f"({_float(churn.intercept)} + {total})"
    clamped = (
        f"CASE WHEN {linear} > {LINEAR_LIMIT} THEN {LINEAR_LIMIT}"
        f" WHEN {linear} < -{LINEAR_LIMIT} THEN -{LINEAR_LIMIT} ELSE {linear} END"
    )
    return f"(1.0 / (1.0 + EXP(-({clamped}))))"


# --------------------------------------------------------------------------- contribution


@dataclass(frozen=True)
class MonthsInForce:
    first: str  # "YYYY-MM"
    last: str
    versions: tuple[int, ...]
    published: int
    provisional: int


def months_in_force(as_of: datetime.date) -> MonthsInForce:
    """The figures in force of the twelve months up to as_of's: a closed month's
    published version, an open one's provisional version 0 (as the performance
    pages show them: `performance.selectors.shown_version`); a month without
    figures, or whose figures are being computed, counts none."""
    month = as_of.replace(day=1)
    codes = [f"{month_back(month, k):%Y-%m}" for k in range(CONTRIBUTION_MONTHS - 1, -1, -1)]
    versions: list[ResultVersion] = []
    for period in Period.objects.filter(kind=PeriodKind.MONTH, code__in=codes):
        version = shown_version(period)
        if version is not None and not version.computing and not version.failure:
            versions.append(version)
    published = sum(1 for v in versions if v.status == VersionStatus.PUBLISHED)
    return MonthsInForce(
        first=codes[0],
        last=codes[-1],
        versions=tuple(sorted(v.pk for v in versions)),
        published=published,
        provisional=len(versions) - published,
    )


# --------------------------------------------------------------------------- statements

PART_COLUMNS: list[tuple[str, str]] = [
    ("customer_id", "BIGINT PRIMARY KEY"),
    ("aum", "NUMERIC(18, 2)"),
    ("aum_3m", "NUMERIC(18, 2)"),
    ("aum_6m", "NUMERIC(18, 2)"),
    ("aum_12m", "NUMERIC(18, 2)"),
    ("aum_change_3m", "NUMERIC(12, 4)"),
    ("aum_change_6m", "NUMERIC(12, 4)"),
    ("maturity_runoff", "NUMERIC(18, 2)"),
    ("outflow", "NUMERIC(18, 2)"),
    ("dormant_days", "INTEGER"),
    ("txn_change", "NUMERIC(12, 4)"),
    ("complaints", "INTEGER"),
    ("service_requests", "INTEGER"),
    ("manager_changed", "INTEGER"),
    ("txn_recent", "INTEGER"),
    ("txn_before", "INTEGER"),
    *[(f"w_{name}", "DOUBLE PRECISION") for name in FEATURES],
    ("w_total", "DOUBLE PRECISION"),
    ("liability", "NUMERIC(30, 10)"),
    ("asset", "NUMERIC(30, 10)"),
    ("intermediary", "NUMERIC(30, 10)"),
    ("tenure_months", "INTEGER"),
    ("product_depth", "INTEGER"),
    ("wallet_trend", "NUMERIC(12, 4)"),
    ("rfm_score", "INTEGER"),
    ("l_tenure", "NUMERIC(12, 4)"),
    ("l_depth", "NUMERIC(12, 4)"),
    ("l_wallet", "NUMERIC(12, 4)"),
    ("l_rfm", "NUMERIC(12, 4)"),
    ("rating_avg", "NUMERIC(12, 4)"),
    ("rating_count", "INTEGER"),
    ("s_base", "NUMERIC(12, 4)"),
    ("s_complaints", "NUMERIC(12, 4)"),
    ("s_requests", "NUMERIC(12, 4)"),
    ("next_products", "{json_type}"),
]

FEATURE_COLUMNS = ["aum", "aum_3m", "aum_6m", "aum_12m", *FEATURES, "txn_recent", "txn_before"]


def _parts_sql(vendor: str, churn: Churn, months: MonthsInForce) -> str:
    pushes = push_sql(churn)
    push_columns = ",\n                       ".join(f"{pushes[name]} AS w_{name}" for name in FEATURES)
    versions = ", ".join(str(int(pk)) for pk in months.versions) or "NULL"
    # Since the first account opened, else since the record was created: looked up
    # by key for the few without an account, rather than joining the (wide)
    # customer table again for everyone.
    created = _sql(vendor, "date", x="c.created_at")
    since = (
        f"COALESCE(ac.first_open, (SELECT {created} FROM customers_customer c WHERE c.id = fw.customer_id))"
    )
    tenure = _months_since(vendor, since)
    wallet = "(fw.aum * 1.0 / fw.aum_12m - 1)"
    return f"""
INSERT INTO {SCORE_TABLE} ({", ".join(name for name, _type in PART_COLUMNS)})
SELECT r.customer_id, {", ".join(f"r.{c}" for c in FEATURE_COLUMNS)},
       {", ".join(f"r.w_{name}" for name in FEATURES)},
       {" + ".join(f"r.w_{name}" for name in FEATURES)},
       COALESCE(r.liability, 0), COALESCE(r.asset, 0), COALESCE(r.intermediary, 0),
       r.tenure_months, r.kinds, r.wallet_trend, r.rfm_score,
       {TENURE_POINTS} * (CASE WHEN r.tenure_months > {TENURE_CAP} THEN {TENURE_CAP}
                               ELSE r.tenure_months END) * 1.0 / {TENURE_CAP},
       {DEPTH_POINTS} * (CASE WHEN r.kinds > {DEPTH_CAP} THEN {DEPTH_CAP}
                              ELSE r.kinds END) * 1.0 / {DEPTH_CAP},
       CASE WHEN r.wallet_trend IS NULL THEN {WALLET_NO_HISTORY}
            WHEN r.wallet_trend + 0.5 <= 0 THEN 0
            WHEN r.wallet_trend + 0.5 >= 1 THEN {WALLET_POINTS}
            ELSE {WALLET_POINTS} * (r.wallet_trend + 0.5) END,
       CASE WHEN r.rfm_score IS NULL THEN 0 ELSE {RFM_POINTS} * (r.rfm_score - 3) * 1.0 / 12 END,
       r.rating_avg, COALESCE(r.rating_count, 0),
       CASE WHEN r.rating_avg IS NULL THEN {SATISFACTION_UNRATED} ELSE 20 * r.rating_avg END,
       -(CASE WHEN r.complaints * {COMPLAINT_LESS} > {COMPLAINT_MOST} THEN {COMPLAINT_MOST}
              ELSE r.complaints * {COMPLAINT_LESS} END),
       -(CASE WHEN r.service_requests > {REQUESTS_FREE}
              THEN (r.service_requests - {REQUESTS_FREE}) * {REQUEST_LESS} ELSE 0 END),
       r.next_products
  FROM (
        SELECT fw.*, cr.liability, cr.asset, cr.intermediary, COALESCE(ac.kinds, 0) AS kinds,
               mp.rfm_score, js.rating_avg, js.rating_count,
               CASE WHEN {tenure} < 0 THEN 0 ELSE {tenure} END AS tenure_months,
               CASE WHEN fw.aum_12m = 0 THEN NULL
                    WHEN {wallet} > {RATIO_CAP} THEN {RATIO_CAP}
                    ELSE ROUND({wallet}, 4) END AS wallet_trend,
               COALESCE(old.next_products, '[]') AS next_products
          FROM (
                SELECT customer_id, {", ".join(FEATURE_COLUMNS)},
                       {push_columns}
                  FROM {FEATURE_TABLE}
               ) fw
          LEFT JOIN (
                SELECT customer_id, SUM(liability) AS liability, SUM(asset) AS asset,
                       SUM(intermediary) AS intermediary
                  FROM performance_customerresult
                 WHERE version_id IN ({versions})
                 GROUP BY customer_id
               ) cr ON cr.customer_id = fw.customer_id
          LEFT JOIN (
                SELECT customer_id,
                       COUNT(DISTINCT CASE WHEN status = %(open)s THEN category END) AS kinds,
                       MIN(CASE WHEN open_date <= %(as_of)s THEN open_date END) AS first_open
                  FROM customers_account
                 GROUP BY customer_id
               ) ac ON ac.customer_id = fw.customer_id
          LEFT JOIN marketing_marketingprofile mp ON mp.customer_id = fw.customer_id
          LEFT JOIN (
                SELECT customer_id, AVG(satisfaction * 1.0) AS rating_avg, COUNT(*) AS rating_count
                  FROM care_journalentry
                 WHERE satisfaction IS NOT NULL
                   AND visited_at >= %(year_from)s AND visited_at < %(day_after)s
                 GROUP BY customer_id
               ) js ON js.customer_id = fw.customer_id
          LEFT JOIN analysis_customeranalysis old ON old.customer_id = fw.customer_id
        {_sql(vendor, "fence")}
       ) r
"""


def _number(x: str, places: int) -> str:
    return f"ROUND(CAST({x} AS NUMERIC), {places})"


def _analysis_sql(vendor: str, churn: Churn, months: MonthsInForce) -> str:
    probability = _number(probability_sql(churn, "t.w_total"), 4)
    satisfaction = "(t.s_base + t.s_complaints + t.s_requests)"
    contribution = _number("t.liability + t.asset + t.intermediary", 2)
    pushes = ", ".join(f"push_{name}" for name in FEATURES)
    return f"""
INSERT INTO analysis_customeranalysis (
    customer_id, as_of, contribution, contribution_liability, contribution_asset,
    contribution_intermediary, tenure_months, product_depth, wallet_trend, rfm_score, loyalty,
    aum, aum_change_3m, aum_change_6m, maturity_runoff, outflow, dormant_days, txn_change,
    complaints, service_requests, manager_changed, txn_recent, txn_before,
    churn_probability, churn_source, model_id,
    satisfaction, value_at_risk, aum_3m, aum_6m, aum_12m, {pushes},
    loyalty_tenure, loyalty_depth, loyalty_wallet, loyalty_rfm, rating_average, rating_count,
    satisfaction_base, satisfaction_complaints, satisfaction_requests,
    months_published, months_provisional, next_products
)
SELECT t.customer_id, %(as_of)s, t.contribution,
       {_number("t.liability", 2)}, {_number("t.asset", 2)}, {_number("t.intermediary", 2)},
       t.tenure_months, t.product_depth, t.wallet_trend, t.rfm_score,
       CAST(ROUND(t.l_tenure + t.l_depth + t.l_wallet + t.l_rfm) AS INTEGER),
       t.aum, t.aum_change_3m, t.aum_change_6m, t.maturity_runoff, t.outflow, t.dormant_days,
       t.txn_change, t.complaints, t.service_requests, t.manager_changed = 1,
       t.txn_recent, t.txn_before, t.probability, %(source)s, %(model)s,
       CASE WHEN {satisfaction} < 0 THEN 0 WHEN {satisfaction} > 100 THEN 100
            ELSE CAST(ROUND({satisfaction}) AS INTEGER) END,
       CASE WHEN t.contribution > 0 THEN ROUND(t.probability * t.contribution, 2) ELSE 0 END,
       COALESCE(t.aum_3m, 0), COALESCE(t.aum_6m, 0), COALESCE(t.aum_12m, 0),
       {", ".join(f"t.w_{name}" for name in FEATURES)},
       t.l_tenure, t.l_depth, t.l_wallet, t.l_rfm, t.rating_avg, t.rating_count,
       t.s_base, t.s_complaints, t.s_requests,
       {int(months.published)}, {int(months.provisional)},
       t.next_products
  FROM (
        SELECT t.*, {probability} AS probability, {contribution} AS contribution
          FROM {SCORE_TABLE} t
        {_sql(vendor, "fence")}
       ) t
"""


# --------------------------------------------------------------------------- the run


def _drop(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {SCORE_TABLE}")
    cursor.execute(f"DROP TABLE IF EXISTS {FEATURE_TABLE}")


@transaction.atomic
def score_customers(as_of: datetime.date) -> int:
    """Rebuild every customer's analysis row as of business date `as_of`; returns
    the rows written. The transactions the rows count are carried from last night's
    rows when they can be (`features.carried_window`)."""
    vendor = connection.vendor
    started = timezone.now()
    churn = churn_method()
    months = months_in_force(as_of)
    params = {
        **feature_params(as_of),
        "open": AccountStatus.OPEN.value,
        "as_of_months": as_of.year * 12 + as_of.month,
        "as_of_day": as_of.day,
        "source": churn.source,
        "model": churn.model.pk if churn.model is not None else None,
    }
    columns = ", ".join(
        f"{name} {kind.format(json_type=_sql(vendor, 'json_type'))}" for name, kind in PART_COLUMNS
    )
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            # The aggregates of a million customers hash in memory instead of spilling;
            # compiling the long expressions (JIT) costs more than it saves here.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
            # One run at a time: the next one carries what this one commits.
            cursor.execute("LOCK TABLE analysis_customeranalysis IN SHARE ROW EXCLUSIVE MODE")
        write_features(cursor, as_of, table=FEATURE_TABLE, carried=carried_window(as_of))
        cursor.execute(f"DROP TABLE IF EXISTS {SCORE_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {SCORE_TABLE} ({columns})")
        cursor.execute(_parts_sql(vendor, churn, months), params)
        if vendor == "postgresql":
            cursor.execute(f"ANALYZE {SCORE_TABLE}")
        cursor.execute("DELETE FROM analysis_customeranalysis")
        cursor.execute(_analysis_sql(vendor, churn, months), params)
        written = cursor.rowcount
        _drop(cursor)
    TransactionWindow.objects.all().delete()
    TransactionWindow.objects.create(as_of=as_of, recent_days=RECENT_DAYS, written_at=started)
    return written
