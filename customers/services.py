"""Writes about customers. Every function runs in one transaction, validates on the
server and writes its audit event in the same transaction. A write given a user and
a customer checks the customer is in that user's scope again (`require_in_scope`),
whatever its caller checked before; the assignment building blocks are the
exception, their callers check (`customer_create`, the VIP services). The merge of a
duplicate customer into its survivor is in `customers.merging`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import AuditEvent, Branch, User

from . import crypto
from .choices import AssignmentRole, ContactType, IdType, RevealField
from .contacts import clean_contact_value
from .countries import validate_country_code
from .crypto import cipher
from .idnumbers import derive_birth_date_and_gender, validate_id_number, validate_mobile
from .models import (
    Account,
    ContactPoint,
    Customer,
    CustomerAssignment,
    Household,
    Interaction,
)
from .numbers import next_customer_number
from .permissions import require_in_scope

# Fields a customer edit may change (identity goes through the data-quality queue).
EDITABLE_FIELDS = (
    "name",
    "nationality",
    "occupation",
    "employer",
    "education",
    "marital",
    "annual_income",
    "risk_level",
    "risk_expiry",
    "birthday_calendar",
    "status",
    "consent_call",
    "consent_sms",
    "consent_wechat",
    "consent_email",
    "consent_visit",
)


@dataclass(frozen=True)
class CreateResult:
    customer: Customer
    created: bool


def normalise_identity(*, id_type: str, id_number: str) -> str:
    if id_type not in IdType.values:
        raise ValidationError({"id_type": _("Unknown ID type.")})
    try:
        return validate_id_number(id_type, id_number)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from exc


def check_identity_agrees(*, id_type: str, id_number: str, gender: str, birth_date) -> tuple[str, Any]:
    """For a resident ID, gender and birth date come from the number; given values
    must agree with it."""
    derived_birth, derived_gender = derive_birth_date_and_gender(id_type, id_number)
    errors = {}
    if derived_gender and gender and gender != derived_gender:
        errors["gender"] = _("The ID number says the gender is %(g)s.") % {"g": derived_gender}
    if derived_birth and birth_date and birth_date != derived_birth:
        errors["birth_date"] = _("The ID number says the birth date is %(d)s.") % {"d": derived_birth}
    if errors:
        raise ValidationError(errors)
    return gender or derived_gender or "", birth_date or derived_birth


def customer_find_by_identity(*, id_type: str, id_number: str) -> Customer | None:
    """The customer this person already is (by the blind index of the ID number);
    of duplicates sent by core banking, the oldest record."""
    id_hash = cipher().blind_index(id_number, context=crypto.ID_NUMBER)
    same_person = Customer.objects.filter(id_type=id_type, id_hash=id_hash, merged_into__isnull=True)
    return same_person.order_by("pk").first()


@transaction.atomic
def customer_create(
    *,
    created_by: User,
    id_type: str,
    id_number: str,
    name: str,
    home_branch: Branch,
    mobile: str = "",
    gender: str = "",
    birth_date: datetime.date | None = None,
    **fields: Any,
) -> CreateResult:
    """Create a customer, or find the one who already exists: one customer number
    per person, whatever is typed."""
    id_number = normalise_identity(id_type=id_type, id_number=id_number)
    existing = customer_find_by_identity(id_type=id_type, id_number=id_number)
    if existing is not None:
        return CreateResult(existing, created=False)
    gender, birth_date = check_identity_agrees(
        id_type=id_type, id_number=id_number, gender=gender, birth_date=birth_date
    )
    if mobile:
        try:
            mobile = validate_mobile(mobile)
        except ValidationError as exc:
            raise ValidationError({"mobile": exc.messages}) from exc
    unknown = set(fields) - set(EDITABLE_FIELDS) - {"open_date"}
    if unknown:
        raise ValueError(f"not customer fields: {sorted(unknown)}")
    # Model() also sets properties (id_number and mobile encrypt into their columns);
    # the stubs accept fields only.
    customer = Customer(  # type: ignore[misc]
        customer_no=next_customer_number(),
        id_type=id_type,
        id_number=id_number,
        name=name.strip(),
        gender=gender,
        birth_date=birth_date,
        home_branch=home_branch,
        mobile=mobile,
        open_date=fields.pop("open_date", None) or timezone.localdate(),
        **fields,
    )
    customer.full_clean()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        # Someone created the same person a moment ago: open theirs.
        existing = customer_find_by_identity(id_type=id_type, id_number=id_number)
        if existing is None:
            raise
        return CreateResult(existing, created=False)
    if mobile:
        # `value` is a property (it encrypts), which Model() sets and the stubs do not know
        ContactPoint.objects.create(  # type: ignore[misc]
            customer=customer, type=ContactType.MOBILE, value=mobile, is_primary=True
        )
    if created_by.has_perm("customers.add_customer") and _is_client_manager(created_by):
        # A manager who brings in a customer looks after them (and can then see them).
        assignment_set_primary(customer=customer, manager=created_by, by=created_by, reason="created")
    audit(Action.CUSTOMER_CREATED, actor=created_by, target=customer, details={"branch": home_branch.code})
    return CreateResult(customer, created=True)


def _is_client_manager(user: User) -> bool:
    from accounts.roles import Role
    from accounts.scope import has_role

    return has_role(user, Role.CLIENT_MANAGER)


def ensure_not_merged(customer: Customer) -> None:
    """A merged record is closed: new facts go to the customer it was merged into."""
    if customer.merged_into_id:
        survivor_no = (
            Customer.objects.filter(pk=customer.merged_into_id).values_list("customer_no", flat=True).first()
        )
        raise ValidationError(
            _("This customer was merged into %(no)s; work on that record instead.") % {"no": survivor_no}
        )


@transaction.atomic
def customer_update(*, customer: Customer, updated_by: User, **changes: Any) -> Customer:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    customer = require_in_scope(updated_by, customer, lock=True)
    ensure_not_merged(customer)
    changed = [f for f, v in changes.items() if getattr(customer, f) != v]
    if not changed:
        return customer
    if "nationality" in changed:
        # A new nationality is a country of the list; a code kept from an older
        # record may stay while other fields change.
        try:
            validate_country_code(changes["nationality"])
        except ValidationError as exc:
            raise ValidationError({"nationality": exc.messages}) from exc
    for field in changed:
        setattr(customer, field, changes[field])
    customer.updated_at = timezone.now()
    customer.full_clean()
    customer.save(update_fields=[*changed, "updated_at"])
    # Field names only: values may be personal data.
    audit(Action.CUSTOMER_UPDATED, actor=updated_by, target=customer, details={"fields": changed})
    return customer


@transaction.atomic
def contact_add(
    *, customer: Customer, type: str, value: str, is_primary: bool, added_by: User
) -> ContactPoint:
    require_in_scope(added_by, customer)
    ensure_not_merged(customer)
    if type not in ContactType.values:
        raise ValidationError({"type": _("Unknown contact type.")})
    try:
        value = clean_contact_value(type, value)
    except ValidationError as exc:
        raise ValidationError({"value": exc.messages}) from exc
    if is_primary:
        ContactPoint.objects.filter(customer=customer, type=type, is_primary=True).update(is_primary=False)
    # `value` is a property (it encrypts), which Model() sets and the stubs do not know
    contact = ContactPoint.objects.create(  # type: ignore[misc]
        customer=customer, type=type, value=value, is_primary=is_primary
    )
    if type == ContactType.MOBILE and (is_primary or not customer.mobile_enc):
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        customer.mobile = value
        customer.updated_at = timezone.now()
        customer.save(update_fields=["mobile_enc", "mobile_hash", "mobile_suffix", "updated_at"])
    audit(Action.CUSTOMER_UPDATED, actor=added_by, target=customer, details={"contact_added": type})
    return contact


@transaction.atomic
def interaction_log(
    *,
    customer: Customer,
    kind: str,
    subject: str,
    logged_by: User,
    notes: str = "",
    occurred_at: datetime.datetime | None = None,
) -> Interaction:
    require_in_scope(logged_by, customer)
    ensure_not_merged(customer)
    interaction = Interaction(
        customer=customer,
        kind=kind,
        subject=subject.strip(),
        notes=notes.strip(),
        occurred_at=occurred_at or timezone.now(),
        manager=logged_by,
    )
    if interaction.occurred_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("A contact cannot be logged in the future.")})
    interaction.full_clean()
    interaction.save()
    audit(
        Action.INTERACTION_LOGGED,
        actor=logged_by,
        target=customer,
        details={"interaction": interaction.pk, "kind": kind},
    )
    return interaction


@transaction.atomic
def assignment_set_primary(
    *, customer: Customer, manager: User, by: User | None, reason: str, on: datetime.date | None = None
) -> CustomerAssignment:
    """Make `manager` the manager of record from `on` (default today), closing the
    previous assignment. The VIP area builds transfers with approval on top of it
    (and checks the scope there: a customer being created is in nobody's scope yet)."""
    on = on or timezone.localdate()
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    current = CustomerAssignment.objects.filter(
        customer=customer, role=AssignmentRole.PRIMARY, end_date__isnull=True
    ).first()
    if current is not None and current.manager_id == manager.pk:
        return current
    if current is not None:
        current.end_date = on
        current.save(update_fields=["end_date"])
    assignment = CustomerAssignment.objects.create(
        customer=customer,
        manager=manager,
        role=AssignmentRole.PRIMARY,
        start_date=on,
        reason=reason[:200],
        created_by=by,
    )
    Customer.objects.filter(pk=customer.pk).update(primary_manager=manager)
    audit(
        Action.ASSIGNMENT_CHANGED,
        actor=by,
        target=customer,
        details={
            "from": current.manager.employee_no if current else None,
            "to": manager.employee_no,
            "reason": reason[:200],
        },
    )
    return assignment


@transaction.atomic
def household_add_member(
    *, customer: Customer, household: Household | None, role: str, by: User, name: str = ""
) -> Household:
    """Put a customer in a household (a new one when `household` is None)."""
    require_in_scope(by, customer)
    if household is None:
        household = Household.objects.create(
            name=name or _("Household of %(name)s") % {"name": customer.name}
        )
    Customer.objects.filter(pk=customer.pk).update(household=household, household_role=role)
    audit(
        Action.CUSTOMER_UPDATED, actor=by, target=customer, details={"household": household.pk, "role": role}
    )
    return household


def _reveal_value(customer: Customer, field: str, item_id: int | None) -> tuple[str, str]:
    """The clear value and a description of what was revealed (without the value)."""
    if field == RevealField.ID_NUMBER:
        return customer.id_number, "id_number"
    if field == RevealField.MOBILE:
        return customer.mobile, "mobile"
    if field == RevealField.CONTACT:
        contact = (
            None if item_id is None else ContactPoint.objects.filter(customer=customer, pk=item_id).first()
        )
        if contact is None:
            raise ValidationError(_("No such contact."))
        return contact.value, f"contact:{contact.type}:{contact.pk}"
    if field == RevealField.ACCOUNT:
        account = None if item_id is None else Account.objects.filter(customer=customer, pk=item_id).first()
        if account is None:
            raise ValidationError(_("No such account."))
        return account.account_no, f"account:{account.pk}"
    raise ValidationError(_("This field cannot be revealed."))


@transaction.atomic
def pii_reveal(
    *,
    user: User,
    customer: Customer,
    field: str,
    reason: str,
    item_id: int | None = None,
    ip: str | None = None,
) -> str:
    """Reveal one field of one customer. The audit event is written before the value
    is returned; a customer outside the user's scope is refused (PermissionDenied),
    whatever the caller checked before."""
    if not user.has_perm("customers.reveal_customer_pii"):
        raise PermissionDenied(_("You may not reveal personal data."))
    require_in_scope(user, customer)
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError(_("Say why you need to see the full value (at least 4 characters)."))
    value, what = _reveal_value(customer, field, item_id)
    audit(
        Action.PII_REVEALED,
        actor=user,
        target=customer,
        ip=ip,
        details={"field": what, "reason": reason[:200]},
    )
    _flag_if_suspicious(user=user, ip=ip)
    return value


@transaction.atomic
def pii_reveals(
    *,
    user: User,
    customer: Customer,
    fields: list[tuple[str, int | None]],
    reason: str,
    ip: str | None = None,
) -> list[str]:
    """Reveal several fields of one customer for one reason (the 360 view's reveal
    dialog): each is `pii_reveal`, audited on its own. All or nothing: one value
    refused (a contact of someone else) reveals none and leaves no audit event."""
    if not fields:
        raise ValidationError(_("Choose at least one value to reveal."))
    return [
        pii_reveal(user=user, customer=customer, field=field, item_id=item_id, reason=reason, ip=ip)
        for field, item_id in fields
    ]


def _flag_if_suspicious(*, user: User, ip: str | None) -> None:
    limit = settings.PII_REVEAL_DAILY_LIMIT
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    count = AuditEvent.objects.filter(actor=user, action=Action.PII_REVEALED, occurred_at__gte=start).count()
    if count == limit + 1:
        # once per day and user, when the limit is first passed
        audit(
            Action.SUSPICIOUS_ACTIVITY,
            actor=user,
            ip=ip,
            details={"kind": "reveals_over_daily_limit", "count": count, "limit": limit},
        )


@transaction.atomic
def assignment_end_primary(
    *, customer_ids: list[int], by: User | None, reason: str, on: datetime.date | None = None
) -> list[int]:
    """Close the open primary assignment of each of these customers from `on`
    (default today): they go back to their home branch's pool, with no manager of
    record. Set-based (a leaving manager's whole book is one call); returns the ids
    of the customers that had a manager. Each is audited with the manager it left."""
    on = on or timezone.localdate()
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    # Lock in id order, like assignment_set_primary does one row at a time, so two
    # recalls or a recall and an assignment cannot deadlock.
    list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    open_rows = list(
        CustomerAssignment.objects.filter(
            customer_id__in=ids, role=AssignmentRole.PRIMARY, end_date__isnull=True
        ).select_related("manager", "customer")
    )
    if not open_rows:
        return []
    ended = [row.customer_id for row in open_rows]
    CustomerAssignment.objects.filter(pk__in=[row.pk for row in open_rows]).update(end_date=on)
    Customer.objects.filter(pk__in=ended).update(primary_manager=None)
    for row in open_rows:
        audit(
            Action.ASSIGNMENT_CHANGED,
            actor=by,
            target=row.customer,
            details={"from": row.manager.employee_no, "to": None, "reason": reason[:200]},
        )
    return ended
