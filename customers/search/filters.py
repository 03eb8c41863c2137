"""The search's filters: what they are (`SearchFilters`) and the conditions they
add. The branch filter is kept apart as branch ids: the search may read a few
branches one by one (`customers.search.plan`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Branch
from customers.choices import AccountStatus
from customers.models import Account


@dataclass(frozen=True)
class SearchFilters:
    branch: str = ""  # branch code; its subtree is searched
    tier: str = ""
    status: str = ""
    manager: str = ""  # employee number
    aum_min: Decimal | None = None
    aum_max: Decimal | None = None
    age_min: int | None = None
    age_max: int | None = None
    product: str = ""  # account category held (open)

    def branch_ids(self) -> frozenset[int] | None:
        """The ids of the filter branch's subtree (none for an unknown code); None
        without a branch filter."""
        if not self.branch:
            return None
        # One read: a branch's path is the codes from the root, each ending in "/".
        below = Q(path__startswith=f"{self.branch}/") | Q(path__contains=f"/{self.branch}/")
        return frozenset(Branch.objects.filter(below).values_list("pk", flat=True))

    def condition(self) -> Q:
        """Every filter but the branch, as one condition on customers."""
        condition = Q()
        if self.tier:
            condition &= Q(tier=self.tier)
        if self.status:
            condition &= Q(status=self.status)
        if self.manager:
            condition &= Q(primary_manager__employee_no=self.manager)
        if self.aum_min is not None:
            condition &= Q(aum__gte=self.aum_min)
        if self.aum_max is not None:
            condition &= Q(aum__lte=self.aum_max)
        today = timezone.localdate()
        if self.age_min is not None:
            condition &= Q(birth_date__lte=years_before(today, self.age_min))
        if self.age_max is not None:
            condition &= Q(birth_date__gt=years_before(today, self.age_max + 1))
        if self.product:
            held = Account.objects.filter(
                customer=OuterRef("pk"), category=self.product, status=AccountStatus.OPEN
            )
            condition &= Q(Exists(held))
        return condition


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
