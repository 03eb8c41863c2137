from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.approvals import ApprovalRecord, ApprovalStatus


class BranchLevel(models.IntegerChoices):
    HEAD_OFFICE = 0, _("Head office")
    BRANCH = 1, pgettext_lazy("branch level", "Branch")
    SUB_BRANCH = 2, _("Sub-branch")
    OUTLET = 3, _("Outlet")


class BranchQuerySet(models.QuerySet):
    def subtree(self, root: "Branch") -> "BranchQuerySet":
        """The branch and everything below it: one indexed prefix scan."""
        return self.filter(path__startswith=root.path)


class Branch(models.Model):
    """A node of the org tree (机构): head office → branch (一级分行) → sub-branch
    (支行) → outlet (网点). `path` is the materialised path of codes from the root
    ("10000/11000/11100/"), so a subtree is one prefix range on an index."""

    code = models.CharField(_("branch code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=BranchLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = BranchQuerySet.as_manager()

    class Meta:
        verbose_name = _("branch (机构)")
        verbose_name_plural = _("branches")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="branch_path_prefix", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(level=BranchLevel.HEAD_OFFICE, parent__isnull=True)
                | Q(level__gt=BranchLevel.HEAD_OFFICE, parent__isnull=False),
                name="branch_root_is_head_office",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs) -> None:
        # The path is derived from the parent's; codes never change once created.
        self.path = f"{self.parent.path if self.parent else ''}{self.code}/"
        super().save(*args, **kwargs)

    def ancestor_codes(self) -> list[str]:
        return self.path.strip("/").split("/")

    def is_within(self, other: "Branch") -> bool:
        return self.path.startswith(other.path)


class UserStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    ACTIVE = "active", _("Active")
    REJECTED = "rejected", _("Rejected")
    DISABLED = "disabled", _("Disabled")


class PortalUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("status", UserStatus.ACTIVE)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser, ApprovalRecord):
    """A bank employee. `status` is the lifecycle (requested → approved → disabled);
    `is_active` mirrors it for Django's authentication and a constraint keeps the two
    in step. The request is a maker-checker approval (`ApprovalRecord`): pending,
    active (approved) and rejected are its states; a disabled account is past it."""

    APPROVAL_STATUSES = {
        ApprovalStatus.PENDING: "pending",
        ApprovalStatus.APPROVED: "active",
        ApprovalStatus.REJECTED: "rejected",
    }

    employee_no = models.CharField(_("employee number"), max_length=20, unique=True)
    display_name = models.CharField(_("display name"), max_length=60)
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=UserStatus.choices, default=UserStatus.PENDING
    )
    is_active = models.BooleanField(_("active"), default=False)
    must_change_password = models.BooleanField(_("must change password"), default=False)
    # Nobody requested an account made from the command line (the first
    # administrator, demo data): the request's proposer is optional here, a nullable
    # override of the abstract base's field.
    proposed_by = models.ForeignKey(  # type: ignore[assignment]
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    status_reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects: ClassVar[PortalUserManager] = PortalUserManager()

    REQUIRED_FIELDS = ["employee_no", "display_name", "email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("request_user", _("Can request a user account")),
            ("approve_user", _("Can approve or reject user accounts")),
            ("disable_user", _("Can disable user accounts")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_active=True, status=UserStatus.ACTIVE)
                | (Q(is_active=False) & ~Q(status=UserStatus.ACTIVE)),
                name="user_active_iff_status_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name or self.username} ({self.employee_no})"

    def is_proposed_by(self, user) -> bool:
        # Nobody decides on their own account either, whoever requested it.
        return super().is_proposed_by(user) or self.pk == getattr(user, "pk", None)

    def get_full_name(self) -> str:
        return self.display_name or self.username

    def get_short_name(self) -> str:
        return self.display_name or self.username


class UserSession(models.Model):
    """Which server-side sessions belong to which user, so that logging out or
    disabling a user ends every one of their sessions, on any web process."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self) -> str:
        return f"session of user {self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only.")

    def delete(self):
        raise PermissionError("The audit trail is append-only.")


class AuditEvent(models.Model):
    """Append-only audit trail (审计日志). Written only through `accounts.audit.audit`;
    the application has no way to change or delete a row, and on PostgreSQL a
    trigger refuses UPDATE and DELETE of rows inside the retention period."""

    occurred_at = models.DateTimeField(_("time (UTC)"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=40)
    target_type = models.CharField(_("target type"), max_length=60, blank=True)
    target_id = models.CharField(_("target"), max_length=64, blank=True)
    target_repr = models.CharField(_("target description"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["action", "occurred_at"], name="audit_action_time"),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only.")


class HomeLayout(models.Model):
    """The widgets a user chose for their home page, in their order (keys of
    core.widgets). No row: the defaults of the user's roles."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="home_layout")
    widgets = models.JSONField(_("widgets"), default=list)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("home page layout")
        verbose_name_plural = _("home page layouts")

    def __str__(self) -> str:
        return f"{self.user_id}: {', '.join(self.widgets)}"


class UserChangeRequest(ApprovalRecord):
    """A proposed change of an existing user's roles and branch (a client manager
    made branch head, moved to another outlet), waiting for a second system
    administrator. `roles` and `branch` are the values asked for; `old_roles` and
    `old_branch` what the user had when it was asked, shown beside them. At most
    one request per user is pending at a time."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="change_requests"
    )
    roles = models.JSONField(_("new roles"), default=list)
    branch = models.ForeignKey(
        Branch, verbose_name=_("new branch"), on_delete=models.PROTECT, related_name="+"
    )
    old_roles = models.JSONField(_("roles before"), default=list)
    old_branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch before"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )

    class Meta:
        verbose_name = _("change of roles or branch")
        verbose_name_plural = _("changes of roles or branch")
        ordering = ["-proposed_at", "-id"]
        permissions = [
            ("request_user_change", _("Can request a change of a user's roles or branch")),
            ("approve_user_change", _("Can approve or reject changes of users' roles or branch")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status=ApprovalStatus.PENDING),
                name="user_change_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"user {self.user_id}: {', '.join(self.roles)} at branch {self.branch_id}"


class FindingRule(models.TextChoices):
    """The rules of the suspicious-operation report (accounts.audit_report)."""

    BULK_EXPORT = "bulk_export", _("Bulk export")
    OFF_HOURS = "off_hours", _("Activity outside working hours")
    OUTSIDE_SCOPE = "outside_scope", _("Customers outside the scope asked for")
    FAILED_LOGINS = "failed_logins", _("Repeated failed logins")
    PII_REVEALS = "pii_reveals", _("Personal data revealed beyond the daily limit")
    CREDIT_QUERIES = "credit_queries", _("Credit-report queries beyond the usual")
    CREDIT_REFUSALS = "credit_refusals", _("Credit-report queries refused")


class ReviewOutcome(models.TextChoices):
    # "explanation accepted" (说明合理), not "explained": no code reads as SQL EXPLAIN
    EXPLANATION_ACCEPTED = "explanation_accepted", _("Explanation accepted")
    ESCALATED = "escalated", _("Escalated")
    FALSE_ALARM = "false_alarm", _("False alarm")


class FindingReview(models.Model):
    """An auditor's review of one finding of the suspicious-operation report. A
    finding is one rule matched by one username on one local day; the report computes
    findings from the audit trail, so only the review is stored."""

    rule = models.CharField(_("rule"), max_length=30, choices=FindingRule.choices)
    username = models.CharField(_("username"), max_length=150)
    day = models.DateField(_("day"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=ReviewOutcome.choices)
    note = models.TextField(_("note"), max_length=500)
    reviewed_by = models.ForeignKey(
        User, verbose_name=_("reviewed by"), on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), default=timezone.now)

    class Meta:
        verbose_name = _("review of a finding")
        verbose_name_plural = _("reviews of findings")
        ordering = ["-reviewed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "username", "day"], name="finding_review_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.username} {self.day:%Y-%m-%d}: {self.outcome}"
