"""Reads of the customer analysis for the pages a manager uses: the panel of the
customer's 360 view (and the same figures in the customer API), and the save list.
Every read starts from `CustomerAnalysis.objects.visible_to(user)`.

- `customer_analysis(user=, customer=)`: the customer's row, or None (one query);
  `analysis_panel(row)`: what the panel shows of it, its reasons as sentences and
  its next best products with theirs (one query, the products).
- `save_list(...)`: a manager's customers of record (or, for a branch head or head
  office who picks no manager, their team's) by value at risk, highest first;
  `save_list_rows(page)`: a page of it as the table shows it (two queries: the tier
  names and the recommended products of the page)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from accounts.scope import ScopeKind, data_scope
from customers.masking import mask_name

from .choices import ChurnSource
from .models import CustomerAnalysis

NO_TIER = "none"  # the tier filter's value for customers without a tier
REASON_KINDS = ("contribution", "loyalty", "churn", "satisfaction")
CUSTOMER_COLUMNS = (
    "customer__customer_no",
    "customer__name",
    "customer__tier",
    "customer__primary_manager__display_name",
    "customer__primary_manager__username",
)


@dataclass(frozen=True)
class NextProduct:
    code: str
    name: str
    share: Decimal | None
    reason: str


@dataclass(frozen=True)
class AnalysisPanel:
    row: CustomerAnalysis
    churn_source: str  # the label of where the probability comes from
    churn_note: str  # which model version, or why the rules
    reasons: dict[str, list[str]]  # the top three sentences of each score
    products: list[NextProduct]

    @property
    def churn_percent(self) -> Decimal:
        return self.row.churn_probability * 100


def customer_analysis(*, user: User, customer: Any) -> CustomerAnalysis | None:
    """The customer's analysis as far as the user may see it (one query)."""
    # the model that scored it, in the same query (the churn source's note names it)
    rows = CustomerAnalysis.objects.visible_to(user).select_related("model")
    return rows.filter(customer_id=customer.pk).first()


def next_products(row: CustomerAnalysis) -> list[NextProduct]:
    """The row's next best products, best first, each with its reason (one query
    for the products, none without any)."""
    from .recommend import product_reasons

    if not row.next_products:
        return []
    return [
        NextProduct(
            code=item["product"].code,
            name=item["product"].name,
            share=item["share"],
            reason=str(item["sentence"]),
        )
        for item in product_reasons(row.next_products)
    ]


def analysis_panel(row: CustomerAnalysis) -> AnalysisPanel:
    """What the 360 view's panel (and the API's section) shows of the row."""
    from .reasons import churn_source_note, reasons

    sentences = reasons(row)
    return AnalysisPanel(
        row=row,
        churn_source=str(ChurnSource(row.churn_source).label)
        if row.churn_source in ChurnSource.values
        else "",
        churn_note=str(churn_source_note(row) or ""),
        reasons={kind: list(sentences.get(kind) or [])[:3] for kind in REASON_KINDS},
        products=next_products(row),
    )


# --- the save list --------------------------------------------------------------------------


def save_list_managers(user: User) -> QuerySet[User]:
    """The managers whose save list the user may open: a client manager their own;
    a branch head the client managers of their subtree, head office all (active or
    not: a manager who left still has customers of record until they are moved)."""
    from vip.selectors import book_managers

    return book_managers(user)


def chooses_manager(user: User) -> bool:
    """Whether the user picks whose save list to read (a branch head, head office)."""
    return data_scope(user).kind in (ScopeKind.SUBTREE, ScopeKind.ALL)


def save_list(
    *,
    rows: QuerySet[CustomerAnalysis],
    user: User,
    manager: User | None,
    min_probability: Decimal | None = None,
    tier: str = "",
    customer_no: str = "",
) -> QuerySet[CustomerAnalysis]:
    """The customers of record of `manager` (None: of any manager, for a user who
    chooses managers; a client manager always reads their own) among `rows`, the
    analysis already narrowed to the user's scope, highest value at risk first."""
    if manager is None and not chooses_manager(user):
        manager = user
    rows = rows.filter(customer__merged_into__isnull=True)
    if manager is not None:
        rows = rows.filter(customer__primary_manager=manager)
    else:
        rows = rows.filter(customer__primary_manager__isnull=False)
    if min_probability is not None:
        rows = rows.filter(churn_probability__gte=min_probability)
    if tier:
        rows = rows.filter(customer__tier="" if tier == NO_TIER else tier)
    if customer_no:
        rows = rows.filter(customer__customer_no=customer_no)
    # the whole analysis row (its reasons may read any of its figures), of the
    # customer and their manager only what the table shows
    own = [field.attname for field in CustomerAnalysis._meta.concrete_fields]
    return (
        rows.select_related("customer", "customer__primary_manager")
        .only(*own, *CUSTOMER_COLUMNS)
        .order_by("-value_at_risk", "customer_id")
    )


@dataclass(frozen=True)
class SaveListRow:
    customer_no: str
    name: str  # masked
    tier: str  # the level's name
    manager: str
    churn_probability: Decimal
    top_reason: str
    value_at_risk: Decimal
    contribution: Decimal
    next_product: str

    @property
    def churn_percent(self) -> Decimal:
        return self.churn_probability * 100


def _first_product_ids(rows: Iterable[CustomerAnalysis]) -> set[int]:
    ids = set()
    for row in rows:
        first = row.next_products[0] if row.next_products else None
        if isinstance(first, dict) and isinstance(first.get("product"), int):
            ids.add(first["product"])
    return ids


def save_list_rows(
    rows: Sequence[CustomerAnalysis], *, tier_names: dict[str, str] | None = None
) -> list[SaveListRow]:
    """A page of the save list as the table shows it: names masked, tiers and
    products by name, the top churn reason as a sentence (a query for the products,
    and one for the level names unless given, whatever the page's size)."""
    from marketing.models import Product
    from vip.selectors import levels

    from .reasons import top_churn_reason

    rows = list(rows)
    if not rows:
        return []
    names = tier_names if tier_names is not None else levels.tier_names()
    ids = _first_product_ids(rows)
    products = dict(Product.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    shown = []
    for row in rows:
        customer = row.customer
        first = row.next_products[0] if row.next_products else None
        product = products.get(int(first.get("product") or 0)) if isinstance(first, dict) else None
        manager = customer.primary_manager
        shown.append(
            SaveListRow(
                customer_no=customer.customer_no,
                name=mask_name(customer.name),
                tier=str(levels.tier_label(customer.tier, names)),
                manager=(manager.display_name or manager.username) if manager is not None else "",
                churn_probability=row.churn_probability,
                top_reason=top_churn_reason(row),
                value_at_risk=row.value_at_risk,
                contribution=row.contribution,
                next_product=product or "",
            )
        )
    return shown
