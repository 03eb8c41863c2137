"""The indicator library's kinds (考核指标库): what each computes, its parameters, and
the registry that answers `actuals(indicator, start, end)`.

An indicator (`marketing.models.Indicator`) is a row naming a kind and its
parameters. Every kind answers the same question for a date range [start, end]:
rows of (manager id or None, branch id, value), one per manager and branch the
figure is attributed to. Attribution is the house rule: the customer's manager of
record on the day of the event (`manager_of_record_on`) and that manager's branch,
or the customer's home branch when nobody looked after the customer that day.
Sales carry that attribution already (`marketing.sales` writes it when it records
the sale), so the sales kinds read it from the sale.

Kinds, their parameters (* required; the others optional) and their value:

- balance_end: categories* (account categories). CNY balance on the last loaded
  business date ≤ end.
- sales_amount: categories, products (catalogue codes). CNY of confirmed sales.
- sales_count: categories, products, distinct_products_per_customer (true: each
  product type a customer bought counts once). Confirmed sales.
- new_accounts: categories, products. Accounts opened.
- intermediary_income: income_types. CNY of INCOME.dat rows.
- new_customers: payroll (true: a first payroll-product sale, no payroll account
  before the range) or payroll_link (true: a first payroll relationship with an
  employer, customers.employers, started in the range). Customers whose first
  account opened in the range.
- new_vips: tier (default gold). Customers upgraded from below the tier to it or above.
- tier_upgrades: tier (the lowest tier reached; default any). Customers moved to a
  tier with a higher threshold.
- lost_vips: tier (default gold). Customers moved from the tier or above to below it.
- contacts: kinds (contact kinds), marketing_only. Visits, calls, SMS, WeChat, e-mail.
- campaign_conversions: campaigns (ids). Campaign targets converted in the range.
- task_completion: task* (id). Percent of each manager's share of the task achieved.
- increment: base* (previous_period / same_period_last_year) and either figure or
  of ({"kind": ..., "params": {...}}). The measure over the range minus the same
  measure over the base period (`base_period`).
- balance_avg: figure* (deposit / loan / aum). Registered by performance.
- contribution: figure* (liability / asset / intermediary / total). Registered by
  performance.

`register(kind, function)` lets a higher app (performance) compute a kind at its
ready time; marketing never imports it. `function(indicator, start, end)` returns
an iterable of `IndicatorActual` (or of (manager_id, branch_id, value) tuples).
A kind with nothing registered raises `IndicatorNotRegistered`.
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat, Least, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from customers.choices import AccountCategory, BatchStatus, IncomeType
from customers.models import (
    Account,
    AccountBalance,
    BatchLoad,
    Customer,
    CustomerAssignment,
    IncomeEntry,
    PayrollLink,
)
from vip.standards import CONTACT_KINDS

from .choices import IndicatorKind, TargetStatus

if TYPE_CHECKING:
    from .models import Indicator

Rows = list["IndicatorActual"]
Computation = Callable[["Indicator", datetime.date, datetime.date], Iterable[Any]]


@dataclass(frozen=True)
class IndicatorActual:
    """A figure of an indicator attributed to a manager (None: nobody looked after
    the customers; the figure is the branch's) and a branch."""

    manager_id: int | None
    branch_id: int | None
    value: Decimal


class IndicatorNotRegistered(ValidationError):
    """An indicator whose kind nothing computes (yet): the app that computes it has
    not registered it."""


# --- the registry ----------------------------------------------------------------------

_REGISTRY: dict[str, Computation] = {}

# Kinds that need the performance engine's figures: performance registers them.
REGISTERED_ELSEWHERE = frozenset({IndicatorKind.BALANCE_AVG, IndicatorKind.CONTRIBUTION})


def register(kind: str, function: Computation) -> None:
    """Compute indicators of `kind` with `function(indicator, start, end)`. A later
    registration of the same kind replaces the earlier one (performance may replace
    the default `increment`)."""
    if kind not in IndicatorKind.values:
        raise ValueError(f"Unknown indicator kind {kind!r}.")
    _REGISTRY[kind] = function


def registered(kind: str) -> bool:
    return kind in _REGISTRY


def actuals(indicator: Indicator, start: datetime.date, end: datetime.date) -> list[IndicatorActual]:
    """The indicator's figures over [start, end], by manager and branch."""
    if end < start:
        return []
    function = _REGISTRY.get(indicator.kind)
    if function is None:
        raise IndicatorNotRegistered(
            _("Nothing computes indicators of the kind “%(kind)s” (%(indicator)s): it is not registered.")
            % {"kind": IndicatorKind(indicator.kind).label, "indicator": indicator.code or indicator.name}
        )
    return [
        row if isinstance(row, IndicatorActual) else IndicatorActual(*row)
        for row in function(indicator, start, end)
    ]


# --- parameters --------------------------------------------------------------------------

BALANCE_FIGURES = ("deposit", "loan", "aum")
CONTRIBUTION_FIGURES = ("liability", "asset", "intermediary", "total")
BASE_PERIODS = ("previous_period", "same_period_last_year")


def _codes(value: Any, allowed: Iterable[str], what: str) -> list[str]:
    allowed = list(allowed)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("%(what)s: give a non-empty list of codes.") % {"what": what})
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise ValidationError(_("Unknown %(what)s: %(codes)s.") % {"what": what, "codes": ", ".join(unknown)})
    return sorted(set(value))


