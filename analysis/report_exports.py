"""The customer analysis report as an Excel workbook: what the page shows, per
branch and per segment (one wide sheet each: every section's figures), and the
retention of last year's VIPs. Aggregates only; text cells are neutralised against
formulas like every other export's; amounts and shares are numbers with a format."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from customers.exports import neutralise

from .reports import AnalysisReport, Figures, RetentionRow, band_labels

MONEY_FORMAT = "#,##0.00"
ONE_PLACE = "0.0"


def row_cells(sheet, values: list[Any], formats: dict[int, str] | None = None) -> list[Any]:
    """A row of cells: text neutralised, numbers as numbers with their column's format
    (the credit-risk reports' workbook writes its rows with it too)."""
    cells = []
    for column, value in enumerate(values):
        cell = WriteOnlyCell(sheet, value=neutralise(value))
        if formats and column in formats and isinstance(value, (int, float, Decimal)):
            cell.number_format = formats[column]
        cells.append(cell)
    return cells


def _figures_header(first: str) -> list[str]:
    return [
        first,
        _("Customers"),
        _("12-month contribution (CNY)"),
        _("Liability business (CNY)"),
        _("Asset business (CNY)"),
        _("Intermediary business (CNY)"),
        _("Contribution per customer (CNY)"),
        *[_("Loyalty %(band)s") % {"band": band} for band in band_labels()],
        _("Average churn probability (%)"),
        _("Likely to leave (%(share)s%% or more)") % {"share": 50},
        _("Value at risk (CNY)"),
        _("Average kinds of product"),
        _("3 or more kinds of product (%)"),
        _("Average satisfaction"),
        _("Satisfaction below 60"),
    ]


_FIGURE_FORMATS = {
    2: MONEY_FORMAT,
    3: MONEY_FORMAT,
    4: MONEY_FORMAT,
    5: MONEY_FORMAT,
    6: MONEY_FORMAT,
    12: ONE_PLACE,
    14: MONEY_FORMAT,
    15: ONE_PLACE,
    16: ONE_PLACE,
    17: ONE_PLACE,
}


def _figures_values(row: Figures) -> list[Any]:
    return [
        row.label,
        row.customers,
        row.contribution,
        row.liability,
        row.asset,
        row.intermediary,
        row.contribution_per_customer,
        *row.loyalty,
        row.churn_average,
        row.likely_to_leave,
        row.value_at_risk,
        row.product_kinds_average,
        row.cross_sold_share,
        row.satisfaction_average,
        row.unsatisfied,
    ]


def _retention_values(row: RetentionRow) -> list[Any]:
    return [row.label, row.held, row.kept, row.rate]


def analysis_report_workbook(report: AnalysisReport) -> tuple[bytes, int]:
    """The workbook's bytes and how many data rows it holds."""
    book = Workbook(write_only=True)
    heading = [
        [_("Analysis date"), report.as_of.isoformat() if report.as_of else _("No analysis yet")],
        [_("Branch"), report.branch.name if report.branch else _("All my branches")],
    ]
    rows = 0
    for title, first, lines in (
        (_("By branch"), _("Branch"), report.by_branch),
        (_("By tier"), _("Tier"), report.by_segment),
    ):
        sheet = book.create_sheet(title[:31])
        for line in heading:
            sheet.append(row_cells(sheet, line))
        sheet.append(row_cells(sheet, _figures_header(first)))
        for row in [*lines, report.totals]:
            sheet.append(row_cells(sheet, _figures_values(row), _FIGURE_FORMATS))
            rows += 1

    sheet = book.create_sheet(_("Retention of VIPs")[:31])
    for line in heading:
        sheet.append(row_cells(sheet, line))
    since = report.year_before.isoformat() if report.year_before else ""
    sheet.append(row_cells(sheet, [_("Held a tier on"), since]))
    header = [_("VIPs a year before"), _("Still VIPs"), _("Retention rate (%)")]
    retention: tuple[tuple[str, list[RetentionRow]], ...] = (
        (_("Branch"), report.retention_by_branch),
        (_("Tier a year before"), report.retention_by_tier),
    )
    for heading_cell, kept_rows in retention:
        sheet.append(row_cells(sheet, []))
        sheet.append(row_cells(sheet, [heading_cell, *header]))
        for kept in [*kept_rows, report.retention_totals]:
            sheet.append(row_cells(sheet, _retention_values(kept), {3: ONE_PLACE}))
            rows += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), rows
