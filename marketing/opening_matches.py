"""Account-opening requests (开户预约) and the accounts that confirm them.

- The nightly job confirms most requests by itself (`sales.sales_from_new_accounts`);
  `audit_confirmed` writes its OPENING_CONFIRMED events, one per request, in one insert.
- A request it could not pair (another product code of the same category, an account
  opened on another day, a second account...) is matched by hand (`opening_match`)
  by a branch head of the request's branch or a business manager, among the
  customer's accounts `match_candidates` lists. The account's sale, when core banking
  already brought it, becomes the request's; else a new sale is written. Either way
  the sale is the requesting manager's, through the request's channel.
- A request still open `OPENING_OVERDUE_DAYS` days after its appointment (after its
  recording when it has none) is overdue (`openings.overdue_condition`);
  `flag_overdue`, run after each nightly load, flags it once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit, audit_many
from accounts.models import User
from accounts.scope import visible_branches
from customers.masking import mask_account_no
from customers.models import Account

from .choices import (
    OPEN_STAGES,
    MarketingAction,
    OpeningStatus,
    OpportunityStage,
    SaleSource,
)
from .models import OpeningRequest, Opportunity, Sale
from .openings import overdue_condition
from .services._common import require

MATCH_PERMISSION = "marketing.match_openingrequest"


# --- the audit of many requests at once -----------------------------------------------


def _audit_each(action: str, rows: Iterable[tuple[int, str, dict[str, Any]]]) -> int:
    """One event per request (id, description, details), written by nobody (a
    nightly step) in one insert."""
    return audit_many(action, target_type=OpeningRequest._meta.label_lower, rows=rows)


def audit_confirmed(rows: Sequence[Sequence[Any]]) -> int:
    """OPENING_CONFIRMED for each request the nightly job confirmed: rows of
    (request, customer, product, account, sale, opportunity) ids."""
    return _audit_each(
        MarketingAction.OPENING_CONFIRMED,
        (
            (
                request_id,
                f"{customer_id} {product_id} {OpeningStatus.OPENED.value}",
                {"account": account_id, "sale": sale_id, "opportunity": opportunity_id},
            )
            for request_id, customer_id, product_id, account_id, sale_id, opportunity_id in rows
        ),
    )


# --- matching by hand -----------------------------------------------------------------


def opening_for_match(user: User, pk: int) -> OpeningRequest:
    """The request, if the user may match it: in their data scope and recorded at a
    branch they oversee (a business manager: any). Else 404."""
    require(user, MATCH_PERMISSION)
    found = (
        OpeningRequest.objects.visible_to(user)
        .filter(pk=pk, branch__in=visible_branches(user))
        .select_related("customer", "product", "channel", "branch", "manager", "account", "sale")
        .first()
    )
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class Candidate:
    """An account the request may be matched to; `same_product` False: an account
    of another product of the product's category."""

    account: Account
    same_product: bool
    sale: Sale | None

    @property
    def masked_no(self) -> str:
        return mask_account_no(self.account.account_no)


def match_candidates(opening: OpeningRequest) -> list[Candidate]:
    """The customer's accounts of the request's product (or of its category) opened
    on or after the day the request was recorded and matched to no other request,
    the product's own first, newest first; with the sale each already is. Two
    queries."""
    accounts = list(_candidates(opening).order_by("-open_date", "-id")[:50])
    sales = {s.account_id: s for s in Sale.objects.filter(account__in=accounts).select_related("manager")}
    code = opening.product.code
    rows = [Candidate(a, a.product_code == code, sales.get(a.pk)) for a in accounts]
    return sorted(rows, key=lambda c: not c.same_product)


def _candidates(opening: OpeningRequest) -> QuerySet[Account]:
    product = opening.product
    return (
        Account.objects.filter(customer_id=opening.customer_id)
        .filter(Q(product_code=product.code) | Q(category=product.category))
        .filter(open_date__gte=timezone.localdate(opening.created_at))
        .exclude(
            pk__in=OpeningRequest.objects.filter(account__isnull=False)
            .exclude(pk=opening.pk)
            .values("account_id")
        )
    )


def _sale_branch_id(opening: OpeningRequest) -> int:
    """A request's sale counts for the requesting manager's branch (the request's
    own when the manager has none), as every sale counts for its manager's."""
    return opening.manager.branch_id or opening.branch_id


