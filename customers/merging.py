"""Merging a duplicate customer into its survivor: a customer write, in one
transaction, audited. Everything the merged record held moves to the survivor
(accounts, contacts, interactions, relationships, other assets, grants, assignment
history, daily and monthly figures, income); the merged record is closed and points
at the survivor; its open data-quality issues are resolved ("merged"). The
CustomerMerge row records what moved (ids per table) and the records' values before,
enough to undo the merge. The data-quality queue (`customers.quality`) offers the
merge for a duplicate pair."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, Model, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User
from core.serialization import jsonable

from .aum import DAILY_SUMS
from .choices import AssignmentRole, ContactType, CustomerStatus, QualityIssueStatus
from .crypto import DecryptionError
from .idnumbers import normalise_mobile
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
    IncomeEntry,
    Interaction,
    OtherAsset,
    PayrollLink,
    Relationship,
    TransactionSummary,
)

# The resolution of the open data-quality issues of a merged customer.
MERGED = "merged"

# Values of the survivor kept in the merge's snapshot: what the merge changes on it.
SURVIVOR_SNAPSHOT_FIELDS = (
    "aum", "liabilities", "month_avg_aum", "aum_date", "household_id", "household_role",
    "primary_manager_id", "mobile_enc", "mobile_hash", "updated_at",
)  # fmt: skip


# Clear last digits of the ID and mobile: not copied into the snapshot (the merged
# row keeps its own, and they can be derived again from the ciphertext).
SNAPSHOT_EXCLUDED = frozenset({"id_suffix", "mobile_suffix"})


@transaction.atomic
def customer_merge(*, survivor: Customer, merged: Customer, merged_by: User, reason: str) -> CustomerMerge:
    """Fold the duplicate `merged` into `survivor`, in one transaction: accounts,
    contacts, interactions, relationships, other assets, grants, assignment history,
    daily/monthly figures and income move to the survivor; `merged` is closed and
    points at the survivor. The CustomerMerge row records what moved (ids per table)
    and the records' values before, enough to undo the merge."""
    reason = _check_merge(survivor=survivor, merged=merged, merged_by=merged_by, reason=reason)
    survivor, merged = _lock_pair(survivor, merged)
    if merged.merged_into_id or survivor.merged_into_id:
        raise ValidationError(_("One of these customers has already been merged."))

    snapshot = {
        "merged": _snapshot(merged),
        "survivor": {name: jsonable(getattr(survivor, name)) for name in SURVIVOR_SNAPSHOT_FIELDS},
    }
    moved, new_manager = _move_records(survivor, merged)
    now = timezone.now()
    moved["household"] = _update_survivor(survivor, merged, new_manager=new_manager, now=now)
    _close_merged(survivor, merged, now=now)
    moved["dataqualityissue"] = _resolve_issues_of(merged, by=merged_by, now=now)
    merge = CustomerMerge.objects.create(
        survivor=survivor,
        merged=merged,
        merged_by=merged_by,
        merged_at=now,
        reason=reason[:200],
        moved=moved,
        snapshot=snapshot,
    )
    _audit_merge(merge, new_manager=new_manager)
    survivor.refresh_from_db()
    return merge


