"""How the audit pages (accounts.audit_display) show this app's targets: a customer
links to their page (the reader's data scope still decides what it shows), an
employer to its page; and the labels of the employer actions and their details."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy

from .employer_choices import EmployerAction
from .models import Customer


def _customer_links(ids: list[str]) -> dict[str, str]:
    pks = [int(pk) for pk in ids if pk.isdigit()]
    numbers = Customer.objects.filter(pk__in=pks).values_list("pk", "customer_no")
    return {str(pk): reverse("customers:detail", args=[number]) for pk, number in numbers}


def _employer_links(ids: list[str]) -> dict[str, str]:
    return {pk: reverse("customers:employer_detail", args=[int(pk)]) for pk in ids if pk.isdigit()}


ACTIONS = [EmployerAction]
TARGET_LINKS = {"customers.customer": _customer_links, "customers.employer": _employer_links}
DETAIL_LABELS = {
    "employer": gettext_lazy("Employer"),
    "uscc": gettext_lazy("Unified social credit code"),
    "industry": gettext_lazy("Industry"),
    "employer_name": gettext_lazy("Employer name"),
    "contact_person": gettext_lazy("Contact person"),
    "contact_phone": gettext_lazy("Contact phone"),
    "paid_since": gettext_lazy("Paid since"),
    "paid_until": gettext_lazy("Paid until"),
    # the 360 view's records (customers/records.py)
    "relationship_added": gettext_lazy("Relationship added"),
    "relationship_changed": gettext_lazy("Relationship changed"),
    "relationship_removed": gettext_lazy("Relationship removed"),
    "other_asset_added": gettext_lazy("Other asset added"),
    "other_asset_changed": gettext_lazy("Other asset changed"),
    "other_asset_removed": gettext_lazy("Other asset removed"),
    "household": gettext_lazy("Household"),
    "household_left": gettext_lazy("Left the household"),
    "household_of_no": gettext_lazy("Household of customer"),
}
