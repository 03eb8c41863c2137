"""The credit-risk report as an Excel workbook: what the page shows, by month, by
branch and by product line (one wide sheet each: buckets and classifications), the
roll-rate matrix and the vintages (every month on book). Aggregates only; text
cells neutralised and numbers formatted as the customer analysis' workbook does."""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook

from analysis.report_exports import MONEY_FORMAT, ONE_PLACE
from analysis.report_exports import row_cells as cells

from .reports import BUCKETS, CLASSES, CreditReport, RiskRow

TWO_PLACES = "0.00"


def _risk_header(first: str) -> list[str]:
    return [
        first,
        _("Accounts"),
        _("Outstanding (CNY)"),
        *[_("%(bucket)s (CNY)") % {"bucket": b.label} for b in BUCKETS],
        _("Past-due balance (CNY)"),
        _("Overdue rate (%)"),
        _("Amount past due (CNY)"),
        *[_("%(class)s (CNY)") % {"class": c.label} for c in CLASSES],
        _("Non-performing balance (CNY)"),
        _("NPL ratio (%)"),
        *[_("%(bucket)s (accounts)") % {"bucket": b.label} for b in BUCKETS],
    ]


def _risk_values(row: RiskRow) -> list[Any]:
    return [
        row.label,
        row.accounts,
        row.outstanding,
        *row.bucket_balances,
        row.past_due_balance,
        row.overdue_rate,
        row.overdue_amount,
        *row.class_balances,
        row.non_performing_balance,
        row.npl_ratio,
        *row.bucket_accounts,
    ]


_n = len(BUCKETS)
_RISK_FORMATS: dict[int, str] = {
    **dict.fromkeys(range(2, 2 + _n + 1), MONEY_FORMAT),  # outstanding, buckets, past due
    3 + _n: TWO_PLACES,
    4 + _n: MONEY_FORMAT,
    **dict.fromkeys(range(5 + _n, 5 + _n + len(CLASSES) + 1), MONEY_FORMAT),
    6 + _n + len(CLASSES): TWO_PLACES,
}


def credit_report_workbook(report: CreditReport) -> tuple[bytes, int]:
    """The workbook's bytes and how many data rows it holds."""
    book = Workbook(write_only=True)
    heading = [
        [_("Month"), f"{report.month:%Y-%m}" if report.month else _("No figures yet")],
        [_("As of"), report.as_of.isoformat() if report.as_of else ""],
        [_("Branch"), report.branch.name if report.branch else _("All my branches")],
        [_("Product line"), report.category_label],
    ]
    rows = 0

    def sheet_with_heading(title: str):
        sheet = book.create_sheet(title[:31])
        for line in heading:
            sheet.append(cells(sheet, line))
        return sheet

    for title, first, lines, total in (
        (_("By month"), _("Month"), report.by_month, None),
        (_("By branch"), _("Branch"), report.by_branch, report.totals),
        (_("By product line"), _("Product line"), report.by_product, report.totals),
    ):
        sheet = sheet_with_heading(title)
        sheet.append(cells(sheet, _risk_header(first)))
        for row in [*lines, *([total] if total else [])]:
            sheet.append(cells(sheet, _risk_values(row), _RISK_FORMATS))
            rows += 1

    sheet = sheet_with_heading(_("Roll rates"))
    bucket_labels = [str(b.label) for b in BUCKETS]
    sheet.append(cells(sheet, [_("Accounts from the previous month end (rows) to this one (columns)")]))
    sheet.append(cells(sheet, [_("Previous month end"), *bucket_labels, _("Accounts")]))
    for roll in [*report.rolls, report.roll_total]:
        sheet.append(cells(sheet, [roll.label, *roll.to, roll.accounts]))
        rows += 1
    sheet.append(cells(sheet, []))
    sheet.append(cells(sheet, [_("Share of the row (%)")]))
    sheet.append(cells(sheet, [_("Previous month end"), *bucket_labels]))
    share_formats = dict.fromkeys(range(1, 1 + len(BUCKETS)), ONE_PLACE)
    for roll in report.rolls:
        sheet.append(cells(sheet, [roll.label, *roll.shares], share_formats))

    sheet = sheet_with_heading(_("Vintages"))
    for table in report.vintages:
        sheet.append(cells(sheet, []))
        sheet.append(cells(sheet, [table.label, _("Ever 30+ days past due (%) by months on book")]))
        sheet.append(cells(sheet, [_("Opened in"), _("Accounts"), *range(table.longest)]))
        formats = dict.fromkeys(range(2, 2 + table.longest), ONE_PLACE)
        for vintage in table.rows:
            sheet.append(cells(sheet, [vintage.label, vintage.accounts, *vintage.ever_shares], formats))
            rows += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), rows
