"""Closing an issue by hand: dismissal (the issue is acceptable) here; a duplicate
pair is closed by merging the two customers, a customer write
(`customers.merging.customer_merge`), which resolves the merged customer's open
issues ("merged")."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User

from ..merging import MERGED, customer_merge
from ..models import DataQualityIssue
from .states import DISMISSED, OPEN

__all__ = ["MERGED", "customer_merge", "quality_issue_dismiss"]


@transaction.atomic
def quality_issue_dismiss(*, issue: DataQualityIssue, by: User, reason: str) -> DataQualityIssue:
    """Close an open issue as acceptable (not a duplicate, known and accepted...).
    The caller has checked that the issue is in the user's scope."""
    if not by.has_perm("customers.change_dataqualityissue"):
        raise PermissionDenied(_("You may not dismiss data-quality issues."))
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": _("Say why the issue can be dismissed (at least 4 characters).")})
    issue = DataQualityIssue.objects.select_for_update().get(pk=issue.pk)
    if issue.status != OPEN:
        raise ValidationError(_("This issue is no longer open."))
    issue.status = DISMISSED
    issue.resolved_at = timezone.now()
    issue.resolved_by = by
    issue.resolution = reason[:200]
    issue.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=issue.customer,
        details={
            "quality_issue": issue.pk,
            "kind": issue.kind,
            "other": issue.other_customer.customer_no if issue.other_customer is not None else None,
            "dismissed": reason[:200],
        },
    )
    return issue
