"""The assignment history from before the portal: a CSV file of rows
`customer_no,employee_no,start_date` (docs/performance.md, "Entry points"), the
history performance is attributed by.

- Each row makes that client manager the customer's primary manager of record from
  its start date (`YYYYMMDD` or `YYYY-MM-DD`): the running assignment ends the day
  before, `Customer.primary_manager` follows. The manager may work at any branch;
  the customer's home branch stays.
- One customer's rows apply in date order (file order within a date).
- A row the history already says counts as applied and changes nothing: the same
  customer, manager and start date, or more generally that manager being the
  customer's manager of record on that day. So the same file runs again cleanly,
  also after later files.
- A bad row (malformed, unknown customer or employee, a merged customer, not an
  active client manager, a date in the future, a date on or before the customer's
  current assignment, which would rewrite the history) is reported with its line
  and not applied; the others are.
- Audited like the VIP area's assignments: one `assignment_changed` event per new
  assignment on its customer, and one per run with the counts.

Customers and employees are looked up in bulk. The writes go by chunks of customers,
each chunk one transaction that locks its customers (in id order, like every
assignment write) and re-reads their history: the locks last for a chunk, not for a
whole go-live file, and a run stopped half-way is completed by running the file
again, since what is already written counts as applied."""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User
from accounts.roles import Role
from customers.choices import AssignmentRole
from customers.models import Customer, CustomerAssignment
from customers.services import ensure_not_merged

HEADER = ("customer_no", "employee_no", "start_date")
# Written on each assignment row the import makes.
REASON = "assignment history import"
# The audit trail's actor when no user runs the import (the command).
SYSTEM_ACTOR = "performance.import_assignments"
# Customers per transaction, and values per IN (...) of a lookup (SQLite's limit).
CHUNK_CUSTOMERS = 500
LOOKUP_BATCH = 2000

