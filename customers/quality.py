"""The data-quality queue (数据质量): detection, the queue and its counts, dismissal,
and the merge of a duplicate pair into one customer.

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
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
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
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import Branch, User
from core import locks
from core.batching import chunks
from core.serialization import jsonable

from . import crypto
from .choices import AssignmentRole, ContactType, CustomerStatus, IdType, QualityIssueKind, QualityIssueStatus
from .crypto import DecryptionError, cipher
from .idnumbers import normalise_mobile, parse_resident_id
from .models import (
    Account,
    ContactPoint,
    Customer,
    CustomerAssignment,
    CustomerDailyAum,
    CustomerMerge,
    CustomerMonthlyAum,
    CustomerUserObjectPermission,
    DataQualityIssue,
    Interaction,
    OtherAsset,
    Relationship,
    TransactionSummary,
)

logger = logging.getLogger(__name__)

OPEN = QualityIssueStatus.OPEN
RESOLVED = QualityIssueStatus.RESOLVED
DISMISSED = QualityIssueStatus.DISMISSED
PAIR_KINDS = frozenset({QualityIssueKind.DUPLICATE_ID, QualityIssueKind.DUPLICATE_PERSON})

NO_LONGER_DETECTED = "no longer detected"
MERGED = "merged"

# Serialises concurrent scans on PostgreSQL (transaction-level advisory lock).
SCAN_LOCK_KEY = locks.QUALITY_SCAN
# Customers per decryption batch (invalid_id full check).
CHECK_BATCH = 2000

# The last six characters of a valid resident ID: day of birth (01-31), the three
# sequence digits, the check character. Digits are spelled [0-9]: the pattern runs as
# a PostgreSQL regular expression and as a Python one (SQLite).
RESIDENT_ID_SUFFIX_RE = r"^(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]$"


# --------------------------------------------------------------------------- scan


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


def _single_kind_conditions(today: datetime.date) -> dict[str, tuple[Q, Q]]:
    """kind -> (condition to raise an issue, condition for an open one to stay open).
    An open invalid_id issue may come from the full check (`quality_check_ids`), which
    SQL cannot repeat: SQL only resolves it when the customer is no longer a resident-ID
    customer of the population; `_recheck_open_invalid_ids` decides the rest."""
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
_PAIR_CONDITIONS = {
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
        counts[f"{QualityIssueKind.INVALID_ID}_resolved"] += _recheck_open_invalid_ids(now=now)
        counts["branch_updated"] = _refresh_branches()
    logger.info("quality scan: %s", counts)
    return counts


# ------------------------------------------------------------- invalid ID (decrypt)


def resident_id_problem(*, id_number_enc: str, id_hash: str, id_suffix: str) -> str:
    """An empty string when a stored resident ID is valid, else a short code of what is wrong.
    Also catches a blind index or suffix that does not match the number, so that
    everything the SQL condition of the scan flags is flagged here too."""
    if not id_number_enc or not id_hash:
        return "missing"
    try:
        value = cipher().decrypt(id_number_enc, context=crypto.ID_NUMBER)
    except DecryptionError:
        return "undecryptable"
    if cipher().blind_index(value, context=crypto.ID_NUMBER) != id_hash or value[-6:] != id_suffix:
        return "index_mismatch"
    try:
        parse_resident_id(value)
    except ValidationError as exc:
        return exc.code or "invalid"
    return ""


def _check_batch(customer_ids: Sequence[int], *, now: datetime.datetime, create: bool) -> tuple[int, int]:
    rows = Customer.objects.filter(pk__in=customer_ids).values_list(
        "pk", "id_type", "id_number_enc", "id_hash", "id_suffix", "home_branch_id", "merged_into_id", "status"
    )
    problems: dict[int, tuple[str, int]] = {}
    fine: list[int] = []
    for pk, id_type, enc, id_hash, suffix, branch_id, merged_into_id, status in rows:
        in_population = merged_into_id is None and status != CustomerStatus.CLOSED
        problem = ""
        if in_population and id_type == IdType.RESIDENT_ID:
            problem = resident_id_problem(id_number_enc=enc, id_hash=id_hash, id_suffix=suffix)
        if problem:
            problems[pk] = (problem, branch_id)
        else:
            fine.append(pk)
    fine.extend(set(customer_ids) - set(problems) - set(fine))  # deleted customers
    resolved = DataQualityIssue.objects.filter(
        kind=QualityIssueKind.INVALID_ID, status=OPEN, customer_id__in=fine
    ).update(status=RESOLVED, resolved_at=now, resolution=NO_LONGER_DETECTED)
    created = 0
    if create and problems:
        existing = set(
            DataQualityIssue.objects.filter(
                kind=QualityIssueKind.INVALID_ID, customer_id__in=problems, pair_key="",
                status__in=[OPEN, DISMISSED],
            ).values_list("customer_id", flat=True)
        )  # fmt: skip
        new = [
            DataQualityIssue(
                kind=QualityIssueKind.INVALID_ID,
                customer_id=pk,
                branch_id=branch_id,
                detail=problem,
                detected_at=now,
            )
            for pk, (problem, branch_id) in problems.items()
            if pk not in existing
        ]
        DataQualityIssue.objects.bulk_create(new, ignore_conflicts=True)
        created = len(new)
    return created, resolved


@transaction.atomic
def quality_check_ids(customer_ids: Iterable[int]) -> dict[str, int]:
    """Full check (decrypting) of the resident IDs of the given customers: raises an
    invalid_id issue for each that fails and resolves open ones that now pass. For
    the loaders (the rows they just wrote) and for re-checks; batches of
    CHECK_BATCH customers, so memory stays flat."""
    now = timezone.now()
    ids = sorted(set(customer_ids))
    created = resolved = 0
    for chunk in chunks(ids, CHECK_BATCH):
        c, r = _check_batch(chunk, now=now, create=True)
        created, resolved = created + c, resolved + r
    return {"created": created, "resolved": resolved}


def _recheck_open_invalid_ids(*, now: datetime.datetime) -> int:
    """Decrypt and re-check the customers with an open invalid_id issue, keyset
    batches over customer id (no OFFSET)."""
    resolved, after = 0, 0
    while True:
        chunk = list(
            DataQualityIssue.objects.filter(
                kind=QualityIssueKind.INVALID_ID, status=OPEN, customer_id__gt=after
            )
            .order_by("customer_id")
            .values_list("customer_id", flat=True)
            .distinct()[:CHECK_BATCH]
        )
        if not chunk:
            return resolved
        resolved += _check_batch(chunk, now=now, create=False)[1]
        after = chunk[-1]


# ------------------------------------------------------------------------ reads


def quality_counts(*, user) -> list[dict[str, Any]]:
    """Open issues by branch and kind in the user's scope (one aggregate query):
    `[{"branch_id", "branch__code", "branch__name", "kind", "count"}, ...]`."""
    return list(
        DataQualityIssue.objects.visible_to(user)
        .filter(status=OPEN)
        .values("branch_id", "branch__code", "branch__name", "kind")
        .annotate(count=Count("id"))
        .order_by("branch__code", "kind")
    )


def quality_queue(
    *,
    user,
    kind: str = "",
    branch: str = "",
    status: str = OPEN,
    issues: QuerySet[DataQualityIssue] | None = None,
) -> QuerySet[DataQualityIssue]:
    """The queue in the user's scope (`issues`, already narrowed to `user`, or
    `DataQualityIssue.objects.visible_to(user)`: issues whose customers the user may
    all see, both of a pair), newest first; `branch` (a code) takes its subtree, ""
    anything; `status` "" any status."""
    if issues is None:
        issues = DataQualityIssue.objects.visible_to(user)
    if kind:
        issues = issues.filter(kind=kind)
    if status:
        issues = issues.filter(status=status)
    if branch:
        root = Branch.objects.filter(code=branch).first()
        if root is None:
            return issues.none()
        issues = issues.filter(branch__path__startswith=root.path)
    # Newest first: ids follow detection (each scan inserts after the previous one),
    # and "-id" walks the primary key backwards instead of sorting the whole queue.
    return issues.select_related("customer", "other_customer", "branch", "resolved_by").order_by("-id")


# ---------------------------------------------------------------------- dismiss


@transaction.atomic
def quality_issue_dismiss(*, issue: DataQualityIssue, by: User, reason: str) -> DataQualityIssue:
    """Close an open issue as acceptable (not a duplicate, known and accepted...).
    The caller has checked that the issue is in the user's scope."""
    if not by.has_perm("customers.change_dataqualityissue"):
        raise PermissionDenied(_("You may not dismiss data-quality issues."))
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": _("Say why the issue can be dismissed (at least 4 characters).")})
    issue = DataQualityIssue.objects.select_for_update().get(pk=issue.pk)
    if issue.status != OPEN:
        raise ValidationError(_("This issue is no longer open."))
    issue.status = DISMISSED
    issue.resolved_at = timezone.now()
    issue.resolved_by = by
    issue.resolution = reason[:200]
    issue.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=issue.customer,
        details={
            "quality_issue": issue.pk,
            "kind": issue.kind,
            "other": issue.other_customer.customer_no if issue.other_customer_id else None,
            "dismissed": reason[:200],
        },
    )
    return issue


