"""Export of a customer search to Excel (the privacy specification, "Export").

An export needs its own permission, is capped in rows (`EXPORT_ROW_CAP`), is masked
unless the user may export in full, neutralises spreadsheet formulas and is audited
with the filter and the row count once the file is complete.

The job keeps the search, never the rows: the file is built by re-running the scoped
search as the job's user, at once for small results (`EXPORT_SYNC_ROWS`) and in a
Celery task otherwise. The file stays in the database until its link expires
(`EXPORT_LINK_HOURS`); `export_expire()` then clears it.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterable
from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from accounts.audit import Action, audit

from .choices import ExportStatus
from .crypto import cipher
from .masking import mask_account_no, mask_id_number, mask_mobile
from .models import Customer, ExportJob
from .search import SearchFilters, classify_query, customer_search
from .tasks import export_build_task

logger = logging.getLogger(__name__)

EXPORT_PERMISSION = "customers.export_customer"
EXPORT_FULL_PERMISSION = "customers.export_customer_full"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_SIZE = 2000
# Authenticated data of the encrypted search text (a ciphertext made for another
# field does not decrypt here).
QUERY_CONTEXT = "export.query"
# A spreadsheet reads a cell starting with one of these as a formula (tab and
# carriage return too, as some programs strip them first).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"
ACTIVE = (ExportStatus.PENDING, ExportStatus.RUNNING)


class ExportRefused(Exception):
    """The file may not be built (any more): the message is for the user and holds
    no personal data."""


# --- the stored search -----------------------------------------------------------


def _filters_to_json(filters: SearchFilters) -> dict[str, Any]:
    """The filters that were set, JSON-ready (decimals as text)."""
    return {
        name: str(value) if isinstance(value, Decimal) else value
        for name, value in asdict(filters).items()
        if value not in (None, "")
    }


def _filters_from_json(data: dict[str, Any]) -> SearchFilters:
    known = SearchFilters.__dataclass_fields__
    values: dict[str, Any] = {}
    for name, value in (data or {}).items():
        if name not in known:
            continue
        if name in ("aum_min", "aum_max"):
            try:
                value = Decimal(str(value))
            except InvalidOperation:
                continue
        elif name in ("age_min", "age_max"):
            value = int(value)
        values[name] = value
    return SearchFilters(**values)


def masked_search_text(q: str) -> str:
    """The search text as the audit trail and the pages may show it: an ID number,
    mobile or account number typed into the search is masked like on screen; a
    customer number (internal, C1) and a name stay as typed."""
    q = (q or "").strip()
    if not q:
        return ""
    kind = classify_query(q)
    if kind == "mobile":
        return mask_mobile(q)
    if kind == "id_number":
        return mask_id_number(q)
    if kind == "id_suffix":
        # Six trailing characters are more than the display mask shows (four).
        return "**" + q[-4:]
    if kind == "number":
        if Customer.objects.filter(customer_no=q).exists():
            return q
        return mask_account_no(q) if len(q) > 10 else mask_id_number(q)
    return q


def _stored_query(*, q: str, filters: SearchFilters, sort: str, ip: str | None) -> dict[str, Any]:
    """What the job keeps to re-run the search. The text itself may be an ID number
    or a mobile, so it is stored encrypted like those; the masked form is for display
    and the audit trail."""
    q = (q or "").strip()
    return {
        "q": masked_search_text(q),
        "q_enc": cipher().encrypt(q, context=QUERY_CONTEXT) if q else "",
        "filters": _filters_to_json(filters),
        "sort": sort,
        # How the file is built and audited when a worker builds it later.
        "language": translation.get_language() or settings.LANGUAGE_CODE,
        "ip": ip,
    }


def audit_filter(query: dict[str, Any]) -> dict[str, Any]:
    """The filter as audited: masked text, the filters set and the sort."""
    return {"q": query.get("q", ""), "filters": query.get("filters", {}), "sort": query.get("sort", "")}


def _search_for(job: ExportJob):
    query = job.query or {}
    q = cipher().decrypt(query["q_enc"], context=QUERY_CONTEXT) if query.get("q_enc") else ""
    return customer_search(
        user=job.user,
        q=q,
        filters=_filters_from_json(query.get("filters", {})),
        sort=query.get("sort", "aum"),
    )


# --- services --------------------------------------------------------------------


def export_start(*, user, q: str, filters: SearchFilters, sort: str, ip: str | None = None) -> ExportJob:
    """Start an export of the user's search: refused without the export permission
    (PermissionDenied), for an empty result or one over the row cap (ValidationError).
    A small result is built at once; a larger one is queued after the job row is
    committed."""
    if not user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    cap = settings.EXPORT_ROW_CAP
    customers = customer_search(user=user, q=q, filters=filters, sort=sort)
    # Count no further than one past the cap: a whole bank is never counted.
    rows = customers.order_by()[: cap + 1].count()
    if rows > cap:
        raise ValidationError(
            _(
                "This search matches more than %(cap)s customers, the most one export may hold. "
                "Narrow the search (for example by branch, tier or AUM) and export again."
            )
            % {"cap": f"{cap:,}"},
            code="row_cap",
        )
    if rows == 0:
        raise ValidationError(
            _("No customer in your scope matches this search: there is nothing to export."), code="empty"
        )
    queued = rows > settings.EXPORT_SYNC_ROWS
    with transaction.atomic():
        job = ExportJob.objects.create(
            user=user,
            query=_stored_query(q=q, filters=filters, sort=sort, ip=ip),
            masked=not user.has_perm(EXPORT_FULL_PERMISSION),
            total=rows,
        )
        if queued:
            job_id = job.pk
            transaction.on_commit(lambda: _send_build(job_id))
    if not queued:
        export_build(job.pk)
        job.refresh_from_db()
    return job


def _send_build(job_id: int) -> None:
    """Queue the build (after commit). A broker that cannot take the task fails the
    job, so its page stops waiting, instead of failing the request after the fact."""
    try:
        export_build_task.delay(job_id)
    except Exception as exc:
        logger.error("export %s could not be queued: %s", job_id, type(exc).__name__)
        ExportJob.objects.filter(pk=job_id, status=ExportStatus.PENDING).update(
            status=ExportStatus.FAILED, error=_("The export could not be queued. Try again later.")
        )


def export_build(job_id: int) -> str:
    """Build the file of a waiting job and return the job's status. Harmless to run
    twice: a job that is done, failed or expired is left alone, and only one run can
    complete a job (and audit it)."""
    # Waiting, or running when a worker died mid-build and the task came back
    # (acks_late); anything else has nothing left to do.
    claimed = ExportJob.objects.filter(pk=job_id, status__in=ACTIVE).update(
        status=ExportStatus.RUNNING, progress=0
    )
    if not claimed:
        return ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or ""
    job = ExportJob.objects.select_related("user").defer("content").get(pk=job_id)
    language = (job.query or {}).get("language") or settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            data, rows, masked = _build_workbook(job)
        except ExportRefused as exc:
            return _fail(job, str(exc))
        except Exception as exc:
            # The message of an unexpected error may quote a value; keep it out of the
            # job and the log, which name only the kind of error.
            logger.error("export %s failed: %s", job_id, type(exc).__name__)
            return _fail(job, _("The export failed (%(kind)s). Try again.") % {"kind": type(exc).__name__})
        return _complete(job, data=data, rows=rows, masked=masked)


def _fail(job: ExportJob, error: str) -> str:
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.FAILED, error=error[:200], content=None
    )
    return ExportStatus.FAILED


def _complete(job: ExportJob, *, data: bytes, rows: int, masked: bool) -> str:
    now = timezone.now()
    filename = f"customers-{timezone.localtime(now):%Y%m%d-%H%M}.xlsx"
    with transaction.atomic():
        done = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.DONE,
            content=data,
            filename=filename,
            row_count=rows,
            total=rows,
            progress=100,
            masked=masked,
            expires_at=now + timedelta(hours=settings.EXPORT_LINK_HOURS),
            error="",
        )
        if not done:  # another run completed it first
            return ExportJob.objects.values_list("status", flat=True).get(pk=job.pk)
        audit(
            Action.EXPORT,
            actor=job.user,
            ip=(job.query or {}).get("ip"),
            target_type="customers.exportjob",
            target_id=job.pk,
            target_repr=filename,
            details={"filter": audit_filter(job.query), "rows": rows, "masked": masked, "export_id": job.pk},
        )
    return ExportStatus.DONE


def export_expire(*, now=None) -> int:
    """Clear the files whose link has expired (one statement) and return how many.
    Jobs still waiting after a link's lifetime (their task was lost) are failed, so
    their pages stop polling."""
    now = now or timezone.now()
    lifetime = timedelta(hours=settings.EXPORT_LINK_HOURS)
    ExportJob.objects.filter(status__in=ACTIVE, created_at__lte=now - lifetime).update(
        status=ExportStatus.FAILED, error=_("The export did not finish in time. Try again.")
    )
    return ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=now).update(
        status=ExportStatus.EXPIRED, content=None
    )


# --- the workbook ------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would read as a formula gets a leading apostrophe;
    characters a workbook cannot hold are dropped."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _columns() -> list[tuple[str, int]]:
    """(header, width) of each column, in the active language."""
    return [
        (_("Customer no."), 16),
        (_("Name"), 14),
        (_("ID type"), 14),
        (_("ID number"), 22),
        (_("Mobile"), 14),
        (_("Branch code"), 10),
        (_("Branch"), 16),
        (_("Tier"), 10),
        (_("Manager of record (employee no.)"), 14),
        (_("Manager of record"), 14),
        (_("AUM (CNY)"), 16),
        (_("Month-average AUM (CNY)"), 16),
        (_("Liabilities (CNY)"), 16),
        (_("Status"), 10),
        (_("Risk assessment"), 14),
        (_("Risk assessment expiry"), 12),
    ]


MONEY_COLUMNS = (10, 11, 12)  # zero-based positions of AUM, month-average AUM, liabilities


def _row(customer: Customer, *, masked: bool) -> list[Any]:
    manager = customer.primary_manager
    id_number, mobile = customer.id_number, customer.mobile
    return [
        customer.customer_no,
        customer.name,
        customer.get_id_type_display(),
        mask_id_number(id_number) if masked else id_number,
        mask_mobile(mobile) if masked else mobile,
        customer.home_branch.code,
        customer.home_branch.name,
        customer.tier,
        manager.employee_no if manager else "",
        manager.display_name if manager else "",
        customer.aum,
        customer.month_avg_aum,
        customer.liabilities,
        customer.get_status_display(),
        customer.get_risk_level_display() if customer.risk_level else "",
        customer.risk_expiry,
    ]


def _cells(ws, values: Iterable[Any]) -> list[Any]:
    cells: list[Any] = []
    for position, value in enumerate(values):
        value = neutralise(value)
        if position in MONEY_COLUMNS and value is not None:
            cell = WriteOnlyCell(ws, value)
            cell.number_format = MONEY_FORMAT
            value = cell
        cells.append(value)
    return cells


def _build_workbook(job: ExportJob) -> tuple[bytes, int, bool]:
    user = job.user
    # Rights are read again: a user who lost them while the job waited gets nothing,
    # and a file is never less masked than when it was asked for.
    if not (user.is_active and user.has_perm(EXPORT_PERMISSION)):
        raise ExportRefused(_("You may no longer export customers."))
    masked = job.masked or not user.has_perm(EXPORT_FULL_PERMISSION)
    cap = settings.EXPORT_ROW_CAP
    total = max(job.total, 1)

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Customers")[:31])
    sheet.freeze_panes = "A2"
    columns = _columns()
    for number, (_header, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.append(_cells(sheet, [header for header, _width in columns]))

    buffer = io.BytesIO()
    try:
        rows = _write_rows(sheet, job, masked=masked, cap=cap, total=total)
        workbook.save(buffer)
    except BaseException:
        _discard(sheet)
        raise
    return buffer.getvalue(), rows, masked


def _discard(sheet) -> None:
    """openpyxl spools a write-only sheet to a temporary file and removes it on save;
    a build that fails must not leave customer data on the worker's disk."""
    writer = sheet._writer
    if writer is None:
        return
    with contextlib.suppress(Exception):
        sheet.close()
    with contextlib.suppress(OSError, ValueError):
        writer.cleanup()


def _write_rows(sheet, job: ExportJob, *, masked: bool, cap: int, total: int) -> int:
    rows = 0
    # One query streamed in chunks; the search can have grown since the job was
    # started, so it is read one row past the cap to notice.
    for customer in _search_for(job)[: cap + 1].iterator(chunk_size=CHUNK_SIZE):
        rows += 1
        if rows > cap:
            raise ExportRefused(
                _("The search now matches more than %(cap)s customers. Narrow it and export again.")
                % {"cap": f"{cap:,}"}
            )
        sheet.append(_cells(sheet, _row(customer, masked=masked)))
        if rows % CHUNK_SIZE == 0:
            # Its own short statement (autocommit in a worker): the job page sees it.
            ExportJob.objects.filter(pk=job.pk).update(progress=min(99, rows * 100 // total), row_count=rows)
    if rows == 0:
        raise ExportRefused(_("No customer in your scope matches this search any more."))
    return rows
