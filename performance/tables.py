"""The rows of the figures pages as they are shown, on screen and in their Excel
downloads alike: labels, never codes (a branch by its code and name, a manager by
name and employee number, a branch's pool as its unassigned customers)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from accounts.models import Branch

from .models import ManagerResult
from .selectors import FIGURES


def branch_label(branch: Branch) -> str:
    return f"{branch.code} {branch.name}"


def manager_label(result: ManagerResult) -> str:
    """ "王经理 (E1101)", or the pool of a branch: "Unassigned customers of 11101 中关村网点"."""
    if result.manager is None:
        return _("Unassigned customers of %(branch)s") % {"branch": branch_label(result.branch)}
    return f"{result.manager.display_name} ({result.manager.employee_no})"


@dataclass(frozen=True)
class BoardRow:
    label: str
    employee_no: str  # "" on a pool's row
    branch: str
    figures: dict[str, Decimal]

    @property
    def is_pool(self) -> bool:
        return not self.employee_no

    @property
    def values(self) -> list[Decimal]:
        """The figures in the order of the columns (`FIGURES`)."""
        return [self.figures[name] for name in FIGURES]


def board_row(result: ManagerResult) -> BoardRow:
    return BoardRow(
        label=manager_label(result),
        employee_no=result.manager.employee_no if result.manager is not None else "",
        branch=branch_label(result.branch),
        figures={name: getattr(result, name) for name in FIGURES},
    )


def in_order(figures: dict[str, Decimal]) -> list[Decimal]:
    return [figures[name] for name in FIGURES]


def sum_figures(rows: Iterable[dict[str, Decimal]]) -> dict[str, Decimal]:
    totals = dict.fromkeys(FIGURES, Decimal("0"))
    for figures in rows:
        for name in FIGURES:
            totals[name] += figures[name]
    return totals