# ------------------------------------------------------------------------ merge


# Clear last digits of the ID and mobile: not copied into the snapshot (the merged
# row keeps its own, and they can be derived again from the ciphertext).
SNAPSHOT_EXCLUDED = frozenset({"id_suffix", "mobile_suffix"})


def _snapshot(customer: Customer) -> dict[str, Any]:
    """The stored columns of the customer. Identifiers are there only as ciphertext
    and blind index, so nothing here is a clear ID number or mobile."""
    return {
        f.attname: jsonable(getattr(customer, f.attname))
        for f in Customer._meta.concrete_fields
        if f.attname not in SNAPSHOT_EXCLUDED
    }


def _normalised_contact(contact: ContactPoint) -> tuple[str, str] | None:
    try:
        value = contact.value
    except DecryptionError:
        return None
    if contact.type == ContactType.MOBILE:
        value = normalise_mobile(value)
    elif contact.type == ContactType.EMAIL:
        value = value.lower()
    return contact.type, " ".join(value.split())


def _move_contacts(survivor: Customer, merged: Customer, moved: dict[str, Any]) -> None:
    """Contacts the survivor already has (same type and value, compared decrypted:
    each ciphertext has its own nonce) are deleted, the others move; a moved contact
    does not take the primary flag from the survivor's own."""
    own = list(ContactPoint.objects.filter(customer=survivor))
    known = {_normalised_contact(c) for c in own} - {None}
    primary_types = {c.type for c in own if c.is_primary}
    to_move, to_delete, demoted = [], [], []
    for contact in ContactPoint.objects.filter(customer=merged).order_by("pk"):
        key = _normalised_contact(contact)
        if key is not None and key in known:
            to_delete.append(contact)
            continue
        if key is not None:
            known.add(key)
        to_move.append(contact.pk)
        if contact.is_primary and contact.type in primary_types:
            demoted.append(contact.pk)
        elif contact.is_primary:
            primary_types.add(contact.type)
    moved["contactpoint_deleted"] = [
        {
            "id": c.pk,
            "type": c.type,
            "value_enc": c.value_enc,
            "value_hash": c.value_hash,
            "is_primary": c.is_primary,
            "updated_at": jsonable(c.updated_at),
        }
        for c in to_delete
    ]
    ContactPoint.objects.filter(pk__in=[c.pk for c in to_delete]).delete()
    ContactPoint.objects.filter(pk__in=demoted).update(is_primary=False)
    ContactPoint.objects.filter(pk__in=to_move).update(customer=survivor)
    moved["contactpoint"] = to_move
    moved["contactpoint_demoted"] = demoted