@transaction.atomic
def opening_match(*, opening: OpeningRequest, account: Account, user: User) -> OpeningRequest:
    """Match an open request to one of its candidate accounts by hand. The account's
    sale (recorded from core banking and attributed to the manager of record) becomes
    the request's; without one, the unconfirmed sale of the won opportunity the
    request carries takes the account; else a new sale is written. The sale is the
    requesting manager's, at that manager's branch, through the request's channel;
    the request becomes opened on the account's opening date. Refused when the
    request is not open, or the account is another customer's, another request's
    or not among the candidates."""
    require(user, MATCH_PERMISSION)
    opening = opening_for_match(user, opening.pk)
    opening = (
        OpeningRequest.objects.select_for_update(of=("self",))
        .select_related("customer", "product", "manager")
        .get(pk=opening.pk)
    )
    if not opening.is_open:
        raise ValidationError(
            _("This request is %(status)s: only an open request can be matched.")
            % {"status": opening.get_status_display()}
        )
    account = Account.objects.select_for_update().get(pk=account.pk)
    masked = mask_account_no(account.account_no)
    if account.customer_id != opening.customer_id:
        raise ValidationError(_("This account is another customer's."))
    if OpeningRequest.objects.filter(account=account).exclude(pk=opening.pk).exists():
        raise ValidationError(_("Account %(no)s is already matched to another request.") % {"no": masked})
    if not _candidates(opening).filter(pk=account.pk).exists():
        raise ValidationError(
            _("Account %(no)s is not of this product or its category, or was opened before the request.")
            % {"no": masked}
        )
    sale, was = _take_sale(opening, account)
    now = timezone.now()
    opening.status = OpeningStatus.OPENED
    opening.account = account
    opening.sale = sale
    opening.opened_on = account.open_date
    opening.matched_by = user
    opening.matched_at = now
    opening.save(update_fields=["status", "account", "sale", "opened_on", "matched_by", "matched_at"])
    audit(
        MarketingAction.OPENING_MATCHED,
        actor=user,
        target=opening,
        details={
            "account": account.pk,
            "account_no": masked,
            "sale": sale.pk,
            "sale_was": was["source"],
            "manager_was": was["manager"],
        },
    )
    return opening


def _take_sale(opening: OpeningRequest, account: Account) -> tuple[Sale, dict[str, Any]]:
    """The request's sale of the account, and what it was before (its source and
    manager; "new" for a sale written now)."""
    fields = {
        "source": SaleSource.OPENING,
        "manager_id": opening.manager_id,
        "branch_id": _sale_branch_id(opening),
        "channel_id": opening.channel_id,
    }
    target = opening.target
    campaign_id = target.campaign_id if target is not None else None
    sale = Sale.objects.select_for_update().filter(account=account).first()
    if sale is None and opening.opportunity_id:
        sale = (
            Sale.objects.select_for_update()
            .filter(
                opportunity_id=opening.opportunity_id, account__isnull=True, product_id=opening.product_id
            )
            .first()
        )
        if sale is not None:
            fields.update(account_id=account.pk, amount=account.cny_balance, sale_date=account.open_date)
    if sale is not None:
        was = {"source": sale.source, "manager": sale.manager_id}
        if sale.target_id is None and target is not None:
            fields.update(target_id=target.pk, campaign_id=campaign_id)
        Sale.objects.filter(pk=sale.pk).update(**fields)
        sale.refresh_from_db()
        return sale, was
    opportunity = None
    if opening.opportunity_id and not Sale.objects.filter(opportunity_id=opening.opportunity_id).exists():
        opportunity = opening.opportunity
    sale = Sale(
        customer_id=opening.customer_id,
        product=opening.product,
        product_code=account.product_code,
        category=account.category,
        amount=account.cny_balance,
        sale_date=account.open_date or timezone.localdate(),
        account=account,
        opportunity=opportunity,
        target=target,
        campaign_id=campaign_id,
        **fields,
    )
    sale.save()
    if opportunity is not None and opportunity.stage in OPEN_STAGES:
        Opportunity.objects.filter(pk=opportunity.pk).update(
            stage=OpportunityStage.WON, closed_at=timezone.now()
        )
    return sale, {"source": "new", "manager": None}


# --- overdue ------------------------------------------------------------------------------


@transaction.atomic
def flag_overdue(today: datetime.date | None = None) -> int:
    """Flag the open requests overdue on `today` (see `overdue_condition`) that are
    not flagged yet, each audited OPENING_FLAGGED; returns how many. A second run
    flags nothing more."""
    today = today or timezone.localdate()
    due = list(
        OpeningRequest.objects.select_for_update(skip_locked=True)
        .filter(overdue_condition(today), flagged_at__isnull=True)
        .values_list(
            "pk", "customer_id", "product_id", "status", "manager_id", "appointment_at", "created_at"
        )
    )
    if not due:
        return 0
    OpeningRequest.objects.filter(pk__in=[row[0] for row in due]).update(flagged_at=timezone.now())
    return _audit_each(
        MarketingAction.OPENING_FLAGGED,
        (
            (
                pk,
                f"{customer_id} {product_id} {status}",
                {
                    "manager": manager_id,
                    "due": timezone.localdate(appointment_at or created_at).isoformat(),
                    "days": settings.OPENING_OVERDUE_DAYS,
                },
            )
            for pk, customer_id, product_id, status, manager_id, appointment_at, created_at in due
        ),
    )
