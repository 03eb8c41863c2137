"""Saving a segment: its rules, cleaned, under its owner."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit
from accounts.models import User
from accounts.scope import data_scope

from ..choices import MarketingAction
from ..models import Segment
from ..segments import clean_rules
from ._common import require


@transaction.atomic
def segment_save(
    *, user: User, name: str, rules: dict[str, Any], description: str = "", segment: Segment | None = None
) -> Segment:
    require(user, "marketing.change_segment" if segment else "marketing.add_segment")
    if segment is not None:
        segment = Segment.objects.select_for_update().get(pk=segment.pk)
        if segment.owner_id != user.pk and not data_scope(user).sees_all:
            raise PermissionDenied(_("Only the owner or head office may change this segment."))
    else:
        segment = Segment(owner=user)
    segment.name = name.strip()
    segment.description = description.strip()
    segment.rules = clean_rules(rules)
    segment.updated_at = timezone.now()
    segment.full_clean()
    segment.save()
    audit(MarketingAction.SEGMENT_SAVED, actor=user, target=segment, details={"rules": segment.rules})
    return segment