def _move_by_customer(model: type[Model], survivor: Customer, merged: Customer) -> list[int]:
    ids = list(model.objects.filter(customer=merged).order_by("pk").values_list("pk", flat=True))
    model.objects.filter(pk__in=ids).update(customer=survivor)
    return ids


def _relationship_row(r: Relationship) -> dict[str, Any]:
    return {
        "id": r.pk,
        "customer_id": r.customer_id,
        "relation_type": r.relation_type,
        "related_customer_id": r.related_customer_id,
        "related_name": r.related_name,
        "note": r.note,
    }


def _move_relationships(survivor: Customer, merged: Customer, moved: dict[str, Any]) -> None:
    """Both directions. A link that would point the survivor at itself, or repeat a
    link the survivor already has, is deleted (and recorded)."""
    deleted: list[Relationship] = []
    outgoing_keys = set(
        Relationship.objects.filter(customer=survivor).values_list(
            "relation_type", "related_customer_id", "related_name"
        )
    )
    outgoing = []
    for r in Relationship.objects.filter(customer=merged).order_by("pk"):
        key = (r.relation_type, r.related_customer_id, r.related_name)
        if r.related_customer_id in (survivor.pk, merged.pk) or key in outgoing_keys:
            deleted.append(r)
        else:
            outgoing_keys.add(key)
            outgoing.append(r.pk)
    incoming_keys = set(
        Relationship.objects.filter(related_customer=survivor).values_list("customer_id", "relation_type")
    )
    incoming = []
    for r in Relationship.objects.filter(related_customer=merged).exclude(customer=merged).order_by("pk"):
        key = (r.customer_id, r.relation_type)
        if r.customer_id == survivor.pk or key in incoming_keys:
            deleted.append(r)
        else:
            incoming_keys.add(key)
            incoming.append(r.pk)
    moved["relationship_deleted"] = [_relationship_row(r) for r in deleted]
    Relationship.objects.filter(pk__in=[r.pk for r in deleted]).delete()
    Relationship.objects.filter(pk__in=outgoing).update(customer=survivor)
    Relationship.objects.filter(pk__in=incoming).update(related_customer=survivor)
    moved["relationship"] = outgoing
    moved["relationship_incoming"] = incoming


