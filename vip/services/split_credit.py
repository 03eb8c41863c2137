"""Split credit (issue 14): an assisting manager counts a share of a customer's
figures, the manager of record the rest. The performance engine credits both day
by day from the assignment rows (`performance.engine`, step 3); these services
write those rows: role `AssignmentRole.SECONDARY` with `credit_share` in percent.

The rules:

- Who may: a user with `vip.assign_customer` (a branch head, a head-office
  business manager) on a customer in their data scope; a client manager may not.
- The customer has a manager of record; the assisting manager is another active
  client manager. The share is a percent with at most 2 decimals, strictly between
  0 and 100: the manager of record keeps 100 − share, so the two add up to 100.
- Dates are days, both ends counted: `end_date` is the assisting manager's last
  day. A split starts neither in the future nor before the manager of record's
  current assignment started, and after the previous split's last day.
- One running split at a time: setting a new one (another manager, or a new share
  for the same one) ends the running one the day before; on the day it started it
  replaces it (a split that never counted a day keeps no row; the audit trail does).
- A split is agreed with the manager of record of its time, and ends with them:
  its last day is theirs. A transfer (or an assignment) takes effect on a day that
  is the new manager's, so the split's last day is the day before; a recall to the
  pool ends the primary assignment on its day, and the split on the same day. A
  split set on the day a transfer takes effect never counted a day: it is removed
  (audited). `splits_end_with_primary` does this for the services that change the
  manager of record (`assignment`, `transfers`).
- A leaving manager's book recalled (`assignment.manager_book_recall`): the splits in
  which they assist end that day too, like the customers shared with them."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User
from customers.choices import AssignmentRole
from customers.models import Customer, CustomerAssignment
from customers.permissions import require_in_scope
from customers.services import ensure_not_merged

from ._common import check_manager, lock_customer, open_primary, require_permission, require_reason

# Splitting the credit is part of deciding who looks after whom: the branch's work.
SPLIT_PERMISSION = "vip.assign_customer"
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
ONE_DAY = datetime.timedelta(days=1)


def valid_share(share: Decimal | int | str | None) -> Decimal:
    """The assisting share as a Decimal, or a ValidationError saying what is wrong."""
    message = _("The assisting share is a percent with at most 2 decimals, more than 0 and less than 100.")
    try:
        value = Decimal(str(share).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"share": message}) from None
    if not value.is_finite() or value != value.quantize(CENT) or not (0 < value < HUNDRED):
        raise ValidationError({"share": message})
    return value.quantize(CENT)


def open_split(customer: Customer) -> CustomerAssignment | None:
    """The customer's running assisting assignment, if any."""
    return (
        CustomerAssignment.objects.filter(
            customer=customer, role=AssignmentRole.SECONDARY, end_date__isnull=True
        )
        .select_related("manager")
        .order_by("-start_date", "-id")
        .first()
    )


def _split_details(row: CustomerAssignment) -> dict[str, str | None]:
    return {
        "assisting": row.manager.employee_no,
        "share": str(row.credit_share),
        "from": row.start_date.isoformat(),
        "to": row.end_date.isoformat() if row.end_date else None,
    }


@transaction.atomic
def split_credit_set(
    *,
    customer: Customer,
    manager: User,
    share: Decimal | int | str,
    by: User,
    reason: str,
    start_date: datetime.date | None = None,
) -> CustomerAssignment:
    """Make `manager` the customer's assisting manager with `share` percent from
    `start_date` (default today); the manager of record keeps 100 − share. A running
    split ends the day before (or, started the same day, is replaced)."""
    require_permission(by, SPLIT_PERMISSION)
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    reason = require_reason(reason)
    share = valid_share(share)
    today = timezone.localdate()
    start_date = start_date or today
    if start_date > today:
        raise ValidationError({"start_date": _("A split cannot start in the future.")})
    check_manager(manager)
    customer = lock_customer(customer)
    primary = open_primary(customer)
    if primary is None:
        raise ValidationError(
            _("This customer has no manager of record (branch pool): assign one before splitting the credit.")
        )
    if primary.manager_id == manager.pk:
        raise ValidationError(
            {
                "manager": _("%(name)s is the manager of record: choose another manager to assist.")
                % {"name": manager.get_full_name()}
            }
        )
    if start_date < primary.start_date:
        raise ValidationError(
            {
                "start_date": _(
                    "A split cannot start before %(name)s became the manager of record (%(date)s)."
                )
                % {"name": primary.manager.get_full_name(), "date": primary.start_date.isoformat()}
            }
        )
    current = open_split(customer)
    if current is not None and current.manager_id == manager.pk and current.credit_share == share:
        return current
    last_ended = CustomerAssignment.objects.filter(
        customer=customer, role=AssignmentRole.SECONDARY, end_date__isnull=False
    ).aggregate(last=Max("end_date"))["last"]
    if last_ended is not None and start_date <= last_ended:
        raise ValidationError(
            {
                "start_date": _("A split must start after the previous one ended (%(date)s).")
                % {"date": last_ended.isoformat()}
            }
        )
    details: dict[str, object] = {"split": "set", "manager_of_record": primary.manager.employee_no}
    if current is not None:
        if start_date < current.start_date:
            raise ValidationError(
                {
                    "start_date": _("A new split must start on or after the running one started (%(date)s).")
                    % {"date": current.start_date.isoformat()}
                }
            )
        if start_date == current.start_date:
            details["replaced"] = _split_details(current)
            current.delete()
        else:
            current.end_date = start_date - ONE_DAY
            current.save(update_fields=["end_date"])
            details["ended"] = _split_details(current)
    split = CustomerAssignment.objects.create(
        customer=customer,
        manager=manager,
        role=AssignmentRole.SECONDARY,
        credit_share=share,
        start_date=start_date,
        reason=reason,
        created_by=by,
    )
    audit(
        Action.ASSIGNMENT_CHANGED,
        actor=by,
        target=customer,
        details={**details, **_split_details(split), "reason": reason},
    )
    return split


