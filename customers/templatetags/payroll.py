"""`{% payroll_panel c %}`: the customer's employers on the 360 view (代发工资), read
through the data scope in one query (customers.employers.customer_payroll)."""

from __future__ import annotations

from typing import Any

from django import template

from customers.employers import customer_payroll

register = template.Library()


@register.inclusion_tag("customers/employers/_payroll_panel.html", takes_context=True)
def payroll_panel(context, customer) -> dict[str, Any]:
    request = context["request"]
    user = request.user
    return {
        "c": customer,
        "links": customer_payroll(user=user, customer=customer),
        "can_link": user.has_perm("customers.add_payrolllink") and user.has_perm("customers.view_employer"),
        "can_end": user.has_perm("customers.change_payrolllink"),
        "csrf_token": context.get("csrf_token"),
    }
