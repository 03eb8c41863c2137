"""What customers tells accounts when a user's roles or branch change: how many
customers the user is manager of record of (the open primary assignments).
accounts.user_changes refuses the change until they are handed over."""

from __future__ import annotations

from accounts.models import User
from accounts.user_changes import register_customers_of_record

from .choices import AssignmentRole
from .models import CustomerAssignment


def customers_of_record(user: User) -> int:
    # one count on the (manager, end_date) index
    return CustomerAssignment.objects.filter(
        manager=user, role=AssignmentRole.PRIMARY, end_date__isnull=True
    ).count()


register_customers_of_record("customers", customers_of_record)