@transaction.atomic
def split_credit_end(
    *, customer: Customer, by: User, reason: str, end_date: datetime.date | None = None
) -> CustomerAssignment:
    """End the running split: `end_date` (default today) is the assisting manager's
    last day; from the next day the manager of record counts the customer in full."""
    require_permission(by, SPLIT_PERMISSION)
    require_in_scope(by, customer)
    ensure_not_merged(customer)
    reason = require_reason(reason)
    today = timezone.localdate()
    end_date = end_date or today
    if end_date > today:
        raise ValidationError({"end_date": _("A split cannot end in the future.")})
    customer = lock_customer(customer)
    current = open_split(customer)
    if current is None:
        raise ValidationError(_("This customer's credit is not split."))
    if end_date < current.start_date:
        raise ValidationError(
            {
                "end_date": _("A split cannot end before it started (%(date)s).")
                % {"date": current.start_date.isoformat()}
            }
        )
    current.end_date = end_date
    current.save(update_fields=["end_date"])
    audit(
        Action.ASSIGNMENT_CHANGED,
        actor=by,
        target=customer,
        details={"split": "ended", **_split_details(current), "reason": reason},
    )
    return current


def splits_end_with_primary(
    *, customer_ids: Iterable[int], last_day: datetime.date, by: User | None, reason: str
) -> int:
    """The manager of record of these customers changes: their running splits end on
    `last_day` (the outgoing manager's last day). The caller holds the customers'
    rows locked. Returns how many splits ended (or were removed)."""
    ids = list(customer_ids)
    if not ids:
        return 0
    return _splits_end(
        CustomerAssignment.objects.filter(customer_id__in=ids),
        last_day=last_day,
        by=by,
        reason=reason,
        why="ended with the manager of record",
    )


def splits_end_of_assisting(*, manager: User, last_day: datetime.date, by: User | None, reason: str) -> int:
    """A manager leaves: the splits in which they assist end on `last_day`, like the
    customers shared with them. Returns how many."""
    running = CustomerAssignment.objects.filter(
        manager=manager, role=AssignmentRole.SECONDARY, end_date__isnull=True
    )
    # Lock the customers in id order, as every write about a customer's manager does.
    list(
        Customer.objects.select_for_update()
        .filter(pk__in=running.values("customer_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return _splits_end(running, last_day=last_day, by=by, reason=reason, why="the assisting manager left")


def _splits_end(assignments, *, last_day: datetime.date, by: User | None, reason: str, why: str) -> int:
    """End the running splits among `assignments` on `last_day`; one that started
    after it never counted a day and is removed. Set-based, one audit event each."""
    rows = list(
        assignments.filter(role=AssignmentRole.SECONDARY, end_date__isnull=True).select_related(
            "manager", "customer"
        )
    )
    if not rows:
        return 0
    counted = [row.pk for row in rows if row.start_date <= last_day]
    CustomerAssignment.objects.filter(pk__in=counted).update(end_date=last_day)
    CustomerAssignment.objects.filter(pk__in=[row.pk for row in rows if row.pk not in counted]).delete()
    for row in rows:
        ended = row.pk in counted
        row.end_date = last_day if ended else None
        audit(
            Action.ASSIGNMENT_CHANGED,
            actor=by,
            target=row.customer,
            details={
                "split": why if ended else f"{why}: removed, never counted",
                **_split_details(row),
                "reason": reason[:200],
            },
        )
    return len(rows)
