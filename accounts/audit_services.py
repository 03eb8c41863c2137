"""The write of the audit pages: an auditor's review of a finding of the
suspicious-operation report."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .audit import Action, audit
from .audit_report import finding_exists
from .models import FindingReview, User

REVIEW_PERMISSION = "accounts.add_findingreview"


@transaction.atomic
def finding_review(
    *, rule: str, username: str, day: datetime.date, outcome: str, note: str, reviewed_by: User
) -> FindingReview:
    """Record that `reviewed_by` looked into the finding (rule, username, day): what
    came of it and why. Refuses a user without the permission, a finding the report
    does not hold and a finding already reviewed."""
    if not reviewed_by.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied
    review = FindingReview(
        rule=rule, username=username, day=day, outcome=outcome, note=note.strip(), reviewed_by=reviewed_by
    )
    review.full_clean(validate_constraints=False)
    if not finding_exists(rule=rule, username=username, day=day):
        raise ValidationError(_("The report holds no such finding."), code="no_finding")
    try:
        with transaction.atomic():
            review.save()
    except IntegrityError:
        raise ValidationError(_("This finding has been reviewed already."), code="reviewed") from None
    audit(
        Action.FINDING_REVIEWED,
        actor=reviewed_by,
        target=review,
        target_repr=f"{review.get_rule_display()} · {username} · {day:%Y-%m-%d}",
        details={
            "rule": rule,
            "username": username,
            "day": day.isoformat(),
            "outcome": outcome,
            "note": note[:200],
        },
    )
    return review
