"""The figures pages' charts (data for static/js/performance_charts.js, from a
json_script block) and their Excel downloads: the same rows as the page, written
with openpyxl's write-only workbook, text cells neutralised against spreadsheet
formulas, amounts with thousands separators."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from customers.exports import MONEY_FORMAT, neutralise

from .models import ManagerResult, ResultVersion
from .selectors import FIGURES, CustomerFigures, TrendPoint
from .tables import BoardRow, branch_label, manager_label, sum_figures

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def figure_labels() -> dict[str, str]:
    return {
        "deposit_avg": _("Deposits, daily average"),
        "loan_avg": _("Loans, daily average"),
        "aum_avg": _("AUM, daily average"),
        "liability": _("Liability business"),
        "asset": _("Asset business"),
        "intermediary": _("Intermediary business"),
        "total": _("Total contribution"),
    }


# --- charts --------------------------------------------------------------------------------


def trend_chart(points: Sequence[TrendPoint]) -> dict[str, Any]:
    """A manager's total contribution over the last periods (null: no figures)."""
    return {
        "kind": "trend",
        "label": _("Total contribution (CNY)"),
        "labels": [point.period.code for point in points],
        "values": [float(point.total) if point.total is not None else None for point in points],
    }


def top_chart(rows: Sequence[BoardRow]) -> dict[str, Any]:
    """The largest total contributions of a board."""
    return {
        "kind": "top",
        "label": _("Total contribution (CNY)"),
        "labels": [row.label for row in rows],
        "values": [float(row.figures["total"]) for row in rows],
    }


# --- workbooks -------------------------------------------------------------------------------


def _cells(sheet, values: Sequence[Any], money_from: int) -> list[Any]:
    cells: list[Any] = []
    for position, value in enumerate(values):
        value = neutralise(value)
        if position >= money_from and value is not None:
            cell = WriteOnlyCell(sheet, value)
            cell.number_format = MONEY_FORMAT
            value = cell
        cells.append(value)
    return cells


def _heading(sheet, version: ResultVersion) -> None:
    """The period, the version and its status, and the counted days."""
    through = version.counted_through.isoformat() if version.counted_through else "—"
    sheet.append(
        [
            neutralise(
                _("%(period)s, version %(version)s (%(status)s): %(days)s counted days, through %(through)s")
                % {
                    "period": version.period.code,
                    "version": version.number,
                    "status": version.get_status_display(),
                    "days": version.counted_days,
                    "through": through,
                }
            )
        ]
    )
    sheet.append([])


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def board_workbook(version: ResultVersion, rows: Sequence[BoardRow]) -> bytes:
    """The team board: one row per manager and branch pool, then the totals."""
    labels = figure_labels()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Figures")[:31])
    _heading(sheet, version)
    scored = any(row.score is not None for row in rows)
    heads = [_("Manager"), _("Employee no."), _("Branch"), *labels.values()]
    sheet.append([neutralise(h) for h in (*heads, *((_("Score"), _("Rank"), _("Grade")) if scored else ()))])
    for row in rows:
        values = [row.label, row.employee_no, row.branch, *(row.figures[name] for name in FIGURES)]
        cells = _cells(sheet, values, money_from=3)
        if scored:
            score = row.score
            cells += (
                [score.score, f"{score.rank}/{score.peers}", neutralise(score.grade)]
                if score
                else ["", "", ""]
            )
        sheet.append(cells)
    totals = sum_figures(row.figures for row in rows)
    sheet.append(_cells(sheet, [_("Total"), "", "", *(totals[name] for name in FIGURES)], money_from=3))
    return _save(workbook)


def manager_workbook(
    version: ResultVersion, result: ManagerResult, customers: Sequence[CustomerFigures]
) -> bytes:
    """One manager's customers, largest contribution first, then the manager's
    figures (rounded once over the unrounded customer amounts)."""
    labels = figure_labels()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Customers")[:31])
    _heading(sheet, version)
    sheet.append([neutralise(f"{manager_label(result)} · {branch_label(result.branch)}")])
    sheet.append([])
    sheet.append([neutralise(h) for h in (_("Customer no."), _("Name"), *labels.values())])
    for customer in customers:
        values = [customer.customer.customer_no, customer.name, *(customer.figures[name] for name in FIGURES)]
        sheet.append(_cells(sheet, values, money_from=2))
    manager = [_("Manager's figures"), "", *(getattr(result, name) for name in FIGURES)]
    sheet.append(_cells(sheet, manager, money_from=2))
    return _save(workbook)
