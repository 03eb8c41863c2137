"""How the audit pages (accounts.audit_display) show this app's targets: a customer
links to their page (the reader's data scope still decides what it shows), an
employer to its page; and the labels of the employer actions and their details."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy

from .employer_choices import EmployerAction
from .models import Customer
from .partitions import PartitionAction


def _customer_links(ids: list[str]) -> dict[str, str]:
    pks = [int(pk) for pk in ids if pk.isdigit()]
    numbers = Customer.objects.filter(pk__in=pks).values_list("pk", "customer_no")
    return {str(pk): reverse("customers:detail", args=[number]) for pk, number in numbers}


def _employer_links(ids: list[str]) -> dict[str, str]:
    return {pk: reverse("customers:employer_detail", args=[int(pk)]) for pk in ids if pk.isdigit()}


# what a merge's details count, by the record they moved (`merging._moved_counts`)
MERGE_MOVED = {
    "dataqualityissue": gettext_lazy("Data-quality issues resolved"),
    "interaction": gettext_lazy("Interactions"),
    "otherasset": gettext_lazy("Other assets"),
    "contactpoint": gettext_lazy("Contact details"),
    "contactpoint_deleted": gettext_lazy("Contact details already held"),
    "contactpoint_demoted": gettext_lazy("Contact details no longer preferred"),
    "payrolllink": gettext_lazy("Payroll links"),
    "payrolllink_dropped": gettext_lazy("Payroll links already held"),
    "relationship": gettext_lazy("Relationships"),
    "relationship_incoming": gettext_lazy("Relationships to the customer"),
    "relationship_deleted": gettext_lazy("Relationships already held"),
    "customeruserobjectpermission": gettext_lazy("Shares"),
    "customeruserobjectpermission_deleted": gettext_lazy("Shares already held"),
    "customerassignment": gettext_lazy("Assignments"),
    "customerassignment_closed": gettext_lazy("Assignments closed"),
    "customerdailyaum": gettext_lazy("Daily AUM rows"),
    "customermonthlyaum": gettext_lazy("Monthly AUM rows"),
    "transactionsummary": gettext_lazy("Transaction summaries"),
    "incomeentry": gettext_lazy("Intermediary income entries"),
}

ACTIONS = [EmployerAction, PartitionAction]
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
    # a merge (customers/merging.py): the merged record and what moved to the survivor
    "merged": gettext_lazy("Merged customer"),
    "merge_id": gettext_lazy("Merge"),
    "moved": gettext_lazy("Records moved"),
    **MERGE_MOVED,
}