def _move_grants(survivor: Customer, merged: Customer, moved: dict[str, Any]) -> None:
    """django-guardian grants: one per (user, permission, customer), so a grant the
    survivor already has is deleted rather than moved."""
    held = set(
        CustomerUserObjectPermission.objects.filter(content_object=survivor).values_list(
            "user_id", "permission_id"
        )
    )
    to_move, deleted = [], []
    for grant in CustomerUserObjectPermission.objects.filter(content_object=merged).order_by("pk"):
        if (grant.user_id, grant.permission_id) in held:
            deleted.append(grant)
        else:
            to_move.append(grant.pk)
    moved["customeruserobjectpermission_deleted"] = [
        {
            "id": g.pk,
            "user_id": g.user_id,
            "permission_id": g.permission_id,
            "expires_at": jsonable(g.expires_at),
        }
        for g in deleted
    ]
    CustomerUserObjectPermission.objects.filter(pk__in=[g.pk for g in deleted]).delete()
    CustomerUserObjectPermission.objects.filter(pk__in=to_move).update(content_object=survivor)
    moved["customeruserobjectpermission"] = to_move


def _move_assignments(survivor: Customer, merged: Customer, moved: dict[str, Any]) -> User | None:
    """The assignment history moves to the survivor, so performance attribution
    keeps it. The merged record's open rows are closed ("merged into ...") — except
    its manager of record when the survivor has none: that assignment stays open and
    its manager becomes the survivor's (the person keeps a manager). Returns that
    manager, if any."""
    today = timezone.localdate()
    survivor_has_primary = CustomerAssignment.objects.filter(
        customer=survivor, role=AssignmentRole.PRIMARY, end_date__isnull=True
    ).exists()
    kept: CustomerAssignment | None = None
    closed = []
    for row in CustomerAssignment.objects.filter(customer=merged, end_date__isnull=True).select_related(
        "manager"
    ):
        if row.role == AssignmentRole.PRIMARY and not survivor_has_primary and kept is None:
            kept = row
            continue
        closed.append({"id": row.pk, "reason": row.reason})
        row.end_date = max(today, row.start_date)
        was = f" (was: {row.reason})" if row.reason else ""
        row.reason = f"merged into {survivor.customer_no}{was}"[:200]
        row.save(update_fields=["end_date", "reason"])
    moved["customerassignment_closed"] = closed
    moved["customerassignment_kept_open"] = kept.pk if kept else None
    moved["customerassignment"] = _move_by_customer(CustomerAssignment, survivor, merged)
    return kept.manager if kept else None


