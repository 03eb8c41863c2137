"""How the audit pages (accounts.audit_display) show this app's targets: a customer
links to their page (the reader's data scope still decides what it shows)."""

from __future__ import annotations

from django.urls import reverse

from .models import Customer


def _customer_links(ids: list[str]) -> dict[str, str]:
    pks = [int(pk) for pk in ids if pk.isdigit()]
    numbers = Customer.objects.filter(pk__in=pks).values_list("pk", "customer_no")
    return {str(pk): reverse("customers:detail", args=[number]) for pk, number in numbers}


TARGET_LINKS = {"customers.customer": _customer_links}
