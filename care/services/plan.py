"""Writes of the work plan, the visit journal and a manager's own reminders.

Every function checks again what its caller may have checked: the customer (and the
alert a plan item comes from) must be in the acting user's scope, a plan item is
changed by its owner only, dates make sense (an end after its start, a next step not
in the past). Each writes its audit event in the same transaction."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User
from customers.models import Customer
from customers.permissions import require_in_scope
from customers.services import ensure_not_merged, interaction_log
from marketing.models import Product

from ..choices import (
    AlertKind,
    AlertPriority,
    JournalKind,
    PlanKind,
    PlanRecurrence,
    PlanStatus,
    VisitPurpose,
)
from ..models import Alert, JournalEntry, PlanItem

# A recurring item is expanded for the dates a page shows; its rule may not run for
# longer than this (a plan is for the coming months, not for ever).
MAX_RECURRENCE_DAYS = 366
# The fields of a plan item its owner may change.
EDITABLE = (
    "kind",
    "customer",
    "title",
    "start_date",
    "start_time",
    "end_time",
    "recurrence",
    "recur_until",
    "notes",
)


def _check_customer(user: User, customer: Customer | None) -> None:
    if customer is not None:
        require_in_scope(user, customer)
        ensure_not_merged(customer)


def _check_alert(user: User, alert: Alert | None) -> None:
    if alert is not None and not Alert.objects.visible_to(user).filter(pk=alert.pk).exists():
        raise PermissionDenied(_("This alert is not in your scope."))


def _validate_dates(item: PlanItem, *, new_start: bool) -> None:
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if new_start and item.start_date < today:
        errors["start_date"] = _("A plan cannot start in the past.")
    if item.end_time is not None:
        if item.start_time is None:
            errors["start_time"] = _("Give the start time of a plan with an end time.")
        elif item.end_time <= item.start_time:
            errors["end_time"] = _("The end must be after the start.")
    if item.recurrence == PlanRecurrence.NONE:
        item.recur_until = None
    elif item.recur_until is None:
        errors["recur_until"] = _("Say until when it repeats.")
    elif item.recur_until < item.start_date:
        errors["recur_until"] = _("It cannot repeat until a day before it starts.")
    elif (item.recur_until - item.start_date).days > MAX_RECURRENCE_DAYS:
        errors["recur_until"] = _("A plan may repeat for one year at most.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def plan_item_create(
    *,
    owner: User,
    title: str,
    start_date: datetime.date,
    kind: str = PlanKind.VISIT,
    customer: Customer | None = None,
    start_time: datetime.time | None = None,
    end_time: datetime.time | None = None,
    recurrence: str = PlanRecurrence.NONE,
    recur_until: datetime.date | None = None,
    notes: str = "",
    alert: Alert | None = None,
    journal_entry: JournalEntry | None = None,
) -> PlanItem:
    _check_alert(owner, alert)
    if alert is not None and alert.customer_id is not None:
        if customer is None:
            customer = alert.customer
        elif customer.pk != alert.customer_id:
            raise ValidationError({"customer": _("The alert is about another customer.")})
    _check_customer(owner, customer)
    item = PlanItem(
        owner=owner,
        kind=kind,
        customer=customer,
        title=title.strip(),
        start_date=start_date,
        start_time=start_time,
        end_time=end_time,
        recurrence=recurrence,
        recur_until=recur_until,
        notes=notes.strip(),
        alert=alert,
        journal_entry=journal_entry,
    )
    _validate_dates(item, new_start=True)
    item.full_clean()
    item.save()
    audit(
        Action.PLAN_ITEM_CREATED,
        actor=owner,
        target=item,
        details={
            "customer": customer.customer_no if customer else None,
            "date": start_date.isoformat(),
            "kind": kind,
            "alert": alert.pk if alert else None,
        },
    )
    return item


def _lock_own(item: PlanItem, by: User) -> PlanItem:
    locked = PlanItem.objects.select_for_update().get(pk=item.pk)
    if locked.owner_id != by.pk:
        raise PermissionDenied(_("Only its owner may change a plan item."))
    return locked


@transaction.atomic
def plan_item_update(*, item: PlanItem, by: User, **changes) -> PlanItem:
    """Change the fields of `EDITABLE` given; a plan done or cancelled stays as it is."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    item = _lock_own(item, by)
    if item.status != PlanStatus.PLANNED:
        raise ValidationError(_("This plan item is already done or cancelled."))
    changed = sorted(name for name, value in changes.items() if getattr(item, name) != value)
    if not changed:
        return item
    if "customer" in changed:
        _check_customer(by, changes["customer"])
        customer = changes["customer"]
        alert = item.alert
        if alert is not None and alert.customer_id not in (None, getattr(customer, "pk", None)):
            raise ValidationError({"customer": _("The alert is about another customer.")})
    moved = "start_date" in changed
    for name in changed:
        setattr(item, name, changes[name])
    item.title = item.title.strip()
    item.notes = item.notes.strip()
    _validate_dates(item, new_start=moved)
    item.updated_at = timezone.now()
    item.full_clean()
    item.save()
    audit(Action.PLAN_ITEM_CHANGED, actor=by, target=item, details={"changed": changed})
    return item


def occurs_on(item: PlanItem, day: datetime.date) -> bool:
    """Whether the item falls on `day` (for a recurring one, one of its occurrences)."""
    from ..selectors.plan import occurrence_dates

    return day in occurrence_dates(item, day, day)