def _fold_rows(
    model: type[Model],
    survivor: Customer,
    merged: Customer,
    *,
    keys: Sequence[str],
    sums: Sequence[str],
    maxima: Sequence[str] = (),
) -> dict[str, list]:
    """Daily/monthly figures keyed by (customer, keys...): where the survivor has a
    row for the same key, the merged customer's amounts are added into it and its
    row is deleted; its other rows move. Set-based (no loop over rows); the merged
    customer's rows are read first so that the merge can be undone."""
    table = _table(model)
    here = " AND ".join(f"m.{k} = {table}.{k}" for k in keys)
    there = " AND ".join(f"s.{k} = {table}.{k}" for k in keys)
    # read through the ORM so that amounts come back as Decimal on every database
    overlap = Exists(model.objects.filter(customer=survivor, **{k: OuterRef(k) for k in keys}))
    rows = list(
        model.objects.filter(customer=merged)
        .annotate(overlap=overlap)
        .order_by(*keys)
        .values_list(*keys, *sums, *maxima, "overlap")
    )
    with connection.cursor() as cursor:
        if any(row[-1] for row in rows):
            assignments = [
                f"{c} = {c} + (SELECT m.{c} FROM {table} m WHERE m.customer_id = %s AND {here})" for c in sums
            ]
            assignments += [
                f"{c} = CASE WHEN (SELECT m.{c} FROM {table} m WHERE m.customer_id = %s AND {here}) > {c}"
                f" THEN (SELECT m.{c} FROM {table} m WHERE m.customer_id = %s AND {here}) ELSE {c} END"
                for c in maxima
            ]
            cursor.execute(
                f"UPDATE {table} SET {', '.join(assignments)} WHERE customer_id = %s AND EXISTS"
                f" (SELECT 1 FROM {table} m WHERE m.customer_id = %s AND {here})",
                [merged.pk] * (len(sums) + 2 * len(maxima)) + [survivor.pk, merged.pk],
            )
            cursor.execute(
                f"DELETE FROM {table} WHERE customer_id = %s AND EXISTS"
                f" (SELECT 1 FROM {table} s WHERE s.customer_id = %s AND {there})",
                [merged.pk, survivor.pk],
            )
        cursor.execute(
            f"UPDATE {table} SET customer_id = %s WHERE customer_id = %s", [survivor.pk, merged.pk]
        )
    width = len(keys)
    return {
        "moved": [[jsonable(v) for v in row[:width]] for row in rows if not row[-1]],
        "added": [[jsonable(v) for v in row[:-1]] for row in rows if row[-1]],
    }


def _fold_figures(survivor: Customer, merged: Customer, moved: dict[str, Any]) -> None:
    moved["customerdailyaum"] = _fold_rows(
        CustomerDailyAum, survivor, merged, keys=["business_date"], sums=["aum", "liabilities"]
    )
    moved["customermonthlyaum"] = _fold_rows(
        CustomerMonthlyAum,
        survivor,
        merged,
        keys=["month"],
        sums=["avg_aum", "end_aum", "avg_liabilities"],
        maxima=["days"],
    )
    moved["transactionsummary"] = _fold_rows(
        TransactionSummary,
        survivor,
        merged,
        keys=["business_date", "channel"],
        sums=["txn_count", "txn_amount"],
    )


