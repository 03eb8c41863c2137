"""Choices of the assessment schemes (考核方案) and their results."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import BranchLevel


class SchemeRole(models.TextChoices):
    """Whom a scheme assesses: client managers, or branches of one level."""

    CLIENT_MANAGER = "client_manager", _("Client managers")
    OUTLET = "outlet", _("Outlets")
    SUB_BRANCH = "sub_branch", _("Sub-branches")
    BRANCH = "branch", _("Branches")


# The branch level a branch role assesses.
ROLE_LEVELS: dict[str, int] = {
    SchemeRole.OUTLET: BranchLevel.OUTLET,
    SchemeRole.SUB_BRANCH: BranchLevel.SUB_BRANCH,
    SchemeRole.BRANCH: BranchLevel.BRANCH,
}


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded")


# A draft or a rejected scheme may be changed; anything else is copied instead.
EDITABLE_STATUSES = frozenset({SchemeStatus.DRAFT, SchemeStatus.REJECTED})


class FormulaKind(models.TextChoices):
    """performance/formulas.py."""

    COMPLETION = "completion", _("Completion rate (floor and cap)")
    STEPS = "steps", _("Steps (thresholds and points)")
    RANK = "rank", _("Rank in the peer group")
    DEDUCTION = "deduction", _("Deduction (points per unit, up to a maximum)")
    EXPRESSION = "expression", _("Expression")


class TargetSource(models.TextChoices):
    FIXED = "fixed", _("One target for every unit")
    PER_UNIT = "per_unit", _("A target per unit")
    TASK = "task", _("The marketing task's allocation")
    NONE = "none", _("No target")


class SchemeAction(models.TextChoices):
    """Audit actions of the schemes."""

    SCHEME_CREATED = "scheme_created", _("Assessment scheme created")
    SCHEME_CHANGED = "scheme_changed", _("Assessment scheme changed")
    SCHEME_SUBMITTED = "scheme_submitted", _("Assessment scheme submitted")
    SCHEME_APPROVED = "scheme_approved", _("Assessment scheme approved")
    SCHEME_REJECTED = "scheme_rejected", _("Assessment scheme rejected")
    SCHEME_COPIED = "scheme_copied", _("Assessment scheme copied")
    TARGETS_IMPORTED = "scheme_targets_imported", _("Assessment targets imported")
    LEVEL_CHANGED = "manager_level_changed", _("Client manager's level changed")


class ManagerLevelCode(models.TextChoices):
    """Client-manager levels (客户经理等级), lowest first."""

    JUNIOR = "junior", _("Junior client manager")
    INTERMEDIATE = "intermediate", _("Intermediate client manager")
    SENIOR = "senior", _("Senior client manager")
    PRINCIPAL = "principal", _("Principal client manager")