def _categories(value: Any) -> list[str]:
    return _codes(value, AccountCategory.values, _("account category"))


def _products(value: Any) -> list[str]:
    from .models import Product

    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("product: give a non-empty list of codes."))
    return _codes(value, Product.objects.filter(code__in=value).values_list("code", flat=True), _("product"))


def _income_types(value: Any) -> list[str]:
    return _codes(value, IncomeType.values, _("income type"))


def _contact_kinds(value: Any) -> list[str]:
    return _codes(value, CONTACT_KINDS, _("contact kind"))


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(_("Say true or false."))
    return value


def _tier(value: Any) -> str:
    from vip.models import TierLevel

    if not isinstance(value, str) or not TierLevel.objects.filter(code=value).exists():
        raise ValidationError(_("Unknown tier %(tier)s.") % {"tier": value})
    return value


def _ids(model_name: str, what: Any) -> Callable[[Any], list[int]]:
    def check(value: Any) -> list[int]:
        from django.apps import apps

        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            raise ValidationError(_("%(what)s: give a non-empty list of numbers.") % {"what": what})
        model = apps.get_model("marketing", model_name)
        found = set(model.objects.filter(pk__in=value).values_list("pk", flat=True))
        missing = [str(v) for v in value if v not in found]
        if missing:
            raise ValidationError(_("Unknown %(what)s: %(ids)s.") % {"what": what, "ids": ", ".join(missing)})
        return sorted(set(value))

    return check


def _task(value: Any) -> int:
    from .models import MarketingTask

    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(_("Give the number of a marketing task."))
    task = MarketingTask.objects.select_related("indicator").filter(pk=value).first()
    if task is None:
        raise ValidationError(_("Unknown marketing task %(id)s.") % {"id": value})
    if task.indicator.kind == IndicatorKind.TASK_COMPLETION:
        raise ValidationError(_("That task measures a task completion itself; choose another task."))
    return value


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValidationError(
                _("Choose one of %(choices)s, not %(value)s.")
                % {"choices": ", ".join(choices), "value": value}
            )
        return value

    return check


def _measure(value: Any) -> dict[str, Any]:
    """The measure an increment compares: {"kind": ..., "params": {...}}."""
    if not isinstance(value, dict) or set(value) - {"kind", "params"} or "kind" not in value:
        raise ValidationError(_("Give the measure as a kind and its parameters."))
    kind = value["kind"]
    if kind not in IndicatorKind.values:
        raise ValidationError(_("Unknown indicator kind %(kind)s.") % {"kind": kind})
    if kind in (IndicatorKind.INCREMENT, IndicatorKind.TASK_COMPLETION):
        raise ValidationError(_("An increment cannot measure an increment or a task completion."))
    return {"kind": kind, "params": validate_params(kind, value.get("params") or {})}


@dataclass(frozen=True)
class Param:
    check: Callable[[Any], Any]
    required: bool = False