def _moved_counts(moved: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for table, value in moved.items():
        if isinstance(value, list):
            counts[table] = len(value)
        elif isinstance(value, dict) and "moved" in value:
            counts[table] = len(value["moved"]) + len(value["added"])
    return counts


def _lock_pair(survivor: Customer, merged: Customer) -> tuple[Customer, Customer]:
    # Always lock in primary-key order: two merges touching the same customers
    # from opposite sides then queue instead of deadlocking.
    locked = {pk: Customer.objects.select_for_update().get(pk=pk) for pk in sorted((survivor.pk, merged.pk))}
    return locked[survivor.pk], locked[merged.pk]


@transaction.atomic
def customer_merge(*, survivor: Customer, merged: Customer, merged_by: User, reason: str) -> CustomerMerge:
    """Fold the duplicate `merged` into `survivor`, in one transaction: accounts,
    contacts, interactions, relationships, other assets, grants, assignment history
    and daily/monthly figures move to the survivor; `merged` is closed and points at
    the survivor. The CustomerMerge row records what moved (ids per table) and the
    records' values before, enough to undo the merge."""
    if not merged_by.has_perm("customers.merge_customer"):
        raise PermissionDenied(_("You may not merge customers."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why these records are the same person.")})
    if survivor.pk == merged.pk:
        raise ValidationError(_("A customer cannot be merged into itself."))
    if Customer.objects.visible_to(merged_by).filter(pk__in=[survivor.pk, merged.pk]).count() != 2:
        raise PermissionDenied(_("You may not merge customers you cannot see."))
    survivor, merged = _lock_pair(survivor, merged)
    if merged.merged_into_id or survivor.merged_into_id:
        raise ValidationError(_("One of these customers has already been merged."))

    snapshot = {
        "merged": _snapshot(merged),
        "survivor": {
            name: jsonable(getattr(survivor, name))
            for name in (
                "aum", "liabilities", "month_avg_aum", "aum_date", "household_id", "household_role",
                "primary_manager_id", "mobile_enc", "mobile_hash", "updated_at",
            )
        },
    }  # fmt: skip
    moved: dict[str, Any] = {"account": _move_by_customer(Account, survivor, merged)}
    _move_contacts(survivor, merged, moved)
    moved["interaction"] = _move_by_customer(Interaction, survivor, merged)
    _move_relationships(survivor, merged, moved)
    moved["otherasset"] = _move_by_customer(OtherAsset, survivor, merged)
    _move_grants(survivor, merged, moved)
    new_manager = _move_assignments(survivor, merged, moved)
    _fold_figures(survivor, merged, moved)

    now = timezone.now()
    survivor_changes: dict[str, Any] = {
        # they held different accounts, so their figures add up
        "aum": survivor.aum + merged.aum,
        "liabilities": survivor.liabilities + merged.liabilities,
        "month_avg_aum": survivor.month_avg_aum + merged.month_avg_aum,
        "aum_date": survivor.aum_date or merged.aum_date,
        "updated_at": now,
    }
    if survivor.household_id is None and merged.household_id is not None:
        survivor_changes.update(household_id=merged.household_id, household_role=merged.household_role)
    moved["household"] = {"taken": survivor_changes.get("household_id")}
    if not survivor.mobile_enc and merged.mobile_enc:
        # same column, same encryption context: the ciphertext can be copied as is
        survivor_changes.update(
            mobile_enc=merged.mobile_enc, mobile_hash=merged.mobile_hash, mobile_suffix=merged.mobile_suffix
        )
    if new_manager is not None:
        survivor_changes["primary_manager"] = new_manager
    Customer.objects.filter(pk=survivor.pk).update(**survivor_changes)
    # The merged record keeps its identity (it can be found and undone) but no
    # longer counts: its figures are the survivor's now.
    Customer.objects.filter(pk=merged.pk).update(
        merged_into=survivor,
        status=CustomerStatus.CLOSED,
        aum=0,
        liabilities=0,
        month_avg_aum=0,
        primary_manager=None,
        household=None,
        household_role="",
        updated_at=now,
    )
    issues = DataQualityIssue.objects.filter(Q(customer=merged) | Q(other_customer=merged), status=OPEN)
    moved["dataqualityissue"] = list(issues.order_by("pk").values_list("pk", flat=True))
    DataQualityIssue.objects.filter(pk__in=moved["dataqualityissue"]).update(
        status=RESOLVED, resolved_at=now, resolved_by=merged_by, resolution=MERGED
    )
    merge = CustomerMerge.objects.create(
        survivor=survivor,
        merged=merged,
        merged_by=merged_by,
        merged_at=now,
        reason=reason[:200],
        moved=moved,
        snapshot=snapshot,
    )
    if new_manager is not None:
        audit(
            Action.ASSIGNMENT_CHANGED,
            actor=merged_by,
            target=survivor,
            details={"from": None, "to": new_manager.employee_no, "reason": f"merge {merge.pk}"},
        )
    audit(
        Action.CUSTOMER_MERGED,
        actor=merged_by,
        target=survivor,
        details={
            "merged": merged.customer_no,
            "merge_id": merge.pk,
            "moved": _moved_counts(moved),
            "reason": reason[:200],
        },
    )
    survivor.refresh_from_db()
    return merge
