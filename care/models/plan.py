"""The manager's work plan (工作计划) and visit journal (拜访记录).

- A `PlanItem` is a planned visit, call or to-do of one manager, about a customer or
  about none, on a day (and optionally a time). A recurring item stores its rule
  (weekly or monthly, until a date) and the selector expands its occurrences for the
  dates a page shows: no row per occurrence, so "every Monday" costs one row. An
  occurrence of a recurring item is done on its own (`done_dates`); done or cancelled
  on the item itself ends the whole series.
- A `JournalEntry` is what happened at a visit or a call: purpose, products
  discussed, the customer's feedback, the next step (whose date becomes a plan item)
  and whether it is confidential. It is recorded on the customer's timeline as an
  interaction, so the last-contact date sees it.

Who sees what (the querysets below, on the customer data scope): a plan item is its
owner's, a branch head reads the team's in their subtree, head office all. A journal
entry is seen by everyone whose scope holds its customer, except a confidential one:
that one only by its manager and the branch heads above the manager's branch."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scope import ScopeKind, data_scope, visible_branches
from customers.querysets import CustomerHeldQuerySet

from ..choices import JournalKind, PlanKind, PlanRecurrence, PlanStatus, VisitPurpose


class PlanItemQuerySet(CustomerHeldQuerySet):
    """A plan item is its owner's: a client manager sees their own (about a customer
    they may still see, or about none); a branch head their own and their team's
    (owners at a branch of their subtree); head office all."""

    customerless_visible = True

    def visible_to(self, user) -> QuerySet:
        scope = data_scope(user)
        if scope.kind is ScopeKind.NONE:
            return self.none()
        items = super().visible_to(user)
        if scope.kind is ScopeKind.OWN:
            return items.filter(owner=user)
        if scope.kind is ScopeKind.SUBTREE:
            return items.filter(Q(owner=user) | Q(owner__branch__in=visible_branches(user)))
        return items


class JournalEntryQuerySet(CustomerHeldQuerySet):
    """Everyone whose scope holds the customer reads the entry, unless it is
    confidential: then its manager and the branch heads whose subtree holds the
    manager's branch only (never a colleague the customer is shared with, never
    head office)."""

    def visible_to(self, user) -> QuerySet:
        scope = data_scope(user)
        if scope.kind is ScopeKind.NONE:
            return self.none()
        entries = super().visible_to(user)
        allowed = Q(confidential=False) | Q(manager=user)
        if scope.kind is ScopeKind.SUBTREE:
            allowed |= Q(manager__branch__in=visible_branches(user))
        return entries.filter(allowed)


class JournalEntry(models.Model):
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("manager")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    kind = models.CharField(
        _("contact"), max_length=10, choices=JournalKind.choices, default=JournalKind.VISIT
    )
    visited_at = models.DateTimeField(_("when"))
    purpose = models.CharField(_("purpose"), max_length=20, choices=VisitPurpose.choices)
    products = models.ManyToManyField(
        "marketing.Product", blank=True, related_name="+", verbose_name=_("products discussed")
    )
    feedback = models.TextField(_("customer's feedback"), max_length=2000, blank=True)
    # how satisfied the customer said they were, 1 (not at all) to 5 (very):
    # the customer analysis' satisfaction reads it (docs/analysis.md)
    satisfaction = models.PositiveSmallIntegerField(
        _("customer's satisfaction"),
        null=True,
        blank=True,
        choices=[(n, str(n)) for n in range(1, 6)],
        help_text=_("1 not satisfied at all, 5 very satisfied"),
    )
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_date = models.DateField(_("next step date"), null=True, blank=True)
    confidential = models.BooleanField(
        _("confidential"),
        default=False,
        help_text=_("Shown to you and your branch head only."),
    )
    # The contact on the customer's timeline this entry recorded.
    interaction = models.ForeignKey(
        "customers.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = JournalEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        indexes = [
            models.Index(fields=["manager", "-visited_at"], name="journal_manager_day"),
            models.Index(fields=["customer", "-visited_at"], name="journal_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.manager_id} {self.customer_id} {self.visited_at:%Y-%m-%d}"


class PlanItem(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=PlanKind.choices, default=PlanKind.VISIT)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    title = models.CharField(_("title"), max_length=200)
    start_date = models.DateField(_("date"))
    start_time = models.TimeField(_("from"), null=True, blank=True)
    end_time = models.TimeField(_("until"), null=True, blank=True)
    recurrence = models.CharField(
        _("repeats"), max_length=10, choices=PlanRecurrence.choices, default=PlanRecurrence.NONE
    )
    # The last day a recurring item may fall on (required for a recurring one).
    recur_until = models.DateField(_("repeats until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.PLANNED
    )
    # Occurrences of a recurring item done one by one (ISO dates).
    done_dates = models.JSONField(default=list, blank=True)
    # Where it came from: an alert ("plan a visit") or a journal entry's next step.
    alert = models.ForeignKey(
        "care.Alert",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("alert"),
    )
    journal_entry = models.ForeignKey(
        JournalEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="next_steps"
    )
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PlanItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        indexes = [
            models.Index(fields=["owner", "start_date"], name="plan_owner_start"),
            models.Index(fields=["owner", "recurrence", "recur_until"], name="plan_owner_recurring"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.start_date} {self.title}"

    @property
    def is_recurring(self) -> bool:
        return self.recurrence != PlanRecurrence.NONE
