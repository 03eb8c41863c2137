"""A customer's split of the credit: who counts what share of their figures now
(the manager of record 100 − the assisting share), and the splits from when to when
(`services.split_credit` writes them; the performance engine counts them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from customers.choices import AssignmentRole
from customers.models import Customer, CustomerAssignment

HUNDRED = Decimal("100")


@dataclass(frozen=True)
class SplitCredit:
    primary: CustomerAssignment | None  # the running assignment of the manager of record
    assisting: CustomerAssignment | None  # the running split
    history: list[CustomerAssignment]  # every split, newest first

    @property
    def primary_share(self) -> Decimal:
        """What the manager of record counts now, in percent."""
        if self.assisting is None or self.assisting.credit_share is None:
            return HUNDRED
        return HUNDRED - self.assisting.credit_share


def split_of(assignments: Sequence[CustomerAssignment]) -> SplitCredit:
    """The split read from a customer's assignment rows already fetched (the VIP
    card's history: no query of its own)."""
    ordered = sorted(assignments, key=lambda a: (a.start_date, a.pk), reverse=True)
    splits = [a for a in ordered if a.role == AssignmentRole.SECONDARY]
    primary = next((a for a in ordered if a.role == AssignmentRole.PRIMARY and a.end_date is None), None)
    assisting = next((a for a in splits if a.end_date is None), None)
    return SplitCredit(primary=primary, assisting=assisting, history=splits)


def customer_split(customer: Customer) -> SplitCredit:
    """The split of a customer already fetched through `access_customer`."""
    return split_of(list(customer.assignments.select_related("manager", "created_by")))
