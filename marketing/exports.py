"""Dashboard figures as chart data (rendered by static/js/marketing_charts.js from a
json_script block) and as Excel workbooks (aggregates only: no personal data;
text cells neutralised against spreadsheet formulas)."""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook

from customers.exports import neutralise

from .selectors import campaign_breakdown, campaign_funnel

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def funnel_chart(funnel: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "funnel",
        "labels": [_("Targets"), _("Contacted"), _("Interested"), _("Converted")],
        "values": [funnel["targets"], funnel["contacted"], funnel["interested"], funnel["converted"]],
    }


def task_chart(progress) -> dict[str, Any]:
    rows = [p for p in progress if p.depth <= 2][:30]
    return {
        "kind": "progress",
        "labels": [
            str(p.allocation.branch.name if p.allocation.branch_id else p.allocation.manager.display_name)
            for p in rows
        ],
        "completion": [p.completion_pct for p in rows],
        "elapsed": rows[0].elapsed_pct if rows else 0,
        "completion_label": _("Completion (%)"),
        "elapsed_label": _("Time elapsed (%)"),
    }


def _sheet(workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([neutralise(h) for h in header])
    for row in rows:
        sheet.append([neutralise(v) for v in row])


def campaign_workbook(campaign, *, user) -> bytes:
    funnel = campaign_funnel(campaign, user=user)
    workbook = Workbook(write_only=True)
    _sheet(
        workbook,
        _("Funnel"),
        [
            _("Campaign"),
            _("Targets"),
            _("Excluded"),
            _("Contacted"),
            _("Interested"),
            _("Converted"),
            _("Amount (CNY)"),
            _("Cost (CNY)"),
            _("Cost per conversion (CNY)"),
        ],
        [
            [
                campaign.name,
                funnel["targets"],
                funnel["excluded"],
                funnel["contacted"],
                funnel["interested"],
                funnel["converted"],
                funnel["amount"],
                funnel["cost"],
                funnel["cost_per_conversion"],
            ]
        ],
    )
    header = [
        _("Name"),
        _("Targets"),
        _("Contacted"),
        _("Interested"),
        _("Converted"),
        _("Conversion (%)"),
        _("Amount (CNY)"),
    ]
    for by, title in (("branch", _("By branch")), ("manager", _("By manager"))):
        rows = campaign_breakdown(campaign, user=user, by=by)
        _sheet(
            workbook,
            title,
            header,
            [
                [
                    r["label"],
                    r["targets"],
                    r["contacted"],
                    r["interested"],
                    r["converted"],
                    r["conversion_rate"],
                    r["amount"],
                ]
                for r in rows
            ],
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def task_workbook(task, progress) -> bytes:
    workbook = Workbook(write_only=True)
    _sheet(
        workbook,
        _("Progress"),
        [
            _("Level"),
            _("Receiver"),
            pgettext("goal", "Target"),
            _("Actual"),
            _("Completion (%)"),
            _("Time elapsed (%)"),
            _("Status"),
        ],
        [
            [
                p.depth,
                str(p.allocation.branch if p.allocation.branch_id else p.allocation.manager),
                p.allocation.target,
                p.actual,
                p.completion_pct,
                p.elapsed_pct,
                str(p.allocation.get_status_display()),
            ]
            for p in progress
        ],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