_CATALOGUE = {"categories": Param(_categories), "products": Param(_products)}
PARAMS: dict[str, dict[str, Param]] = {
    IndicatorKind.BALANCE_END: {"categories": Param(_categories, required=True)},
    IndicatorKind.BALANCE_AVG: {"figure": Param(_one_of(BALANCE_FIGURES), required=True)},
    IndicatorKind.CONTRIBUTION: {"figure": Param(_one_of(CONTRIBUTION_FIGURES), required=True)},
    IndicatorKind.INCREMENT: {
        "figure": Param(_one_of(BALANCE_FIGURES + CONTRIBUTION_FIGURES)),
        "of": Param(_measure),
        "base": Param(_one_of(BASE_PERIODS), required=True),
    },
    IndicatorKind.SALES_AMOUNT: _CATALOGUE,
    IndicatorKind.SALES_COUNT: {**_CATALOGUE, "distinct_products_per_customer": Param(_flag)},
    IndicatorKind.NEW_ACCOUNTS: _CATALOGUE,
    IndicatorKind.INTERMEDIARY_INCOME: {"income_types": Param(_income_types)},
    IndicatorKind.NEW_CUSTOMERS: {"payroll": Param(_flag), "payroll_link": Param(_flag)},
    IndicatorKind.NEW_VIPS: {"tier": Param(_tier)},
    IndicatorKind.TIER_UPGRADES: {"tier": Param(_tier)},
    IndicatorKind.LOST_VIPS: {"tier": Param(_tier)},
    IndicatorKind.CONTACTS: {"kinds": Param(_contact_kinds), "marketing_only": Param(_flag)},
    IndicatorKind.CAMPAIGN_CONVERSIONS: {"campaigns": Param(_ids("Campaign", gettext_lazy("campaign")))},
    IndicatorKind.TASK_COMPLETION: {"task": Param(_task, required=True)},
}


def validate_params(kind: str, params: Any) -> dict[str, Any]:
    """The parameters of an indicator of `kind`, checked (lists sorted, duplicates
    dropped); a ValidationError on `params` says everything wrong with them."""
    if kind not in PARAMS:
        raise ValidationError({"kind": _("Unknown indicator kind %(kind)s.") % {"kind": kind}})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationError({"params": _("Parameters are a JSON object of names and values.")})
    spec = PARAMS[kind]
    errors: list[str] = []
    cleaned: dict[str, Any] = {}
    for name in params:
        if name not in spec:
            errors.append(
                _("“%(name)s” is not a parameter of this kind (it takes: %(names)s).")
                % {"name": name, "names": ", ".join(spec) or "-"}
            )
    for name, param in spec.items():
        if name not in params:
            if param.required:
                errors.append(_("The parameter “%(name)s” is missing.") % {"name": name})
            continue
        try:
            cleaned[name] = param.check(params[name])
        except ValidationError as exc:
            errors.extend(f"{name}: {message}" for message in exc.messages)
    if kind == IndicatorKind.INCREMENT and ("figure" in params) == ("of" in params):
        errors.append(
            _("An increment measures either a figure or a kind with parameters (“of”), one of them.")
        )
    if kind == IndicatorKind.NEW_CUSTOMERS and cleaned.get("payroll") and cleaned.get("payroll_link"):
        errors.append(
            _("New payroll customers count either from sales (“payroll”) or from employers (“payroll_link”).")
        )
    if errors:
        raise ValidationError({"params": errors})
    return cleaned


# --- attribution -------------------------------------------------------------------------


def manager_of_record_on(date_field: str, *, customer_field: str = "customer_id") -> Subquery:
    """Subquery: the customer's manager of record on the row's `date_field` (the
    primary assignment that started on or before it and had not ended by it)."""
    return Subquery(
        CustomerAssignment.objects.filter(
            customer_id=OuterRef(customer_field), role="primary", start_date__lte=OuterRef(date_field)
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=OuterRef(date_field)))
        .order_by("-start_date", "-id")
        .values("manager_id")[:1]
    )


def attributed(
    rows: QuerySet, *, date_field: str, value: Aggregate, customer_field: str = "customer_id"
) -> Rows:
    """Group event rows (each with a customer and a date) by the manager of record
    on the event's date and that manager's branch, or the customer's home branch
    when nobody looked after the customer; one query."""
    home = Customer.objects.filter(pk=OuterRef(customer_field)).values("home_branch_id")[:1]
    manager_branch = User.objects.filter(pk=OuterRef("manager_then")).values("branch_id")[:1]
    grouped = (
        rows.annotate(manager_then=manager_of_record_on(date_field, customer_field=customer_field))
        .annotate(branch_then=Coalesce(Subquery(manager_branch), Subquery(home)))
        .values("manager_then", "branch_then")
        .annotate(value=value)
        .order_by()
    )
    return [IndicatorActual(r["manager_then"], r["branch_then"], Decimal(r["value"] or 0)) for r in grouped]


