"""Employers and their payroll customers (代发工资): the writes and the reads.

An employer is an organisation of its own, identified by its unified social credit
code (customers.uscc); the register is bank-wide, the same for every user with a
customer scope. Its employees are customers linked to it by a payroll relationship
(`PayrollLink`: since, until, optionally the payroll account and the monthly
amount). Which employees a user sees is the customer data scope, as everywhere:
a client manager finds only their own customers in an employer's list.

Writes (services) run in one transaction, validate on the server and leave their
audit event (`EmployerAction`) in it; a write about a customer checks the customer
is in the user's scope again (`require_in_scope`) and serialises on the customer's
row. A customer has at most one open relationship with one employer (also a
partial unique index): linking them again is refused with a message that says
since when they are linked. Ending a relationship keeps it as history, since the
indicator of new payroll customers (marketing.indicators, `payroll_link`) counts
relationships by the day they started.

Reads (selectors) start from the scoped querysets and run a bounded number of
queries whatever the data size."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit

from .employer_choices import EmployerAction, Industry
from .masking import mask_phone
from .models import Account, Customer, Employer, PayrollLink
from .permissions import require_in_scope
from .uscc import normalise_uscc, validate_uscc

# What an employer edit may change, in the order the audit event lists them.
EMPLOYER_FIELDS = ("name", "uscc", "industry", "contact_person", "contact_phone")
# The keys of the audit details (customers.audit_display labels them): "name" alone
# is too common a key across the apps to label as the employer's.
AUDIT_KEYS = {"name": "employer_name"}


# --- writes ---------------------------------------------------------------------------------


def _employer_values(
    *, name: str, uscc: str, industry: str, contact_person: str, contact_phone: str, exclude_pk: int | None
) -> dict[str, str]:
    """The fields of an employer, checked: a valid code no other employer holds."""
    errors: dict[str, list[str]] = {}
    values = {
        "name": (name or "").strip(),
        "uscc": normalise_uscc(uscc),
        "industry": industry or "",
        "contact_person": (contact_person or "").strip(),
        "contact_phone": (contact_phone or "").strip(),
    }
    if not values["name"]:
        errors["name"] = [_("Give the employer's name.")]
    try:
        values["uscc"] = validate_uscc(values["uscc"])
    except ValidationError as exc:
        errors["uscc"] = exc.messages
    else:
        holder = Employer.objects.filter(uscc=values["uscc"]).exclude(pk=exclude_pk).first()
        if holder is not None:
            errors["uscc"] = [
                _("%(name)s is already registered with this unified social credit code.")
                % {"name": holder.name}
            ]
    if values["industry"] not in Industry.values:
        errors["industry"] = [_("Choose the employer's industry.")]
    if errors:
        raise ValidationError(errors)
    return values


def _audit_value(field: str, value: Any) -> Any:
    """A value as the audit trail keeps it: the industry by its label, the contact's
    phone masked (never an unmasked personal value in the details)."""
    if field == "industry" and value in Industry.values:
        return str(Industry(value).label)
    if field == "contact_phone":
        return mask_phone(value) if value else ""
    return value


def employer_create(
    *,
    user,
    name: str,
    uscc: str,
    industry: str,
    contact_person: str = "",
    contact_phone: str = "",
) -> Employer:
    """Register an employer; a code already registered is refused with the name of
    the employer that holds it."""
    with transaction.atomic():
        values = _employer_values(
            name=name,
            uscc=uscc,
            industry=industry,
            contact_person=contact_person,
            contact_phone=contact_phone,
            exclude_pk=None,
        )
        employer = Employer(**values, created_by=user)
        employer.full_clean()
        try:
            with transaction.atomic():
                employer.save()
        except IntegrityError:  # registered by someone else in the meantime
            raise ValidationError(
                {"uscc": [_("An employer with this unified social credit code is already registered.")]}
            ) from None
        audit(
            EmployerAction.EMPLOYER_CREATED,
            actor=user,
            target=employer,
            details={"uscc": employer.uscc, "industry": _audit_value("industry", employer.industry)},
        )
    return employer


def employer_update(
    *,
    user,
    employer: Employer,
    name: str,
    uscc: str,
    industry: str,
    contact_person: str = "",
    contact_phone: str = "",
) -> Employer:
    """Change an employer's fields; nothing is written when nothing changes. The
    audit event lists each changed field, from → to."""
    with transaction.atomic():
        locked = Employer.objects.select_for_update().get(pk=employer.pk)
        values = _employer_values(
            name=name,
            uscc=uscc,
            industry=industry,
            contact_person=contact_person,
            contact_phone=contact_phone,
            exclude_pk=locked.pk,
        )
        changes = {
            AUDIT_KEYS.get(field, field): {
                "from": _audit_value(field, getattr(locked, field)),
                "to": _audit_value(field, value),
            }
            for field, value in values.items()
            if getattr(locked, field) != value
        }
        if not changes:
            return locked
        for field, value in values.items():
            setattr(locked, field, value)
        locked.updated_at = timezone.now()
        locked.full_clean()
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise ValidationError(
                {"uscc": [_("An employer with this unified social credit code is already registered.")]}
            ) from None
        audit(EmployerAction.EMPLOYER_UPDATED, actor=user, target=locked, details=changes)
    return locked


def payroll_link(
    *,
    user,
    employer: Employer,
    customer: Customer,
    since: datetime.date | None = None,
    account: Account | None = None,
    monthly_amount: Decimal | None = None,
) -> PayrollLink:
    """Record that `employer` pays `customer` through the bank from `since` (default
    today). Refused: a customer outside the user's scope, a customer already linked
    to this employer, an account that is not the customer's, a start in the future,
    an amount that is not positive."""
    today = timezone.localdate()
    since = since or today
    with transaction.atomic():
        # serialises the links of one customer: two clerks linking them at once
        customer = require_in_scope(user, customer, lock=True)
        errors: dict[str, list[str]] = {}
        if since > today:
            errors["since"] = [_("A payroll relationship starts today or earlier.")]
        if account is not None and account.customer_id != customer.pk:
            errors["account_no"] = [_("This account is not the customer's.")]
        if monthly_amount is not None and monthly_amount <= 0:
            errors["monthly_amount"] = [_("The monthly amount is more than zero.")]
        open_link = PayrollLink.objects.filter(
            employer=employer, customer=customer, until__isnull=True
        ).first()
        if open_link is not None:
            errors["customer_no"] = [
                _("%(name)s is already paid by %(employer)s, since %(since)s.")
                % {"name": customer.name, "employer": employer.name, "since": open_link.since.isoformat()}
            ]
        if errors:
            raise ValidationError(errors)
        link = PayrollLink(
            employer=employer,
            customer=customer,
            since=since,
            account=account,
            monthly_amount=monthly_amount,
            created_by=user,
        )
        link.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                link.save()
        except IntegrityError:
            raise ValidationError(
                {"customer_no": [_("This customer is already linked to this employer.")]}
            ) from None
        audit(
            EmployerAction.PAYROLL_LINKED,
            actor=user,
            target=customer,
            details={"employer": employer.name, "paid_since": since.isoformat()},
        )
    return link


def payroll_end(*, user, link: PayrollLink, until: datetime.date | None = None) -> PayrollLink:
    """End a payroll relationship on `until` (default today), kept as history. An
    ended one is left as it is."""
    today = timezone.localdate()
    until = until or today
    with transaction.atomic():
        require_in_scope(user, link.customer, lock=True)
        locked = (
            PayrollLink.objects.select_for_update().select_related("employer", "customer").get(pk=link.pk)
        )
        if locked.until is not None:
            return locked
        if until > today:
            raise ValidationError({"until": [_("A payroll relationship ends today or earlier.")]})
        if until < locked.since:
            raise ValidationError(
                {
                    "until": [
                        _("A payroll relationship cannot end before it started (%(since)s).")
                        % {"since": locked.since.isoformat()}
                    ]
                }
            )
        locked.until = until
        locked.save(update_fields=["until"])
        audit(
            EmployerAction.PAYROLL_ENDED,
            actor=user,
            target=locked.customer,
            details={"employer": locked.employer.name, "paid_until": until.isoformat()},
        )
    return locked


# --- reads ----------------------------------------------------------------------------------


def employer_search(*, user, q: str = "") -> QuerySet[Employer]:
    """The employers whose name contains `q` or whose code starts with it, by name,
    each with `employee_count`: their current employees the user may see (one
    query for the page)."""
    employers = Employer.objects.visible_to(user)
    q = (q or "").strip()
    if q:
        employers = employers.filter(Q(name__icontains=q) | Q(uscc__startswith=normalise_uscc(q)))
    counts = (
        PayrollLink.objects.visible_to(user)
        .filter(employer=OuterRef("pk"), until__isnull=True)
        .order_by()
        .values("employer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return employers.annotate(
        employee_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))
    ).order_by("name", "pk")


def employer_employees(*, user, employer: Employer, current: bool = True) -> QuerySet[PayrollLink]:
    """The employer's payroll relationships whose customers the user may see:
    current ones (or ended ones, `current=False`), by the customer's name, with
    what the list shows."""
    links = (
        PayrollLink.objects.visible_to(user)
        .filter(employer=employer, until__isnull=current)
        .select_related("customer", "customer__home_branch", "customer__primary_manager", "account")
    )
    return (
        links.order_by("customer__name", "customer__customer_no")
        if current
        else links.order_by("-until", "pk")
    )


def customer_for_payroll(*, user, customer_no: str) -> Customer | None:
    """The customer with this number, if the user may see them."""
    return (
        Customer.objects.visible_to(user)
        .filter(customer_no=(customer_no or "").strip(), merged_into__isnull=True)
        .first()
    )


def payroll_account(*, customer: Customer, account_no: str) -> Account | None:
    """The customer's own account with this number (None: not theirs, or none)."""
    return Account.objects.filter(customer=customer, account_no=(account_no or "").strip()).first()