@transaction.atomic
def plan_item_complete(*, item: PlanItem, by: User, on: datetime.date | None = None) -> PlanItem:
    """Done: a one-off item, or the occurrence of a recurring one that falls on `on`
    (required for a recurring item, whose other occurrences stay planned)."""
    item = _lock_own(item, by)
    if item.status != PlanStatus.PLANNED:
        return item
    if item.is_recurring:
        if on is None or not occurs_on(item, on):
            raise ValidationError({"on": _("Choose a day on which this plan falls.")})
        if on.isoformat() in item.done_dates:
            return item
        item.done_dates = sorted([*item.done_dates, on.isoformat()])
    else:
        item.status = PlanStatus.DONE
    item.updated_at = timezone.now()
    item.save(update_fields=["status", "done_dates", "updated_at"])
    audit(
        Action.PLAN_ITEM_DONE,
        actor=by,
        target=item,
        details={"on": (on if item.is_recurring and on else item.start_date).isoformat()},
    )
    return item


@transaction.atomic
def plan_item_cancel(*, item: PlanItem, by: User) -> PlanItem:
    """Cancel the item (a recurring one: every occurrence still to come)."""
    item = _lock_own(item, by)
    if item.status != PlanStatus.PLANNED:
        return item
    item.status = PlanStatus.CANCELLED
    item.updated_at = timezone.now()
    item.save(update_fields=["status", "updated_at"])
    audit(Action.PLAN_ITEM_CANCELLED, actor=by, target=item)
    return item


@transaction.atomic
def journal_entry_create(
    *,
    manager: User,
    customer: Customer,
    purpose: str,
    visited_at: datetime.datetime,
    kind: str = JournalKind.VISIT,
    products: Iterable[Product] = (),
    feedback: str = "",
    next_step: str = "",
    next_step_date: datetime.date | None = None,
    confidential: bool = False,
    satisfaction: int | None = None,
) -> JournalEntry:
    """Record a visit or a call: the entry, the contact on the customer's timeline
    (an interaction of the same kind, which the last-contact date counts) and, when
    the next step has a date, a plan item for it."""
    _check_customer(manager, customer)
    errors: dict[str, str] = {}
    if visited_at > timezone.now() + datetime.timedelta(minutes=5):
        errors["visited_at"] = _("A visit cannot be recorded in the future.")
    next_step = next_step.strip()
    if next_step_date is not None:
        if next_step_date < timezone.localdate():
            errors["next_step_date"] = _("The next step cannot be in the past.")
        if not next_step:
            errors["next_step"] = _("Say what the next step is.")
    if errors:
        raise ValidationError(errors)
    purpose_label = VisitPurpose(purpose).label if purpose in VisitPurpose.values else purpose
    # A confidential entry's feedback stays in the journal: the timeline, which every
    # user who sees the customer reads, gets the purpose only.
    interaction = interaction_log(
        customer=customer,
        kind=kind,
        subject=str(purpose_label),
        notes="" if confidential else feedback,
        logged_by=manager,
        occurred_at=visited_at,
    )
    entry = JournalEntry(
        manager=manager,
        customer=customer,
        kind=kind,
        visited_at=visited_at,
        purpose=purpose,
        feedback=feedback.strip(),
        next_step=next_step,
        next_step_date=next_step_date,
        confidential=confidential,
        satisfaction=satisfaction,
        interaction=interaction,
    )
    entry.full_clean()
    entry.save()
    products = list(products)
    if products:
        entry.products.set(products)
    plan_item = None
    if next_step_date is not None:
        plan_item = plan_item_create(
            owner=manager,
            kind=PlanKind.CALL if kind == JournalKind.CALL else PlanKind.VISIT,
            customer=customer,
            title=next_step,
            start_date=next_step_date,
            journal_entry=entry,
        )
    audit(
        Action.JOURNAL_ENTRY_RECORDED,
        actor=manager,
        target=customer,
        details={
            "entry": entry.pk,
            "kind": kind,
            "purpose": purpose,
            "confidential": confidential,
            "satisfaction": satisfaction,
            "plan_item": plan_item.pk if plan_item else None,
        },
    )
    return entry


@transaction.atomic
def own_reminder_create(*, manager: User, customer: Customer | None, on: datetime.date, text: str) -> Alert:
    """A reminder the manager sets for themselves, on a customer (or on none) and a
    day: an alert of kind "own", theirs, due that day."""
    _check_customer(manager, customer)
    text = text.strip()
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = _("Write what to be reminded of.")
    elif len(text) > 200:
        errors["text"] = _("Keep the reminder within 200 characters.")
    if on < timezone.localdate():
        errors["on"] = _("A reminder cannot be set for a day in the past.")
    if errors:
        raise ValidationError(errors)
    alert = Alert(
        kind=AlertKind.OWN,
        customer=customer,
        event_key=f"own:{uuid.uuid4().hex}",
        event_date=on,
        due_date=on,
        priority=AlertPriority.NORMAL,
        assignee=manager,
        branch_id=customer.home_branch_id if customer is not None else manager.branch_id,
        figures={"text": text},
        created_by=manager,
    )
    alert.full_clean()
    alert.save()
    audit(
        Action.OWN_REMINDER_SET,
        actor=manager,
        target=alert,
        details={"customer": customer.customer_no if customer else None, "on": on.isoformat()},
    )
    return alert