def _stored(rows: QuerySet, value: Aggregate) -> Rows:
    """Group rows that carry their attribution (manager_id, branch_id)."""
    grouped = rows.values("manager_id", "branch_id").annotate(value=value).order_by()
    return [IndicatorActual(r["manager_id"], r["branch_id"], Decimal(r["value"] or 0)) for r in grouped]


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


# --- tier changes: THE one place marketing reads them -----------------------------------


def tier_threshold_codes(tier: str) -> QuerySet:
    """Codes of the tier levels at or above `tier` (by AUM threshold); none when
    there is no such level."""
    from vip.models import TierLevel

    threshold = TierLevel.objects.filter(code=tier).values("aum_threshold")[:1]
    return TierLevel.objects.filter(aum_threshold__gte=Subquery(threshold)).values("code")


def tier_changes(start: datetime.date, end: datetime.date, *, tier: str, upward: bool = True) -> QuerySet:
    """The VIP app's tier history (`vip.models.TierChange`) in [start, end] that
    crosses `tier`: upward, from below it (or no tier) to it or above; downward,
    from it or above to below it (or no tier). Rows with customer_id and
    effective_date."""
    from vip.models import TierChange

    high = tier_threshold_codes(tier)
    changes = TierChange.objects.filter(effective_date__gte=start, effective_date__lte=end)
    if upward:
        changes = changes.filter(to_tier__in=high).exclude(from_tier__in=high)
    else:
        changes = changes.filter(from_tier__in=high).exclude(to_tier__in=high)
    return changes


def _default_tier() -> str:
    return getattr(settings, "MARKETING_GOLD_TIER", "gold")


# --- the kinds computed here --------------------------------------------------------------


def _sales(indicator: Indicator, start: datetime.date, end: datetime.date) -> QuerySet:
    from .models import Sale

    params = indicator.params or {}
    # A sale counts once core banking has reported its account.
    sales = Sale.objects.filter(sale_date__gte=start, sale_date__lte=end, account__isnull=False)
    if params.get("categories"):
        sales = sales.filter(category__in=params["categories"])
    if params.get("products"):
        sales = sales.filter(product_code__in=params["products"])
    return sales


