"""Detection of data-quality issues (数据质量).

Detection (`quality_scan`) is set-based: a fixed number of SQL statements whatever
the number of customers, the same statements on PostgreSQL and SQLite, in one
transaction, so that it can run from a task after the nightly load and be run again
to the same end state. It is idempotent twice over: an issue is only inserted when
no open (or dismissed) issue of the same kind, customer and pair exists, and the
partial unique index `quality_one_open_issue` makes a concurrent insert a no-op
(``ON CONFLICT DO NOTHING``). Open issues whose condition no longer holds are
resolved with the resolution "no longer detected".

What each kind means:

- duplicate_id: two customers (not merged) with the same ID type and ID number
  (blind index). Each later record of a group is paired with the oldest one (the
  lowest id): n records give n - 1 issues, never n².
- duplicate_person: same name, birth date and mobile (blind index, not empty) under
  two customer numbers with different identities; each record is paired with the
  oldest earlier record of its group that has a different identity.
- invalid_id: a resident ID (type 01) that does not validate. ID numbers are
  encrypted, so the full check (check digit, region, birth date) needs decryption.
  Decrypting a million rows every night is not a set-based job, so the work is
  split: the scan flags in SQL what is visibly wrong without decryption (no
  ciphertext or blind index, or stored last six characters that no valid ID can end
  with: a day 01-31, three digits and a digit or X); `quality_check_ids(ids)` runs
  the full check on given customers and is what the loaders call for the rows they
  wrote; and the scan re-checks (decrypts) only the customers with an open
  invalid_id issue, to resolve those that were corrected. The SQL condition is a
  subset of the full check, so the two never disagree about an issue.
- missing_data: no mobile, no name, or (resident ID) no birth date.
- risk_expired: a risk assessment whose expiry date is past.

The single-customer kinds (invalid_id, missing_data, risk_expired) look at customers
who are neither merged nor closed; the duplicate kinds at every customer not merged.

A dismissed issue (someone judged it acceptable) is not raised again for the same
kind, customer and pair — except an expired risk assessment, which is raised again
when an assessment that expires after the dismissal expires in its turn.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    Exists,
    F,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Concat, Trim
from django.utils import timezone

from core import locks

from ..choices import CustomerStatus, IdType, QualityIssueKind
from ..models import Customer, DataQualityIssue
from .id_check import recheck_open_invalid_ids
from .states import DISMISSED, NO_LONGER_DETECTED, OPEN, RESOLVED

logger = logging.getLogger(__name__)

# Serialises concurrent scans on PostgreSQL (transaction-level advisory lock).
SCAN_LOCK_KEY = locks.QUALITY_SCAN

# The last six characters of a valid resident ID: day of birth (01-31), the three
# sequence digits, the check character. Digits are spelled [0-9]: the pattern runs as
# a PostgreSQL regular expression and as a Python one (SQLite).
RESIDENT_ID_SUFFIX_RE = r"^(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]$"


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _db_now(now: datetime.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(now)


def _single_population() -> Q:
    """The customers the single-customer kinds look at."""
    return Q(merged_into__isnull=True) & ~Q(status=CustomerStatus.CLOSED)


def _missing_data_condition() -> Q:
    return Q(mobile_hash="") | Q(name="") | Q(id_type=IdType.RESIDENT_ID, birth_date__isnull=True)


def _missing_data_detail():
    """Which key fields are missing, as codes ("mobile birth_date")."""
    return Trim(
        Concat(
            Case(When(mobile_hash="", then=Value("mobile ")), default=Value("")),
            Case(When(Q(id_type=IdType.RESIDENT_ID, birth_date__isnull=True), then=Value("birth_date ")),
                 default=Value("")),
            Case(When(name="", then=Value("name")), default=Value("")),
            output_field=CharField(),
        )
    )  # fmt: skip


def _invalid_id_sql_condition() -> Q:
    """What is visibly wrong without decrypting (a subset of `resident_id_problem`)."""
    return Q(id_type=IdType.RESIDENT_ID) & (
        Q(id_number_enc="") | Q(id_hash="") | ~Q(id_suffix__regex=RESIDENT_ID_SUFFIX_RE)
    )


def _risk_expired_condition(today: datetime.date) -> Q:
    return ~Q(risk_level="") & Q(risk_expiry__lt=today)


def _single_kind_conditions(today: datetime.date) -> dict[QualityIssueKind, tuple[Q, Q]]:
    """kind -> (condition to raise an issue, condition for an open one to stay open).
    An open invalid_id issue may come from the full check (`quality_check_ids`), which
    SQL cannot repeat: SQL only resolves it when the customer is no longer a resident-ID
    customer of the population; `recheck_open_invalid_ids` decides the rest."""
    missing, expired = _missing_data_condition(), _risk_expired_condition(today)
    return {
        QualityIssueKind.INVALID_ID: (_invalid_id_sql_condition(), Q(id_type=IdType.RESIDENT_ID)),
        QualityIssueKind.MISSING_DATA: (missing, missing),
        QualityIssueKind.RISK_EXPIRED: (expired, expired),
    }


# The columns `_detect_single` fills, in the order of its values_list.
SINGLE_COLUMNS = (
    "kind",
    "customer_id",
    "pair_key",
    "branch_id",
    "detail",
    "status",
    "detected_at",
    "resolution",
)


def _insert_select(columns: Sequence[str], queryset: QuerySet) -> int:
    """INSERT INTO the issue table the rows of `queryset` (a values_list whose
    expressions are in the order of `columns`; Django 5.2 keeps that order)."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    qn = connection.ops.quote_name
    statement = (
        f"INSERT INTO {_table(DataQualityIssue)} ({', '.join(qn(c) for c in columns)}) "
        f"{sql} ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return max(cursor.rowcount, 0)


def _detect_single(kind: str, condition: Q, *, now: datetime.datetime) -> int:
    """Insert an open issue for each customer meeting `condition` that has none."""
    same = DataQualityIssue.objects.filter(kind=kind, customer=OuterRef("pk"), pair_key="")
    if kind == QualityIssueKind.RISK_EXPIRED:
        # a dismissal covers the assessment that had expired when it was made
        suppressed = same.filter(
            Q(status=OPEN) | Q(status=DISMISSED, resolved_at__date__gte=OuterRef("risk_expiry"))
        )
    else:
        suppressed = same.filter(status__in=[OPEN, DISMISSED])
    detail: Any = Value("")
    if kind == QualityIssueKind.MISSING_DATA:
        detail = _missing_data_detail()
    elif kind == QualityIssueKind.INVALID_ID:
        detail = Case(
            When(Q(id_number_enc="") | Q(id_hash=""), then=Value("missing")), default=Value("suffix")
        )
    rows = (
        Customer.objects.filter(_single_population(), condition)
        .filter(~Exists(suppressed))
        .values_list(
            Value(kind),
            "pk",
            Value(""),
            "home_branch_id",
            detail,
            Value(OPEN),
            Value(now, output_field=DateTimeField()),
            Value(""),
        )
    )
    return _insert_select(SINGLE_COLUMNS, rows)


def _resolve_single(kind: str, condition: Q, *, now: datetime.datetime) -> int:
    still = Customer.objects.filter(_single_population(), condition, pk=OuterRef("customer_id"))
    return (
        DataQualityIssue.objects.filter(kind=kind, status=OPEN)
        .filter(~Exists(still))
        .update(status=RESOLVED, resolved_at=now, resolution=NO_LONGER_DETECTED)
    )


# The pair conditions over two customers `a` (the older) and `b`.
_PAIR_CONDITIONS: dict[str, str] = {
    QualityIssueKind.DUPLICATE_ID: "a.id_type = b.id_type AND a.id_hash = b.id_hash AND a.id_hash <> ''",
    QualityIssueKind.DUPLICATE_PERSON: (
        "a.mobile_hash = b.mobile_hash AND a.mobile_hash <> '' AND a.name = b.name "
        "AND a.birth_date = b.birth_date AND (a.id_type <> b.id_type OR a.id_hash <> b.id_hash)"
    ),
}


def _pair_source_sql(kind: str) -> str:
    """(first_id, other_id): each record paired with the oldest record it duplicates."""
    customer = _table(Customer)
    if kind == QualityIssueKind.DUPLICATE_ID:
        return (
            f"SELECT g.first_id AS first_id, b.id AS other_id FROM ("
            f" SELECT id_type, id_hash, MIN(id) AS first_id FROM {customer}"
            f" WHERE merged_into_id IS NULL AND id_hash <> ''"
            f" GROUP BY id_type, id_hash HAVING COUNT(*) > 1) g"
            f" JOIN {customer} b ON b.id_type = g.id_type AND b.id_hash = g.id_hash"
            f" AND b.id > g.first_id AND b.merged_into_id IS NULL"
        )
    return (
        f"SELECT MIN(a.id) AS first_id, b.id AS other_id FROM {customer} a"
        f" JOIN {customer} b ON b.mobile_hash = a.mobile_hash AND b.name = a.name"
        f" AND b.birth_date = a.birth_date AND b.id > a.id"
        f" WHERE {_PAIR_CONDITIONS[kind]} AND a.merged_into_id IS NULL AND b.merged_into_id IS NULL"
        f" GROUP BY b.id"
    )


def _detect_pairs(kind: str, *, now: datetime.datetime) -> int:
    issue, customer = _table(DataQualityIssue), _table(Customer)
    pair_key = "CAST(p.other_id AS VARCHAR(24))"
    statement = (
        f"INSERT INTO {issue} (kind, customer_id, other_customer_id, pair_key, branch_id, detail,"
        f" status, detected_at, resolution)"
        f" SELECT %s, p.first_id, p.other_id, {pair_key}, a.home_branch_id, '', %s, %s, ''"
        f" FROM ({_pair_source_sql(kind)}) p JOIN {customer} a ON a.id = p.first_id"
        f" WHERE NOT EXISTS (SELECT 1 FROM {issue} i WHERE i.kind = %s AND i.customer_id = p.first_id"
        f" AND i.pair_key = {pair_key} AND i.status IN (%s, %s))"
        f" ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [kind, OPEN, _db_now(now), kind, OPEN, DISMISSED])
        return max(cursor.rowcount, 0)


def _resolve_pairs(kind: str, *, now: datetime.datetime) -> int:
    issue, customer = _table(DataQualityIssue), _table(Customer)
    statement = (
        f"UPDATE {issue} SET status = %s, resolved_at = %s, resolution = %s"
        f" WHERE kind = %s AND status = %s AND NOT EXISTS ("
        f" SELECT 1 FROM {customer} a JOIN {customer} b ON b.id = {issue}.other_customer_id"
        f" WHERE a.id = {issue}.customer_id AND a.merged_into_id IS NULL AND b.merged_into_id IS NULL"
        f" AND {_PAIR_CONDITIONS[kind]})"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [RESOLVED, _db_now(now), NO_LONGER_DETECTED, kind, OPEN])
        return max(cursor.rowcount, 0)


def _refresh_branches() -> int:
    """Open issues follow their customer when the customer changes home branch."""
    home = Customer.objects.filter(pk=OuterRef("customer_id")).values("home_branch_id")[:1]
    return (
        DataQualityIssue.objects.filter(status=OPEN)
        .filter(~Q(branch_id=F("customer__home_branch_id")))
        .update(branch_id=Subquery(home))
    )


@contextlib.contextmanager
def _bulk_plans() -> Iterator[None]:
    """On PostgreSQL: one scan at a time (transaction-level advisory lock), and no
    nested-loop joins while the scan runs. Each detection INSERT anti-joins the issue
    table it is inserting into; with a nested loop the inner scan of that table is
    repeated for every candidate and sees it grow (a first scan of a million
    customers took over ten minutes that way, against an issue table whose
    statistics said "empty"). Hash and merge joins read it once. The setting is
    put back afterwards, for an outer transaction that goes on."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCAN_LOCK_KEY])
        cursor.execute("SELECT current_setting('enable_nestloop')")
        previous = cursor.fetchone()[0]
        cursor.execute("SET LOCAL enable_nestloop = off")
    yield
    # (on an error the surrounding atomic block rolls back, and the SET with it)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [previous])


def quality_scan(*, today: datetime.date | None = None) -> dict[str, int]:
    """Detect every kind of issue over all customers, set-based, and resolve open
    issues that no longer hold. Returns `{"<kind>_created": n, "<kind>_resolved": n,
    "branch_updated": n}`. Safe to run again (and concurrently: a second scan waits
    for the first on PostgreSQL)."""
    today = today or timezone.localdate()
    now = timezone.now()
    counts: dict[str, int] = {}
    with transaction.atomic(), _bulk_plans():
        for kind in (QualityIssueKind.DUPLICATE_ID, QualityIssueKind.DUPLICATE_PERSON):
            counts[f"{kind}_resolved"] = _resolve_pairs(kind, now=now)
            counts[f"{kind}_created"] = _detect_pairs(kind, now=now)
        for kind, (raise_when, keep_open_while) in _single_kind_conditions(today).items():
            counts[f"{kind}_resolved"] = _resolve_single(kind, keep_open_while, now=now)
            counts[f"{kind}_created"] = _detect_single(kind, raise_when, now=now)
        # The SQL condition above only sees what is visibly wrong; an open invalid_id
        # issue (possibly raised by quality_check_ids) is resolved once the number,
        # decrypted, validates. Only customers with an open issue are decrypted.
        counts[f"{QualityIssueKind.INVALID_ID}_resolved"] += recheck_open_invalid_ids(now=now)
        counts["branch_updated"] = _refresh_branches()
    logger.info("quality scan: %s", counts)
    return counts
