"""The VIP report as an Excel workbook: three sheets (by branch, the migration
matrix, VIPs won and lost). Cells a spreadsheet would read as formulas are
neutralised like every other export's."""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook

from customers.exports import neutralise

MONEY_FORMAT = "#,##0.00"


def _append(sheet, values: list[Any]) -> None:
    sheet.append([neutralise(v) for v in values])


def build_report_workbook(data: dict[str, Any]) -> tuple[bytes, int]:
    """The workbook's bytes and how many data rows it holds."""
    by_branch, matrix, won_lost = data["by_branch"], data["matrix"], data["won_lost"]
    book = Workbook(write_only=True)
    rows = 0

    sheet = book.create_sheet(_("VIPs by branch"))
    header = [_("Branch code"), _("Branch")]
    for level in by_branch.levels:
        header += [f"{level['name']} {_('count')}", f"{level['name']} {_('AUM (CNY)')}"]
    header += [_("VIPs"), _("AUM (CNY)"), _("Registered VIPs")]
    _append(sheet, header)
    for row in by_branch.rows:
        values = [row["branch"].code, row["branch"].name]
        for cell in row["cells"]:
            values += [cell["n"], cell["aum"]]
        values += [row["n"], row["aum"], row["registered"]]
        _append(sheet, values)
        rows += 1

    sheet = book.create_sheet(_("Tier migration"))
    _append(sheet, [f"{matrix.month_from:%Y-%m} → {matrix.month_to:%Y-%m}", *matrix.labels, _("Total")])
    for label, cells, total in zip(matrix.labels, matrix.cells, matrix.row_totals, strict=True):
        _append(sheet, [label, *cells, total])
        rows += 1
    _append(sheet, [_("Total"), *matrix.col_totals, matrix.total])

    sheet = book.create_sheet(_("VIPs won and lost"))
    _append(sheet, [_("From"), str(won_lost.start), _("to"), str(won_lost.end)])
    _append(sheet, [_("Registered"), won_lost.registered, _("Liquidated"), won_lost.liquidated])
    _append(sheet, [_("Came into a tier"), won_lost.entered, _("Left every tier"), won_lost.left])
    _append(sheet, [])
    _append(
        sheet, [_("Date"), _("Customer no."), _("Name"), _("Branch"), _("Status"), _("Tier"), _("Reason")]
    )
    for change in won_lost.rows:
        _append(
            sheet,
            [
                str(change.effective_date),
                change.customer.customer_no,
                change.customer.name,
                change.customer.home_branch.name,
                change.get_to_status_display(),
                change.tier,
                change.reason or change.benefits,
            ],
        )
        rows += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), rows