_COMPACT_DATE = re.compile(r"\d{8}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class AssignmentRow:
    """One data line of the file, as written (`problem`: why it cannot be read)."""

    line: int
    customer_no: str
    employee_no: str
    start_date: str
    problem: str = ""


@dataclass(frozen=True)
class RejectedRow:
    line: int
    customer_no: str
    employee_no: str
    start_date: str
    message: str


@dataclass
class ImportReport:
    """What a run did (or, dry, would do): `assigned` rows made a new assignment,
    `unchanged` ones were already in the history; both count as applied."""

    rows: int = 0
    assigned: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    dry_run: bool = False

    @property
    def applied(self) -> int:
        return self.assigned + self.unchanged

    @property
    def ok(self) -> bool:
        """Every row applied."""
        return not self.rejected


# --- the file -----------------------------------------------------------------------------------


def read_assignments_csv(data: bytes) -> list[AssignmentRow]:
    """The data rows of a UTF-8 CSV file whose first line is the header
    `customer_no,employee_no,start_date`, with their line numbers; blank lines are
    skipped. A file that is not UTF-8 or lacks the header is refused whole."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _("The file is not UTF-8 text (byte %(position)s).") % {"position": exc.start}
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    names = tuple(cell.strip().lower() for cell in header or ())
    if sorted(names) != sorted(HEADER):
        raise ValidationError(
            _("The first line must be the header %(header)s; it is %(found)s.")
            % {"header": ",".join(HEADER), "found": ",".join(header) if header else _("empty")}
        )
    position = {name: names.index(name) for name in HEADER}
    rows = []
    line = reader.line_num
    for values in reader:
        first_line, line = line + 1, reader.line_num
        cells = [cell.strip() for cell in values]
        if not any(cells):
            continue
        problem = ""
        if len(cells) != len(HEADER):
            problem = _("It has %(found)s fields instead of %(expected)s.") % {
                "found": len(cells),
                "expected": len(HEADER),
            }
            cells = (cells + [""] * len(HEADER))[: len(HEADER)]
        rows.append(
            AssignmentRow(
                first_line,
                cells[position["customer_no"]],
                cells[position["employee_no"]],
                cells[position["start_date"]],
                problem,
            )
        )
    return rows


def _parse_date(text: str) -> datetime.date | None:
    try:
        if _COMPACT_DATE.fullmatch(text):
            return datetime.datetime.strptime(text, "%Y%m%d").date()
        if _ISO_DATE.fullmatch(text):
            return datetime.date.fromisoformat(text)
    except ValueError:
        return None
    return None


# --- what the rows name -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Named:
    customers: dict[str, tuple[int, int | None]]  # customer number -> id, the record merged into
    employees: dict[str, int]  # employee number -> user id
    client_managers: set[int]  # active client managers among them


def _batches(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(values))
    for i in range(0, len(ordered), LOOKUP_BATCH):
        yield ordered[i : i + LOOKUP_BATCH]


def _look_up(rows: Sequence[AssignmentRow]) -> _Named:
    customers: dict[str, tuple[int, int | None]] = {}
    for numbers in _batches(r.customer_no for r in rows if r.customer_no):
        for number, pk, merged_into in Customer.objects.filter(customer_no__in=numbers).values_list(
            "customer_no", "pk", "merged_into_id"
        ):
            customers[number] = (pk, merged_into)
    employees: dict[str, int] = {}
    client_managers: set[int] = set()
    for numbers in _batches(r.employee_no for r in rows if r.employee_no):
        employees.update(User.objects.filter(employee_no__in=numbers).values_list("employee_no", "pk"))
        client_managers.update(
            User.objects.filter(
                employee_no__in=numbers, is_active=True, groups__name=Role.CLIENT_MANAGER
            ).values_list("pk", flat=True)
        )
    return _Named(customers, employees, client_managers)


# --- one customer's history ---------------------------------------------------------------------


@dataclass
class _Period:
    """A primary assignment: one already stored (`pk`) or one this run adds."""

    manager_id: int
    employee_no: str
    start: datetime.date
    end: datetime.date | None
    pk: int | None = None
    ended_here: bool = False  # a stored one this run ends


@dataclass(frozen=True)
class _Row:
    source: AssignmentRow
    customer_id: int
    merged_into: int | None
    manager_id: int
    start: datetime.date

    def rejected(self, message: str) -> RejectedRow:
        return _rejected(self.source, message)


def _rejected(row: AssignmentRow, message: str) -> RejectedRow:
    return RejectedRow(row.line, row.customer_no, row.employee_no, row.start_date, message)


def _of_record(history: list[_Period], day: datetime.date) -> _Period | None:
    """The assignment that counts on `day`: of those running that day, the one that
    started last (a transfer starts the day its predecessor ends)."""
    running = [
        (p.start, i, p) for i, p in enumerate(history) if p.start <= day and (p.end is None or p.end >= day)
    ]
    return max(running, key=lambda t: (t[0], t[1]))[2] if running else None


def _already_in_history(history: list[_Period], row: _Row) -> bool:
    if any(p.manager_id == row.manager_id and p.start == row.start for p in history):
        return True
    current = _of_record(history, row.start)
    return current is not None and current.manager_id == row.manager_id


def _too_early(history: list[_Period], day: datetime.date) -> str:
    """Why an assignment from `day` would rewrite the history ("" when it does not)."""
    if not history:
        return ""
    last = max(enumerate(history), key=lambda t: (t[1].start, t[0]))[1]
    if day <= last.start:
        return _(
            "It starts on or before the customer's current assignment (%(employee_no)s from %(start)s)."
        ) % {"employee_no": last.employee_no, "start": last.start.isoformat()}
    ended = max((p.end for p in history if p.end is not None), default=None)
    if ended is not None and day <= ended:
        return _("It starts on or before the end of the customer's last assignment (%(end)s).") % {
            "end": ended.isoformat()
        }
    return ""


@dataclass
class _Plan:
    """One customer's outcome: the rows applied as new assignments (with the manager
    each replaced), the rows already in the history, the rejected rows, and the
    history as it becomes."""

    history: list[_Period]
    assigned: list[tuple[_Row, str | None]] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


def _plan(history: list[_Period], rows: list[_Row], *, client_managers: set[int]) -> _Plan:
    plan = _Plan(history)
    for row in sorted(rows, key=lambda r: (r.start, r.source.line)):
        if _already_in_history(history, row):
            plan.unchanged += 1
            continue
        if row.merged_into is not None:
            try:
                ensure_not_merged(Customer(pk=row.customer_id, merged_into_id=row.merged_into))
            except ValidationError as exc:
                plan.rejected.append(row.rejected(" ".join(exc.messages)))
            continue
        if row.manager_id not in client_managers:
            plan.rejected.append(
                row.rejected(
                    _("%(employee_no)s is not an active client manager.")
                    % {"employee_no": row.source.employee_no}
                )
            )
            continue
        problem = _too_early(history, row.start)
        if problem:
            plan.rejected.append(row.rejected(problem))
            continue
        running = next((p for p in history if p.end is None), None)
        if running is not None:
            running.end = row.start - datetime.timedelta(days=1)
            running.ended_here = running.pk is not None
        history.append(_Period(row.manager_id, row.source.employee_no, row.start, None))
        plan.assigned.append((row, running.employee_no if running else None))
    return plan


# --- the run ------------------------------------------------------------------------------------


def _histories(customer_ids: list[int]) -> dict[int, list[_Period]]:
    histories: dict[int, list[_Period]] = defaultdict(list)
    stored = (
        CustomerAssignment.objects.filter(customer_id__in=customer_ids, role=AssignmentRole.PRIMARY)
        .order_by("customer_id", "start_date", "pk")
        .values_list("customer_id", "pk", "manager_id", "manager__employee_no", "start_date", "end_date")
    )
    for customer_id, pk, manager_id, employee_no, start, end in stored:
        histories[customer_id].append(_Period(manager_id, employee_no, start, end, pk=pk))
    return histories


def _write(plans: dict[int, _Plan], *, customers: dict[int, Customer], by: User | None) -> None:
    """Store the chunk's plans (`customers`: locked): the ends first, so that a
    customer never has two running primary assignments (the database refuses it),
    then the new rows, the manager of record, one audit event per new assignment."""
    changed = {customer_id: plan for customer_id, plan in plans.items() if plan.assigned}
    if not changed:
        return
    # One UPDATE per end date and per new manager: a file's rows share few dates.
    ends: dict[datetime.date | None, list[int | None]] = defaultdict(list)
    for plan in changed.values():
        for period in plan.history:
            if period.ended_here:
                ends[period.end].append(period.pk)
    for end, pks in ends.items():
        CustomerAssignment.objects.filter(pk__in=pks).update(end_date=end)
    CustomerAssignment.objects.bulk_create(
        [
            CustomerAssignment(
                customer_id=customer_id,
                manager_id=p.manager_id,
                role=AssignmentRole.PRIMARY,
                start_date=p.start,
                end_date=p.end,
                reason=REASON,
                created_by=by,
            )
            for customer_id, plan in changed.items()
            for p in plan.history
            if p.pk is None
        ],
        batch_size=LOOKUP_BATCH,
    )
    moved: dict[int, list[int]] = defaultdict(list)
    for customer_id, plan in changed.items():
        manager_id = next(p.manager_id for p in plan.history if p.end is None)
        if customers[customer_id].primary_manager_id != manager_id:
            moved[manager_id].append(customer_id)
    for manager_id, customer_ids in moved.items():
        Customer.objects.filter(pk__in=customer_ids).update(primary_manager_id=manager_id)
    for customer_id, plan in changed.items():
        for row, previous in plan.assigned:
            audit(
                Action.ASSIGNMENT_CHANGED,
                actor=by,
                actor_username="" if by else SYSTEM_ACTOR,
                target=customers[customer_id],
                details={
                    "from": previous,
                    "to": row.source.employee_no,
                    "start_date": row.start.isoformat(),
                    "reason": REASON,
                },
            )


def _run_chunk(
    rows_by_customer: dict[int, list[_Row]],
    *,
    named: _Named,
    by: User | None,
    dry_run: bool,
    report: ImportReport,
) -> None:
    with transaction.atomic():
        ids = sorted(rows_by_customer)
        customers = {}
        if not dry_run:
            # Locked before their history is read, in id order like every assignment write.
            customers = {
                c.pk: c
                for c in Customer.objects.select_for_update()
                .filter(pk__in=ids)
                .order_by("pk")
                .only("pk", "customer_no", "name", "primary_manager_id")
            }
        histories = _histories(ids)
        plans = {
            customer_id: _plan(
                histories[customer_id], rows_by_customer[customer_id], client_managers=named.client_managers
            )
            for customer_id in ids
        }
        if not dry_run:
            _write(plans, customers=customers, by=by)
    for plan in plans.values():
        report.assigned += len(plan.assigned)
        report.unchanged += plan.unchanged
        report.rejected.extend(plan.rejected)


def _checked(row: AssignmentRow, named: _Named, today: datetime.date) -> _Row | RejectedRow:
    """The row with what it names, or why it is bad on its own."""
    if row.problem:
        return _rejected(row, row.problem)
    if not row.customer_no:
        return _rejected(row, _("No customer number."))
    if not row.employee_no:
        return _rejected(row, _("No employee number."))
    start = _parse_date(row.start_date)
    if start is None:
        return _rejected(
            row, _("%(value)r is not a date (YYYYMMDD or YYYY-MM-DD).") % {"value": row.start_date}
        )
    if start > today:
        return _rejected(row, _("The start date %(date)s is in the future.") % {"date": start.isoformat()})
    customer = named.customers.get(row.customer_no)
    if customer is None:
        return _rejected(row, _("No customer %(no)s.") % {"no": row.customer_no})
    manager_id = named.employees.get(row.employee_no)
    if manager_id is None:
        return _rejected(row, _("No employee %(no)s.") % {"no": row.employee_no})
    return _Row(row, customer[0], customer[1], manager_id, start)


def import_assignments(
    rows: Sequence[AssignmentRow], *, by: User | None = None, dry_run: bool = False
) -> ImportReport:
    """Apply the rows of an assignment file (`read_assignments_csv`) and say what each
    did; `dry_run` checks and reports the same without writing anything."""
    report = ImportReport(rows=len(rows), dry_run=dry_run)
    named = _look_up(rows)
    today = timezone.localdate()
    by_customer: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        checked = _checked(row, named, today)
        if isinstance(checked, RejectedRow):
            report.rejected.append(checked)
        else:
            by_customer[checked.customer_id].append(checked)
    ids = sorted(by_customer)
    for i in range(0, len(ids), CHUNK_CUSTOMERS):
        chunk = {customer_id: by_customer[customer_id] for customer_id in ids[i : i + CHUNK_CUSTOMERS]}
        _run_chunk(chunk, named=named, by=by, dry_run=dry_run, report=report)
    report.rejected.sort(key=lambda r: r.line)
    if not dry_run:
        audit(
            Action.ASSIGNMENT_CHANGED,
            actor=by,
            actor_username="" if by else SYSTEM_ACTOR,
            target_repr="assignment history import",
            details={
                "import": "assignments",
                "rows": report.rows,
                "assigned": report.assigned,
                "unchanged": report.unchanged,
                "rejected": len(report.rejected),
            },
        )
    return report