def sales_amount(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    return _stored(_sales(indicator, start, end), Sum("amount"))


def sales_count(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    if (indicator.params or {}).get("distinct_products_per_customer"):
        # each product type a customer bought counts once
        pair = Concat(Cast("customer_id", CharField()), Value(":"), "product_code", output_field=CharField())
        return _stored(_sales(indicator, start, end), Count(pair, distinct=True))
    return _stored(_sales(indicator, start, end), Count("pk"))


def new_accounts(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    params = indicator.params or {}
    accounts = Account.objects.filter(open_date__gte=start, open_date__lte=end)
    if params.get("categories"):
        accounts = accounts.filter(category__in=params["categories"])
    if params.get("products"):
        accounts = accounts.filter(product_code__in=params["products"])
    return attributed(accounts, date_field="open_date", value=Count("pk"))


def intermediary_income(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    income = IncomeEntry.objects.filter(business_date__gte=start, business_date__lte=end)
    if (indicator.params or {}).get("income_types"):
        income = income.filter(income_type__in=indicator.params["income_types"])
    return attributed(income, date_field="business_date", value=Sum("cny_amount"))


def new_customers(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    from .models import Product, Sale

    if (indicator.params or {}).get("payroll_link"):
        # New payroll customers from the employers' register: customers whose first
        # payroll relationship with an employer started in the range (one who moves
        # to another employer is not new), for the manager of record on that day.
        earlier_link = PayrollLink.objects.filter(
            customer_id=OuterRef("customer_id"), since__lt=OuterRef("since")
        )
        links = PayrollLink.objects.filter(since__gte=start, since__lte=end).exclude(Exists(earlier_link))
        return attributed(links, date_field="since", value=Count("customer_id", distinct=True))
    if (indicator.params or {}).get("payroll"):
        # New payroll customers: a confirmed sale of a payroll product in the range
        # to a customer with no payroll account opened before the range.
        payroll_codes = Product.objects.filter(is_payroll=True).values("code")
        earlier = Account.objects.filter(
            customer_id=OuterRef("customer_id"), product_code__in=payroll_codes, open_date__lt=start
        )
        sales = Sale.objects.filter(
            sale_date__gte=start, sale_date__lte=end, account__isnull=False, product__is_payroll=True
        ).exclude(Exists(earlier))
        return _stored(sales, Count("customer_id", distinct=True))
    # Customers whose first account opened in the range, for the manager of record
    # on that day.
    earlier = Account.objects.filter(customer_id=OuterRef("customer_id"), open_date__lt=OuterRef("open_date"))
    firsts = Account.objects.filter(open_date__gte=start, open_date__lte=end).exclude(Exists(earlier))
    return attributed(firsts, date_field="open_date", value=Count("customer_id", distinct=True))


def new_vips(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    tier = (indicator.params or {}).get("tier") or _default_tier()
    return attributed(
        tier_changes(start, end, tier=tier),
        date_field="effective_date",
        value=Count("customer_id", distinct=True),
    )


def lost_vips(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    tier = (indicator.params or {}).get("tier") or _default_tier()
    return attributed(
        tier_changes(start, end, tier=tier, upward=False),
        date_field="effective_date",
        value=Count("customer_id", distinct=True),
    )


def tier_upgrades(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    """Customers moved to a tier with a higher AUM threshold than the one they had
    (no tier counts as below every tier); with `tier`, only moves to it or above."""
    from vip.models import TierChange, TierLevel

    def threshold(field: str) -> Subquery:
        return Subquery(TierLevel.objects.filter(code=OuterRef(field)).values("aum_threshold")[:1])

    changes = (
        TierChange.objects.filter(effective_date__gte=start, effective_date__lte=end)
        .annotate(
            to_threshold=threshold("to_tier"),
            from_threshold=Coalesce(threshold("from_tier"), Value(Decimal("0"))),
        )
        .filter(to_threshold__gt=F("from_threshold"))
    )
    tier = (indicator.params or {}).get("tier")
    if tier:
        changes = changes.filter(to_tier__in=tier_threshold_codes(tier))
    return attributed(changes, date_field="effective_date", value=Count("customer_id", distinct=True))


def balance_end(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    """Balances of the categories on the last loaded business date ≤ end, for the
    manager of record that day."""
    day = BatchLoad.objects.filter(status=BatchStatus.LOADED, business_date__lte=end).aggregate(
        day=Max("business_date")
    )["day"]
    if day is None:
        return []
    balances = AccountBalance.objects.filter(
        business_date=day, account__category__in=(indicator.params or {}).get("categories") or []
    ).annotate(holder_id=F("account__customer_id"))
    return attributed(
        balances, date_field="business_date", customer_field="holder_id", value=Sum("cny_balance")
    )


def contacts(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    """Contacts with customers (the timeline's visits, calls, SMS, WeChat and
    e-mail; a marketing contact is one of them), counted for the manager of record
    on the day of the contact."""
    from customers.models import Interaction

    from .models import MarketingContact

    params = indicator.params or {}
    rows = Interaction.objects.filter(
        occurred_at__gte=_day_start(start),
        occurred_at__lt=_day_start(end + datetime.timedelta(days=1)),
        kind__in=params.get("kinds") or CONTACT_KINDS,
    )
    if params.get("marketing_only"):
        rows = rows.filter(Exists(MarketingContact.objects.filter(interaction_id=OuterRef("pk"))))
    rows = rows.annotate(contact_day=TruncDate("occurred_at"))
    return attributed(rows, date_field="contact_day", value=Count("pk"))


def campaign_conversions(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    """Converted campaign targets, on the day they converted: the first sale linked
    to the target or the first contact with the outcome "converted", whichever came
    first."""
    from .choices import ContactOutcome
    from .models import CampaignTarget, MarketingContact, Sale

    first_sale = Sale.objects.filter(target_id=OuterRef("pk")).order_by("sale_date").values("sale_date")[:1]
    first_contact = (
        MarketingContact.objects.filter(target_id=OuterRef("pk"), outcome=ContactOutcome.CONVERTED)
        .annotate(day=TruncDate("occurred_at"))
        .order_by("occurred_at")
        .values("day")[:1]
    )
    targets = CampaignTarget.objects.filter(status=TargetStatus.CONVERTED)
    if (indicator.params or {}).get("campaigns"):
        targets = targets.filter(campaign_id__in=indicator.params["campaigns"])
    sale_day, contact_day = Subquery(first_sale), Subquery(first_contact)
    targets = targets.annotate(
        # the earlier of the two; either may be missing (LEAST treats NULL
        # differently on each database, so both arguments are never NULL alone)
        converted_on=Least(Coalesce(sale_day, contact_day), Coalesce(contact_day, sale_day))
    ).filter(converted_on__gte=start, converted_on__lte=end)
    return attributed(targets, date_field="converted_on", value=Count("pk"))


def task_completion(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    """Each manager's share of the task: what they achieved of the task's
    indicator from the task's start up to `end` (within the task's period), in
    percent of their target."""
    from .models import MarketingTask, TaskAllocation

    task = MarketingTask.objects.select_related("indicator").get(pk=(indicator.params or {})["task"])
    if task.indicator.kind == IndicatorKind.TASK_COMPLETION:
        raise ValidationError(_("A task completion cannot measure a task that measures a task completion."))
    until = min(end, task.period_end)
    shares = list(
        TaskAllocation.objects.filter(task=task, manager__isnull=False).values_list(
            "manager_id", "manager__branch_id", "target"
        )
    )
    achieved: dict[int, Decimal] = defaultdict(Decimal)
    for row in actuals(task.indicator, task.period_start, until):
        if row.manager_id:
            achieved[row.manager_id] += row.value
    return [
        IndicatorActual(
            manager_id, branch_id, (achieved[manager_id] * 100 / target).quantize(Decimal("0.01"))
        )
        for manager_id, branch_id, target in shares
        if target
    ]


# --- increments ---------------------------------------------------------------------------


def base_period(start: datetime.date, end: datetime.date, base: str) -> tuple[datetime.date, datetime.date]:
    """The range an increment compares [start, end] with: the same range a year
    earlier, or the period just before (whole months shift by months: May → April,
    a quarter → the quarter before; any other range by its length in days)."""
    if base == "same_period_last_year":
        return _years_back(start, 1), _years_back(end, 1)
    if start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        base_start = _months_back(start, months)
        base_end = _months_back(start, 1)
        return base_start, base_end.replace(day=calendar.monthrange(base_end.year, base_end.month)[1])
    length = end - start + datetime.timedelta(days=1)
    return start - length, end - length


def _months_back(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _years_back(day: datetime.date, years: int) -> datetime.date:
    year = day.year - years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def increment_measure(indicator: Indicator) -> Indicator:
    """The (unsaved) indicator an increment compares between its periods."""
    from .models import Indicator

    params = indicator.params or {}
    if "of" in params:
        kind, measure_params = params["of"]["kind"], params["of"].get("params") or {}
    elif params.get("figure") in BALANCE_FIGURES:
        kind, measure_params = IndicatorKind.BALANCE_AVG, {"figure": params["figure"]}
    else:
        kind, measure_params = IndicatorKind.CONTRIBUTION, {"figure": params.get("figure")}
    return Indicator(
        code=f"{indicator.code}-measure",
        name=indicator.name,
        kind=kind,
        params=measure_params,
        unit=indicator.unit,
    )


def increment(indicator: Indicator, start: datetime.date, end: datetime.date) -> Rows:
    """The measure over [start, end] minus the measure over the base period, per
    manager and branch (a manager with figures in only one of them counts them)."""
    measure = increment_measure(indicator)
    base_start, base_end = base_period(start, end, (indicator.params or {}).get("base", "previous_period"))
    change: dict[tuple[int | None, int | None], Decimal] = defaultdict(Decimal)
    for row in actuals(measure, start, end):
        change[(row.manager_id, row.branch_id)] += row.value
    for row in actuals(measure, base_start, base_end):
        change[(row.manager_id, row.branch_id)] -= row.value
    return [IndicatorActual(m, b, v) for (m, b), v in change.items()]


register(IndicatorKind.BALANCE_END, balance_end)
register(IndicatorKind.SALES_AMOUNT, sales_amount)
register(IndicatorKind.SALES_COUNT, sales_count)
register(IndicatorKind.NEW_ACCOUNTS, new_accounts)
register(IndicatorKind.INTERMEDIARY_INCOME, intermediary_income)
register(IndicatorKind.NEW_CUSTOMERS, new_customers)
register(IndicatorKind.NEW_VIPS, new_vips)
register(IndicatorKind.TIER_UPGRADES, tier_upgrades)
register(IndicatorKind.LOST_VIPS, lost_vips)
register(IndicatorKind.CONTACTS, contacts)
register(IndicatorKind.CAMPAIGN_CONVERSIONS, campaign_conversions)
register(IndicatorKind.TASK_COMPLETION, task_completion)
# A default that works whenever the measure's kind is computed; performance may
# register its own.
register(IndicatorKind.INCREMENT, increment)
