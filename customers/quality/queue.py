"""Reads of the data-quality queue: the open issues counted by branch and kind, and
the queue itself, both in the user's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from accounts.models import Branch

from ..models import DataQualityIssue
from .states import OPEN


def quality_counts(*, user) -> list[dict[str, Any]]:
    """Open issues by branch and kind in the user's scope (one aggregate query):
    `[{"branch_id", "branch__code", "branch__name", "kind", "count"}, ...]`."""
    return list(
        DataQualityIssue.objects.visible_to(user)
        .filter(status=OPEN)
        .values("branch_id", "branch__code", "branch__name", "kind")
        .annotate(count=Count("id"))
        .order_by("branch__code", "kind")
    )


def quality_queue(
    *,
    user,
    kind: str = "",
    branch: str = "",
    status: str = OPEN,
    issues: QuerySet[DataQualityIssue] | None = None,
) -> QuerySet[DataQualityIssue]:
    """The queue in the user's scope (`issues`, already narrowed to `user`, or
    `DataQualityIssue.objects.visible_to(user)`: issues whose customers the user may
    all see, both of a pair), newest first; `branch` (a code) takes its subtree, ""
    anything; `status` "" any status."""
    if issues is None:
        issues = DataQualityIssue.objects.visible_to(user)
    if kind:
        issues = issues.filter(kind=kind)
    if status:
        issues = issues.filter(status=status)
    if branch:
        root = Branch.objects.filter(code=branch).first()
        if root is None:
            return issues.none()
        issues = issues.filter(branch__path__startswith=root.path)
    # Newest first: ids follow detection (each scan inserts after the previous one),
    # and "-id" walks the primary key backwards instead of sorting the whole queue.
    return issues.select_related("customer", "other_customer", "branch", "resolved_by").order_by("-id")
