"""Writes of what a manager records about a customer beside the bank's data: their
relationships (family, employer...), their household and the assets they hold
outside the bank. Like `customers.services`: each function runs in one
transaction, checks again that the customer is in the user's scope (locking the
customer's row, so two edits of one customer queue), refuses a merged record,
validates with `full_clean()`, returns early when nothing changes and writes its
audit event (`customer_updated`, the record and what changed; never a name or a
value, which may be personal data) in the same transaction.

A customer named as a relative or as the household to join is looked up within the
user's scope too: a number outside it reads as unknown."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import Action, audit
from accounts.models import User

from .choices import HouseholdRole
from .models import Customer, Household, OtherAsset, Relationship
from .permissions import require_in_scope
from .services import ensure_not_merged

# "keep the related customer as it is" (an edit by a user who cannot see them)
KEEP = None


def _locked(by: User, customer: Customer) -> Customer:
    customer = require_in_scope(by, customer, lock=True)
    ensure_not_merged(customer)
    return customer


def _apply(record: Relationship | OtherAsset, changes: dict, check) -> list[str]:
    """Set the fields `changes` really changes, check the record and save those
    fields; the names changed (none: nothing saved)."""
    changed = [name for name, value in changes.items() if getattr(record, name) != value]
    if changed:
        for name in changed:
            setattr(record, name, changes[name])
        check(record)
        record.save(update_fields=changed)
    return changed


def _remove(record: Relationship | OtherAsset, by: User, event: str, kind: str) -> None:
    """Delete a record of the customer's (under the customer's lock), audited once
    if it was still there."""
    customer = _locked(by, record.customer)
    deleted, _rows = type(record).objects.filter(pk=record.pk, customer=customer).delete()
    if deleted:
        audit(Action.CUSTOMER_UPDATED, actor=by, target=customer, details={event: record.pk, "kind": kind})


def _customer_in_scope(by: User, customer_no: str, *, field: str) -> Customer:
    found = (
        Customer.objects.visible_to(by)
        .filter(customer_no=customer_no.strip(), merged_into__isnull=True)
        .select_related("household")
        .first()
    )
    if found is None:
        raise ValidationError({field: _("No customer with this number in your scope.")})
    return found


# --- relationships ---------------------------------------------------------------------


def _related(by: User, customer: Customer, related_customer_no: str) -> Customer | None:
    if not related_customer_no.strip():
        return None
    related = _customer_in_scope(by, related_customer_no, field="related_customer_no")
    if related.pk == customer.pk:
        raise ValidationError({"related_customer_no": _("A customer cannot be related to themselves.")})
    return related


@transaction.atomic
def relationship_add(
    *,
    customer: Customer,
    by: User,
    relation_type: str,
    related_customer_no: str = "",
    related_name: str = "",
    note: str = "",
) -> Relationship:
    """Record a relationship to another customer (by number) or to a person or
    company by name (one of the two at least)."""
    customer = _locked(by, customer)
    relationship = Relationship(
        customer=customer,
        relation_type=relation_type,
        related_customer=_related(by, customer, related_customer_no),
        related_name=related_name.strip(),
        note=note.strip(),
    )
    _check_relationship(relationship)
    relationship.save()
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=customer,
        details={"relationship_added": relationship.pk, "kind": relation_type},
    )
    return relationship


def _check_relationship(relationship: Relationship) -> None:
    if relationship.related_customer_id is None and not relationship.related_name:
        raise ValidationError(
            {
                "related_name": _(
                    "Give the customer number of the relative, or the name of the person or company."
                )
            }
        )
    relationship.full_clean()


@transaction.atomic
def relationship_update(
    *,
    relationship: Relationship,
    by: User,
    relation_type: str,
    related_customer_no: str | None = KEEP,
    related_name: str = "",
    note: str = "",
) -> Relationship:
    """Change a relationship; `related_customer_no` None keeps the related customer
    (a user who cannot see them does not learn or lose who it is), "" removes it."""
    customer = _locked(by, relationship.customer)
    relationship = Relationship.objects.select_for_update().get(pk=relationship.pk, customer=customer)
    related_id = relationship.related_customer_id
    if related_customer_no is not KEEP:
        related = _related(by, customer, related_customer_no)
        related_id = related.pk if related else None
    changes = {
        "relation_type": relation_type,
        "related_customer_id": related_id,
        "related_name": related_name.strip(),
        "note": note.strip(),
    }
    changed = _apply(relationship, changes, _check_relationship)
    if not changed:
        return relationship
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=customer,
        details={
            "relationship_changed": relationship.pk,
            "fields": [name.removesuffix("_id") for name in changed],
        },
    )
    return relationship


@transaction.atomic
def relationship_remove(*, relationship: Relationship, by: User) -> None:
    _remove(relationship, by, "relationship_removed", relationship.relation_type)


# --- household -------------------------------------------------------------------------


@transaction.atomic
def household_join(
    *, customer: Customer, by: User, role: str, household_of_no: str = "", name: str = ""
) -> Household:
    """Put a customer who is in no household into the household of another customer
    (by number, in the user's scope), or into a new one named `name` (by default
    after the customer)."""
    customer = _locked(by, customer)
    if customer.household_id is not None:
        raise ValidationError(_("This customer is already in a household: change it or leave it first."))
    _check_role(role)
    if household_of_no.strip():
        other = _customer_in_scope(by, household_of_no, field="household_of_no")
        if other.pk == customer.pk:
            raise ValidationError({"household_of_no": _("Give another customer's number.")})
        if other.household is None:
            raise ValidationError(
                {
                    "household_of_no": _(
                        "This customer is in no household yet: start a new household instead, "
                        "then add them to it from their page."
                    )
                }
            )
        household = other.household
    else:
        household = Household(name=name.strip() or _("Household of %(name)s") % {"name": customer.name})
        household.full_clean()
        household.save()
    Customer.objects.filter(pk=customer.pk).update(
        household=household, household_role=role, updated_at=timezone.now()
    )
    audit(
        Action.CUSTOMER_UPDATED, actor=by, target=customer, details={"household": household.pk, "role": role}
    )
    return household


def _check_role(role: str) -> None:
    if role not in HouseholdRole.values:
        raise ValidationError({"role": _("Choose the customer's place in the household.")})


@transaction.atomic
def household_change(*, customer: Customer, by: User, role: str, name: str) -> Household:
    """Change the customer's place in their household, or the household's name."""
    customer = _locked(by, customer)
    if customer.household_id is None:
        raise ValidationError(_("This customer is in no household."))
    _check_role(role)
    household = Household.objects.select_for_update().get(pk=customer.household_id)
    changed = []
    if name.strip() and name.strip() != household.name:
        household.name = name.strip()
        household.full_clean()
        household.save(update_fields=["name"])
        changed.append("name")
    if role != customer.household_role:
        Customer.objects.filter(pk=customer.pk).update(household_role=role, updated_at=timezone.now())
        changed.append("household_role")
    if changed:
        audit(
            Action.CUSTOMER_UPDATED,
            actor=by,
            target=customer,
            details={"household": household.pk, "fields": changed},
        )
    return household


@transaction.atomic
def household_leave(*, customer: Customer, by: User) -> None:
    """Take the customer out of their household; a household left with no member
    goes."""
    customer = _locked(by, customer)
    household_id = customer.household_id
    if household_id is None:
        return
    Customer.objects.filter(pk=customer.pk).update(
        household=None, household_role="", updated_at=timezone.now()
    )
    if not Customer.objects.filter(household_id=household_id).exists():
        Household.objects.filter(pk=household_id).delete()
    audit(Action.CUSTOMER_UPDATED, actor=by, target=customer, details={"household_left": household_id})


# --- other assets ----------------------------------------------------------------------


def _check_asset(asset: OtherAsset) -> None:
    errors = {}
    if asset.estimated_value is not None and asset.estimated_value < Decimal("0"):
        errors["estimated_value"] = _("An estimated value cannot be negative.")
    if asset.valued_on is not None and asset.valued_on > timezone.localdate():
        errors["valued_on"] = _("A valuation cannot be dated in the future.")
    if errors:
        raise ValidationError(errors)
    asset.full_clean()


@transaction.atomic
def other_asset_add(
    *,
    customer: Customer,
    by: User,
    kind: str,
    description: str,
    estimated_value: Decimal,
    valued_on: datetime.date | None = None,
) -> OtherAsset:
    customer = _locked(by, customer)
    asset = OtherAsset(
        customer=customer,
        kind=kind,
        description=description.strip(),
        estimated_value=estimated_value,
        valued_on=valued_on,
    )
    _check_asset(asset)
    asset.save()
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=customer,
        details={"other_asset_added": asset.pk, "kind": kind},
    )
    return asset


@transaction.atomic
def other_asset_update(
    *,
    asset: OtherAsset,
    by: User,
    kind: str,
    description: str,
    estimated_value: Decimal,
    valued_on: datetime.date | None = None,
) -> OtherAsset:
    customer = _locked(by, asset.customer)
    asset = OtherAsset.objects.select_for_update().get(pk=asset.pk, customer=customer)
    changes = {
        "kind": kind,
        "description": description.strip(),
        "estimated_value": estimated_value,
        "valued_on": valued_on,
    }
    changed = _apply(asset, changes, _check_asset)
    if not changed:
        return asset
    audit(
        Action.CUSTOMER_UPDATED,
        actor=by,
        target=customer,
        details={"other_asset_changed": asset.pk, "fields": changed},
    )
    return asset


@transaction.atomic
def other_asset_remove(*, asset: OtherAsset, by: User) -> None:
    _remove(asset, by, "other_asset_removed", asset.kind)