def _check_merge(*, survivor: Customer, merged: Customer, merged_by: User, reason: str) -> str:
    """The user may merge these two customers, for a stated reason (returned, stripped)."""
    if not merged_by.has_perm("customers.merge_customer"):
        raise PermissionDenied(_("You may not merge customers."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why these records are the same person.")})
    if survivor.pk == merged.pk:
        raise ValidationError(_("A customer cannot be merged into itself."))
    if Customer.objects.visible_to(merged_by).filter(pk__in=[survivor.pk, merged.pk]).count() != 2:
        raise PermissionDenied(_("You may not merge customers you cannot see."))
    return reason


def _move_records(survivor: Customer, merged: Customer) -> tuple[dict[str, Any], User | None]:
    """Move what the merged customer holds to the survivor. Returns what moved, per
    table, and the manager the survivor takes over (if any)."""
    moved: dict[str, Any] = {"account": _move_by_customer(Account, survivor, merged)}
    _move_contacts(survivor, merged, moved)
    moved["interaction"] = _move_by_customer(Interaction, survivor, merged)
    _move_relationships(survivor, merged, moved)
    moved["otherasset"] = _move_by_customer(OtherAsset, survivor, merged)
    _move_payroll(survivor, merged, moved)
    _move_grants(survivor, merged, moved)
    new_manager = _move_assignments(survivor, merged, moved)
    _fold_figures(survivor, merged, moved)
    return moved, new_manager


def _update_survivor(
    survivor: Customer, merged: Customer, *, new_manager: User | None, now: datetime.datetime
) -> dict[str, Any]:
    """The survivor takes the merged record's figures, and its household, mobile and
    manager where it has none. Returns the household taken (for the undo record)."""
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
    household = {"taken": survivor_changes.get("household_id")}
    if not survivor.mobile_enc and merged.mobile_enc:
        # same column, same encryption context: the ciphertext can be copied as is
        survivor_changes.update(
            mobile_enc=merged.mobile_enc, mobile_hash=merged.mobile_hash, mobile_suffix=merged.mobile_suffix
        )
    if new_manager is not None:
        survivor_changes["primary_manager"] = new_manager
    Customer.objects.filter(pk=survivor.pk).update(**survivor_changes)
    return household


def _close_merged(survivor: Customer, merged: Customer, *, now: datetime.datetime) -> None:
    """The merged record keeps its identity (it can be found and undone) but no
    longer counts: its figures are the survivor's now."""
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


def _resolve_issues_of(merged: Customer, *, by: User, now: datetime.datetime) -> list[int]:
    """Resolve the open data-quality issues of the merged customer; returns their ids."""
    issues = DataQualityIssue.objects.filter(
        Q(customer=merged) | Q(other_customer=merged), status=QualityIssueStatus.OPEN
    )
    ids = list(issues.order_by("pk").values_list("pk", flat=True))
    DataQualityIssue.objects.filter(pk__in=ids).update(
        status=QualityIssueStatus.RESOLVED, resolved_at=now, resolved_by=by, resolution=MERGED
    )
    return ids


def _audit_merge(merge: CustomerMerge, *, new_manager: User | None) -> None:
    if new_manager is not None:
        audit(
            Action.ASSIGNMENT_CHANGED,
            actor=merge.merged_by,
            target=merge.survivor,
            details={"from": None, "to": new_manager.employee_no, "reason": f"merge {merge.pk}"},
        )
    audit(
        Action.CUSTOMER_MERGED,
        actor=merge.merged_by,
        target=merge.survivor,
        details={
            "merged": merge.merged.customer_no,
            "merge_id": merge.pk,
            "moved": _moved_counts(merge.moved),
            "reason": merge.reason,
        },
    )


def _lock_pair(survivor: Customer, merged: Customer) -> tuple[Customer, Customer]:
    # Always lock in primary-key order: two merges touching the same customers
    # from opposite sides then queue instead of deadlocking.
    locked = {pk: Customer.objects.select_for_update().get(pk=pk) for pk in sorted((survivor.pk, merged.pk))}
    return locked[survivor.pk], locked[merged.pk]


def _snapshot(customer: Customer) -> dict[str, Any]:
    """The stored columns of the customer. Identifiers are there only as ciphertext
    and blind index, so nothing here is a clear ID number or mobile."""
    return {
        f.attname: jsonable(getattr(customer, f.attname))
        for f in Customer._meta.concrete_fields
        if f.attname not in SNAPSHOT_EXCLUDED
    }


def _moved_counts(moved: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for table, value in moved.items():
        if isinstance(value, list):
            counts[table] = len(value)
        elif isinstance(value, dict) and "moved" in value:
            counts[table] = len(value["moved"]) + len(value["added"])
    return counts


# ---------------------------------------------------------------- moving records


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
    ids = list(model._default_manager.filter(customer=merged).order_by("pk").values_list("pk", flat=True))
    model._default_manager.filter(pk__in=ids).update(customer=survivor)
    return ids


def _move_payroll(survivor: Customer, merged: Customer, moved: dict[str, Any]) -> None:
    """The employers paying the duplicate pay the survivor. An open link to an
    employer already paying the survivor is the same relationship twice: the
    survivor's stands and the duplicate's goes (ended links are history: they move)."""
    paying = PayrollLink.objects.filter(customer=survivor, until__isnull=True).values("employer")
    twice = list(
        PayrollLink.objects.filter(customer=merged, until__isnull=True, employer__in=paying).values_list(
            "pk", flat=True
        )
    )
    PayrollLink.objects.filter(pk__in=twice).delete()
    moved["payrolllink"] = _move_by_customer(PayrollLink, survivor, merged)
    if twice:
        moved["payrolllink_dropped"] = twice


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
        incoming_key = (r.customer_id, r.relation_type)
        if r.customer_id == survivor.pk or incoming_key in incoming_keys:
            deleted.append(r)
        else:
            incoming_keys.add(incoming_key)
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
    table = connection.ops.quote_name(model._meta.db_table)
    here = " AND ".join(f"m.{k} = {table}.{k}" for k in keys)
    there = " AND ".join(f"s.{k} = {table}.{k}" for k in keys)
    # read through the ORM so that amounts come back as Decimal on every database
    overlap = Exists(model._default_manager.filter(customer=survivor, **{k: OuterRef(k) for k in keys}))
    rows = list(
        model._default_manager.filter(customer=merged)
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
        CustomerDailyAum, survivor, merged, keys=["business_date"], sums=DAILY_SUMS
    )
    moved["customermonthlyaum"] = _fold_rows(
        CustomerMonthlyAum,
        survivor,
        merged,
        keys=["month"],
        sums=["avg_aum", "end_aum", "avg_liabilities", "aum_sum", "liabilities_sum"],
        maxima=["days"],
    )
    moved["transactionsummary"] = _fold_rows(
        TransactionSummary,
        survivor,
        merged,
        keys=["business_date", "channel"],
        sums=["txn_count", "txn_amount"],
    )
    # income rows are kept as booked (several of a type on a day add up): they move
    moved["incomeentry"] = _move_by_customer(IncomeEntry, survivor, merged)