def customer_payroll(*, user, customer: Customer) -> list[PayrollLink]:
    """The customer's payroll relationships for the 360 view: current ones first,
    then ended ones, latest first; one query."""
    links = (
        PayrollLink.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("employer", "account")
        .order_by(Coalesce("until", Value(datetime.date.max)).desc(), "-since", "-pk")
    )
    return list(links)


# --- fetching one (the views' access functions, core.views.ScopedView) ---------------------


def access_employer(user, pk: int, *, for_change: bool) -> Employer:
    """An employer of the register (404 when there is none for the user); viewing
    needs view_employer, changing change_employer (403)."""
    if not user.has_perm("customers.view_employer"):
        raise PermissionDenied
    if for_change and not user.has_perm("customers.change_employer"):
        raise PermissionDenied
    return get_object_or_404(Employer.objects.visible_to(user), pk=pk)


def access_payroll_link(user, pk: int, *, for_change: bool) -> PayrollLink:
    """A payroll relationship whose customer the user may see (else 404); ending
    one needs change_payrolllink (403)."""
    if not user.has_perm("customers.view_customer"):
        raise PermissionDenied
    if for_change and not user.has_perm("customers.change_payrolllink"):
        raise PermissionDenied
    links = PayrollLink.objects.visible_to(user).select_related("employer", "customer")
    return get_object_or_404(links, pk=pk)
