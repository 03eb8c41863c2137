"""Batch assignment: a list of customers and the managers to give them to, from an
uploaded file or a customer search. `batch_prepare` shows what each row will do (or
why it cannot); `batch_execute` does it, checked again against the data as it is
then: customers of the pool are assigned, customers who have a manager get a
transfer request to approve."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User
from accounts.roles import Role
from accounts.scope import visible_branches
from customers.models import Customer

from ..choices import BatchRowOutcome, BatchSource, BatchStatus, TransferStatus
from ..models import AssignmentBatch, TransferRequest
from ._common import require_permission, require_reason
from .assignment import customer_assign
from .transfers import transfer_request

MAX_BATCH_ROWS = 2000

HEADER_ALIASES = {
    "customer_no": "customer_no",
    "customer number": "customer_no",
    "客户号": "customer_no",
    "客户编号": "customer_no",
    "manager": "manager",
    "employee_no": "manager",
    "manager employee no.": "manager",
    "客户经理工号": "manager",
    "工号": "manager",
    "reason": "reason",
    "原因": "reason",
}


# --- the list ----------------------------------------------------------------------------------


def _read_table(name: str, data: bytes) -> list[list[str]]:
    """The cells of the file's first sheet (.xlsx) or of the file (.csv, UTF-8 or
    GB18030), as text."""
    try:
        if name.endswith(".xlsx"):
            from openpyxl import load_workbook

            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
            return [
                ["" if v is None else str(v).strip() for v in row]
                for row in sheet.iter_rows(values_only=True)
            ]
        if name.endswith(".csv"):
            text = None
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    text = data.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            if text is None:
                raise ValueError("encoding")
            return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
        raise ValidationError(_("Upload an .xlsx or .csv file."))
    except ValidationError:
        raise
    except Exception as exc:  # a broken file, whatever the library says
        raise ValidationError(_("The file cannot be read as a spreadsheet.")) from exc


def parse_assignment_file(upload) -> list[dict[str, Any]]:
    """Rows of an uploaded list (.xlsx or .csv): customer number, manager's employee
    number, optional reason; the header row names the columns (English or Chinese)."""
    name = (getattr(upload, "name", "") or "").lower()
    table = [row for row in _read_table(name, upload.read()) if any(row)]
    if not table:
        raise ValidationError(_("The file is empty."))
    header = [HEADER_ALIASES.get(h.strip().lower(), "") for h in table[0]]
    if "customer_no" not in header or "manager" not in header:
        raise ValidationError(
            _("The first row must name the columns customer_no and manager (客户号, 客户经理工号).")
        )
    if len(table) - 1 > MAX_BATCH_ROWS:
        raise ValidationError(_("At most %(n)s rows per batch.") % {"n": MAX_BATCH_ROWS})
    rows = []
    for line, values in enumerate(table[1:], start=2):
        cells = {key: values[i] if i < len(values) else "" for i, key in enumerate(header) if key}
        rows.append(
            {
                "line": line,
                "customer_no": cells.get("customer_no", ""),
                "manager": cells.get("manager", ""),
                "reason": cells.get("reason", "")[:200],
            }
        )
    return rows


def batch_rows_from_search(
    *, by: User, customers: QuerySet[Customer], manager_no: str
) -> list[dict[str, Any]]:
    numbers = list(customers.values_list("customer_no", flat=True)[: MAX_BATCH_ROWS + 1])
    if len(numbers) > MAX_BATCH_ROWS:
        raise ValidationError(
            _("The search finds more than %(n)s customers: narrow it down.") % {"n": MAX_BATCH_ROWS}
        )
    return [
        {"line": i, "customer_no": no, "manager": manager_no, "reason": ""} for i, no in enumerate(numbers, 1)
    ]


# --- what each row will do ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Named:
    """What the rows name, read in a few set-based queries."""

    customers: dict[str, Customer]  # in the user's scope, by customer number
    managers: dict[str, User]  # active client managers, by employee number
    branch_ids: set[int]  # the branches the user may see
    pending: set[str]  # customer numbers with a transfer waiting for approval


def _look_up(rows: list[dict[str, Any]], *, by: User) -> _Named:
    numbers = {r["customer_no"] for r in rows if r["customer_no"]}
    customers = {
        c.customer_no: c
        for c in Customer.objects.visible_to(by)
        .filter(customer_no__in=numbers)
        .select_related("primary_manager")
    }
    manager_nos = {r["manager"] for r in rows if r["manager"]}
    branch_ids = set(visible_branches(by).values_list("pk", flat=True))
    managers = {
        u.employee_no: u
        for u in User.objects.filter(
            employee_no__in=manager_nos, is_active=True, groups__name=Role.CLIENT_MANAGER
        )
    }
    pending = set(
        TransferRequest.objects.filter(
            customer__customer_no__in=numbers, status=TransferStatus.PENDING
        ).values_list("customer__customer_no", flat=True)
    )
    return _Named(customers, managers, branch_ids, pending)


def _classified(row: dict[str, Any], named: _Named, *, seen: set[str]) -> dict[str, Any]:
    """The row with its outcome and, for an error, why (`seen`: the customer
    numbers of the earlier rows)."""
    row = {**row, "outcome": BatchRowOutcome.ERROR.value, "message": ""}
    number, manager_no = row["customer_no"], row["manager"]
    customer, manager = named.customers.get(number), named.managers.get(manager_no)
    if not number:
        row["message"] = _("No customer number.")
    elif number in seen:
        row["message"] = _("This customer is already in an earlier row.")
    elif customer is None:
        row["message"] = _("No customer with this number in your scope.")
    elif customer.merged_into_id:
        row["message"] = _("This customer was merged into another record.")
    elif not manager_no:
        row["message"] = _("No manager employee number.")
    elif manager is None:
        row["message"] = _("No active client manager with this employee number.")
    elif manager.branch_id not in named.branch_ids:
        row["message"] = _("This manager works outside your branches.")
    elif customer.primary_manager_id == manager.pk:
        row["outcome"] = BatchRowOutcome.UNCHANGED.value
    elif number in named.pending:
        row["message"] = _("A transfer of this customer is already waiting for approval.")
    elif customer.primary_manager is None:
        row["outcome"] = BatchRowOutcome.ASSIGN.value
    else:
        row["outcome"] = BatchRowOutcome.TRANSFER.value
        row["message"] = _("now with %(no)s") % {"no": customer.primary_manager.employee_no}
    return row


def _classify_rows(rows: list[dict[str, Any]], *, by: User) -> list[dict[str, Any]]:
    """What each row will do, checked in a few set-based queries."""
    named = _look_up(rows, by=by)
    seen: set[str] = set()
    result = []
    for row in rows:
        result.append(_classified(row, named, seen=seen))
        if row["customer_no"]:
            seen.add(row["customer_no"])
    return result


# --- the batch ----------------------------------------------------------------------------------


@transaction.atomic
def batch_prepare(
    *, by: User, rows: list[dict[str, Any]], source: str, reason: str, filename: str = ""
) -> AssignmentBatch:
    """A preview: every row with what it will do or why it cannot."""
    require_permission(by, "vip.assign_customer")
    reason = require_reason(reason)
    if not rows:
        raise ValidationError(_("There is nothing to assign."))
    if len(rows) > MAX_BATCH_ROWS:
        raise ValidationError(_("At most %(n)s rows per batch.") % {"n": MAX_BATCH_ROWS})
    if source not in BatchSource.values:
        raise ValueError(source)
    batch = AssignmentBatch.objects.create(
        created_by=by,
        source=source,
        filename=filename[:200],
        reason=reason,
        rows=_classify_rows(rows, by=by),
    )
    audit(
        Action.ASSIGNMENT_BATCH_PREPARED,
        actor=by,
        target=batch,
        target_repr=f"batch assignment {batch.pk}",
        details={"batch": batch.pk, "source": source, "rows": len(batch.rows)},
    )
    return batch


def _execute_row(
    row: dict[str, Any],
    *,
    customer: Customer,
    manager: User,
    batch: AssignmentBatch,
    by: User,
    can_request: bool,
) -> None:
    """Assign the customer or request their transfer, recording in the row what
    happened; a row that fails changes nothing (its own savepoint)."""
    reason = row.get("reason") or batch.reason
    try:
        with transaction.atomic():
            if row["outcome"] == BatchRowOutcome.ASSIGN:
                customer_assign(customer=customer, manager=manager, by=by, reason=reason)
                row["outcome"] = BatchRowOutcome.ASSIGNED.value
            elif can_request:
                transfer = transfer_request(
                    customer=customer, to_manager=manager, by=by, reason=reason, batch=batch
                )
                row["outcome"] = BatchRowOutcome.REQUESTED.value
                row["message"] = _("transfer %(id)s waiting for approval") % {"id": transfer.pk}
            else:
                raise PermissionDenied(_("You may not request transfers."))
    except (ValidationError, PermissionDenied) as exc:
        row["outcome"] = BatchRowOutcome.ERROR.value
        row["message"] = "; ".join(getattr(exc, "messages", None) or [str(exc)])


@transaction.atomic
def batch_execute(*, batch: AssignmentBatch, by: User) -> AssignmentBatch:
    """Do what the preview showed, re-checked against the data as it is now; each
    row succeeds or fails on its own and says which."""
    require_permission(by, "vip.assign_customer")
    batch = AssignmentBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.created_by_id != by.pk:
        raise PermissionDenied(_("Only the user who prepared a batch can run it."))
    if batch.status != BatchStatus.DRAFT:
        raise ValidationError(_("This batch was already run or cancelled."))
    rows = _classify_rows(batch.rows, by=by)
    customers = {
        c.customer_no: c
        for c in Customer.objects.filter(
            customer_no__in=[r["customer_no"] for r in rows if r["outcome"] != "error"]
        )
    }
    managers = {u.employee_no: u for u in User.objects.filter(employee_no__in={r["manager"] for r in rows})}
    can_request = by.has_perm("vip.add_transferrequest")
    for row in rows:
        if row["outcome"] not in (BatchRowOutcome.ASSIGN, BatchRowOutcome.TRANSFER):
            continue
        _execute_row(
            row,
            customer=customers[row["customer_no"]],
            manager=managers[row["manager"]],
            batch=batch,
            by=by,
            can_request=can_request,
        )
    summary = dict(Counter(row["outcome"] for row in rows))
    batch.rows = rows
    batch.status = BatchStatus.DONE
    batch.executed_at = timezone.now()
    batch.summary = summary
    batch.save(update_fields=["rows", "status", "executed_at", "summary"])
    audit(
        Action.ASSIGNMENT_CHANGED,
        actor=by,
        target=batch,
        target_repr=f"batch assignment {batch.pk}",
        details={"batch": batch.pk, "source": batch.source, "rows": len(rows), **summary},
    )
    return batch


@transaction.atomic
def batch_cancel(*, batch: AssignmentBatch, by: User) -> AssignmentBatch:
    batch = AssignmentBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.created_by_id != by.pk:
        raise PermissionDenied(_("Only the user who prepared a batch can cancel it."))
    if batch.status == BatchStatus.DRAFT:
        batch.status = BatchStatus.CANCELLED
        batch.save(update_fields=["status"])
        audit(
            Action.ASSIGNMENT_BATCH_CANCELLED,
            actor=by,
            target=batch,
            target_repr=f"batch assignment {batch.pk}",
            details={"batch": batch.pk},
        )
    return batch
