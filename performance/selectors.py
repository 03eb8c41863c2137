"""Reads of performance figures: the version a period shows, and its rows as far as
the user may see them (`ManagerResult.objects.visible_to`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from accounts.models import Branch
from accounts.scope import visible_branches

from .choices import PeriodStatus, VersionStatus
from .models import ManagerResult, Period, ResultVersion

FIGURES = ("deposit_avg", "loan_avg", "aum_avg", "liability", "asset", "intermediary", "total")


def shown_version(period: Period, number: int | None = None) -> ResultVersion | None:
    """The version a period shows: the one asked for, else an open period's
    provisional figures or a closed period's latest published version."""
    versions = period.versions.all()
    if number is not None:
        return versions.filter(number=number).first()
    if period.status == PeriodStatus.OPEN:
        return versions.filter(number=0).first()
    return versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


def manager_rows(user, version: ResultVersion) -> QuerySet[ManagerResult]:
    return (
        ManagerResult.objects.visible_to(user)
        .filter(version=version)
        .select_related("manager", "branch")
        .order_by("branch__path", "manager__employee_no", "pk")
    )


@dataclass
class BranchFigures:
    branch: Branch
    figures: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(FIGURES, Decimal("0")))
    managers: int = 0


def branch_rows(user, version: ResultVersion, level: int) -> list[BranchFigures]:
    """Each branch of `level` the user may see, with the sum of the rows (managers and
    pools) of its subtree: managers plus pools give the branch exactly."""
    branches = list(visible_branches(user).filter(level=level).order_by("path"))
    by_path = {b.path: BranchFigures(b) for b in branches}
    rows = ManagerResult.objects.filter(version=version).select_related("branch")
    rows = rows.filter(branch__in=visible_branches(user))
    for row in rows:
        # the row's branch at `level`: the first level + 1 codes of its path
        codes = row.branch.path.strip("/").split("/")
        totals = by_path.get("/".join(codes[: level + 1]) + "/") if len(codes) > level else None
        if totals is None:
            continue
        for name in FIGURES:
            totals.figures[name] += getattr(row, name)
        totals.managers += row.manager_id is not None
    return list(by_path.values())
