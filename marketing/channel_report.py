"""Channel results (渠道业绩): per channel and period, what a business manager asks of
the bank's channels, and how far the VIPs of a branch have taken to one of them.

Who sees what. The report holds aggregates only: no customer is named, so nothing
is masked. Every figure counts the customers the user may see (`visible_to(user)`,
the data scope): head office the whole bank, a branch head their branch and those
below it, a client manager their own customers (and those shared with them). The
page is open to every reader of channels (`marketing.view_channel`), each held to
their scope; its Excel copy to those who may export marketing figures.

The figures of a channel, for a period (whole days, both ends included):

- contacts made: campaign contacts that went through the channel
  (`MarketingContact.via`) and occurred in the period; customers contacted: the
  customers of those contacts, each once;
- conversions: campaign targets converted by a sale dated in the period and
  carrying the channel (each target once); sales and sales amount: the sales
  carrying the channel (`Sale.channel`) dated in the period, confirmed or not;
- for a channel core banking reports transactions under (`transaction_channel`):
  customers transacting, transaction count and amount, from the daily transaction
  summaries (TXN_SUMMARY) of the period;
- VIP adoption: of the VIP customers (a customer holding a tier, merged records
  aside: the rule of the VIP report, `vip.selectors.reports.vip_by_branch`), how many
  transacted through the channel in the period, and their share.

A branch narrows every figure to the customers whose home branch is it or one
below it, as a branch head's scope does. The adoption of one channel is then shown
per branch of the level below the chosen branch (or below the user's own: branches
for head office, sub-branches or outlets for a branch head), customers homed on the
chosen branch itself in a row of its own.

Set-based: each family of figures (contacts, sales, transactions, VIPs) is one
query whose aggregates are filtered per channel beside the family's totals, so a
customer who used two channels counts once in the total; the adoption by branch is
two queries grouped by home branch. No query runs per channel, branch or customer.
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from accounts.models import Branch, BranchLevel, User
from accounts.scope import data_scope, visible_branches
from core.forms import BootstrapFormMixin
from core.months import month_back, month_end
from customers.choices import Channel as TransactionChannel
from customers.exports import neutralise
from customers.models import Customer, TransactionSummary
from vip.filters import BranchField
from vip.selectors.reports import vip_condition

from .models import Channel, MarketingContact, Sale

# A longer period reads too many daily transaction summaries for one page.
MAX_PERIOD_DAYS = 366
RECENT_MONTHS = 12
RECENT_QUARTERS = 4
DEFAULT_ADOPTION_CHANNEL = TransactionChannel.MOBILE

MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")


# --- the period -------------------------------------------------------------------------


def parse_period(value: str) -> tuple[datetime.date, datetime.date]:
    """A month (YYYY-MM) or a quarter (YYYY-Q1 … YYYY-Q4) as its first and last day."""
    value = value.strip()
    if match := MONTH.match(value):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12 and year >= 1900:
            start = datetime.date(year, month, 1)
            return start, month_end(start)
    elif match := QUARTER.match(value):
        year, quarter = int(match[1]), int(match[2])
        if year >= 1900:
            start = datetime.date(year, 3 * quarter - 2, 1)
            return start, month_end(datetime.date(year, 3 * quarter, 1))
    raise ValidationError(
        _("%(value)s is not a month (YYYY-MM) or a quarter (YYYY-Q1 to YYYY-Q4).") % {"value": value},
        code="invalid_period",
    )


def quarter_of(day: datetime.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def period_choices(today: datetime.date) -> list[tuple[str, str]]:
    """The recent months and quarters, the latest first, after the choice of dates."""
    this_month = today.replace(day=1)
    months = [month_back(this_month, k) for k in range(RECENT_MONTHS)]
    quarter_starts = [
        month_back(this_month.replace(month=3 * ((today.month - 1) // 3) + 1), 3 * k)
        for k in range(RECENT_QUARTERS)
    ]
    return [
        ("", _("From and to dates")),
        *[(f"{m:%Y-%m}", f"{m:%Y-%m}") for m in months],
        *[
            (quarter_of(q), _("%(year)s Q%(quarter)s") % {"year": q.year, "quarter": (q.month - 1) // 3 + 1})
            for q in quarter_starts
        ],
    ]


# --- the filters ------------------------------------------------------------------------


def channel_label(channel: Channel) -> str:
    if channel.is_active:
        return channel.name
    return _("%(name)s (switched off)") % {"name": channel.name}


class ChannelReportForm(BootstrapFormMixin, forms.Form):
    """The report's filters, read from the query string by the page and by its Excel
    copy alike: a month or a quarter (`period`), or from and to dates; a branch in
    the user's scope, by code; the channel whose adoption is shown per branch, by
    code. With none of the period's fields, the month of the latest business date."""

    period = forms.CharField(label=gettext_lazy("Period"), required=False, max_length=10)
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    branch = BranchField(
        label=gettext_lazy("Branch"),
        queryset=Branch.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("All my branches"),
        error_messages={"invalid_choice": gettext_lazy("No branch with this code in your scope.")},
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Adoption of"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy(
                "No channel with this code whose transactions core banking reports: choose one from the list."
            )
        },
    )

    def __init__(self, data, *, user: User, today: datetime.date):
        data = data.copy()
        if not any(data.get(name) for name in ("period", "start", "end")):
            data["period"] = f"{today:%Y-%m}"
        super().__init__(data)
        self.today = today
        choices = period_choices(today)
        asked = (data.get("period") or "").strip()
        if asked and asked not in dict(choices):  # an older period, from a bookmark
            try:
                parse_period(asked)
            except ValidationError:
                pass
            else:
                choices.insert(1, (asked, asked))
        self.fields["period"].widget = forms.Select(choices=choices, attrs={"class": "form-select"})
        branch_field = self.fields["branch"]
        assert isinstance(branch_field, forms.ModelChoiceField)
        branch_field.queryset = visible_branches(user).order_by("path")
        # every channel, read once: the report's rows and the adoption's choices
        self.channels = list(Channel.objects.order_by("position", "code"))
        self.adoption_channels = [c for c in self.channels if c.transaction_channel]
        channel_field = self.fields["channel"]
        assert isinstance(channel_field, forms.ChoiceField)
        channel_field.choices = [(c.code, channel_label(c)) for c in self.adoption_channels]
        if not data.get("channel"):  # the default shows as chosen, as the table reads it
            default = default_adoption_channel(self.adoption_channels)
            if default is not None:
                data["channel"] = default.code  # (the form's own copy of the query)

    def clean_channel(self) -> Channel | None:
        code = self.cleaned_data.get("channel")
        if not code:
            return default_adoption_channel(self.adoption_channels)
        return next(c for c in self.adoption_channels if c.code == code)

    def clean_period(self) -> tuple[datetime.date, datetime.date] | None:
        value = self.cleaned_data.get("period") or ""
        return parse_period(value) if value.strip() else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period, start, end = data.get("period"), data.get("start"), data.get("end")
        if self.errors:
            return data
        if period and (start or end):
            raise ValidationError(
                _("Choose a month or a quarter, or give from and to dates: not both."), code="two_periods"
            )
        if not period:
            if not (start and end):
                raise ValidationError(_("Give both the from and the to date."), code="half_period")
            if end < start:
                raise ValidationError(_("The to date is before the from date."), code="reversed_period")
            if (end - start).days + 1 > MAX_PERIOD_DAYS:
                raise ValidationError(
                    _("A period of at most %(days)s days, please.") % {"days": MAX_PERIOD_DAYS},
                    code="long_period",
                )
            period = (start, end)
        data["date_from"], data["date_to"] = period
        return data

    @property
    def params(self) -> dict[str, str]:
        """The valid filters as text (for the audit trail and the export's link)."""
        data = self.cleaned_data
        return {
            "from": data["date_from"].isoformat(),
            "to": data["date_to"].isoformat(),
            "branch": data["branch"].code if data.get("branch") else "",
            "channel": data["channel"].code if data.get("channel") else "",
        }


def default_adoption_channel(channels: list[Channel]) -> Channel | None:
    """Of the channels with transactions: mobile banking (the first core banking
    reports as MOBILE), else the first."""
    mobile = [c for c in channels if c.transaction_channel == DEFAULT_ADOPTION_CHANNEL]
    return next(iter(mobile or channels), None)


# --- the figures per channel ------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class ChannelRow:
    """A channel's figures (the totals row: `channel` None)."""

    label: str
    channel: Channel | None = None
    contacts: int = 0
    contacted: int = 0
    conversions: int = 0
    sales: int = 0
    amount: Decimal = Decimal("0")
    has_transactions: bool = False  # core banking reports its transactions
    transacting: int = 0
    txn_count: int = 0
    txn_amount: Decimal = Decimal("0")
    vip_transacting: int = 0
    vips: int = 0

    @property
    def switched_off(self) -> bool:
        return self.channel is not None and not self.channel.is_active

    @property
    def vip_share(self) -> float | None:
        return _share(self.vip_transacting, self.vips) if self.has_transactions else None

    @property
    def has_figures(self) -> bool:
        return bool(self.contacts or self.sales or self.txn_count or self.transacting)


@dataclass
class ChannelResults:
    date_from: datetime.date
    date_to: datetime.date
    branch: Branch | None
    rows: list[ChannelRow]
    totals: ChannelRow
    vips: int

    @property
    def is_empty(self) -> bool:
        return not self.totals.has_figures


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _in_branch(rows: QuerySet, branch: Branch | None, path: str = "customer") -> QuerySet:
    """Rows of customers homed on `branch` or below it. A list of ids, not a subquery:
    the planner then knows how many customers they hold (customers.querysets); read
    once per branch object (a page asks for several tables)."""
    if branch is None:
        return rows
    subtree = getattr(branch, "_subtree_ids", None)
    if subtree is None:
        subtree = list(Branch.objects.subtree(branch).values_list("pk", flat=True))
        branch._subtree_ids = subtree  # type: ignore[attr-defined]
    prefix = f"{path}__" if path else ""
    return rows.filter(**{f"{prefix}home_branch_id__in": subtree})


def vip_customers(*, user: User, branch: Branch | None = None) -> QuerySet[Customer]:
    return _in_branch(Customer.objects.visible_to(user), branch, path="").filter(vip_condition())


def _contact_figures(
    *, user: User, channels: list[Channel], start: datetime.date, end: datetime.date, branch: Branch | None
) -> dict[str, int]:
    contacts = _in_branch(MarketingContact.objects.visible_to(user), branch).filter(
        via_id__in=[c.pk for c in channels],
        occurred_at__gte=_day_start(start),
        occurred_at__lt=_day_start(end + datetime.timedelta(days=1)),
    )
    aggregates: dict[str, Any] = {
        "all_contacts": Count("pk"),
        "all_contacted": Count("customer_id", distinct=True),
    }
    for channel in channels:
        through = Q(via_id=channel.pk)
        aggregates[f"contacts_{channel.pk}"] = Count("pk", filter=through)
        aggregates[f"contacted_{channel.pk}"] = Count("customer_id", distinct=True, filter=through)
    return contacts.aggregate(**aggregates)


def _sale_figures(
    *, user: User, channels: list[Channel], start: datetime.date, end: datetime.date, branch: Branch | None
) -> dict[str, Any]:
    sales = _in_branch(Sale.objects.visible_to(user), branch).filter(
        channel_id__in=[c.pk for c in channels], sale_date__gte=start, sale_date__lte=end
    )
    aggregates: dict[str, Any] = {
        "all_sales": Count("pk"),
        "all_amount": Sum("amount"),
        # a target converted through two channels counts once in the total
        "all_conversions": Count("target_id", distinct=True),
    }
    for channel in channels:
        carrying = Q(channel_id=channel.pk)
        aggregates[f"sales_{channel.pk}"] = Count("pk", filter=carrying)
        aggregates[f"amount_{channel.pk}"] = Sum("amount", filter=carrying)
        aggregates[f"conversions_{channel.pk}"] = Count("target_id", distinct=True, filter=carrying)
    return sales.aggregate(**aggregates)


def _transaction_figures(
    *, user: User, codes: list[str], start: datetime.date, end: datetime.date, branch: Branch | None
) -> dict[str, Any]:
    summaries = _in_branch(TransactionSummary.objects.visible_to(user), branch).filter(
        channel__in=codes, business_date__gte=start, business_date__lte=end
    )
    vip = vip_condition("customer")
    aggregates: dict[str, Any] = {
        "all_transacting": Count("customer_id", distinct=True),
        "all_txn_count": Sum("txn_count"),
        "all_txn_amount": Sum("txn_amount"),
        "all_vip_transacting": Count("customer_id", distinct=True, filter=vip),
    }
    for code in codes:
        through = Q(channel=code)
        aggregates[f"transacting_{code}"] = Count("customer_id", distinct=True, filter=through)
        aggregates[f"txn_count_{code}"] = Sum("txn_count", filter=through)
        aggregates[f"txn_amount_{code}"] = Sum("txn_amount", filter=through)
        aggregates[f"vip_transacting_{code}"] = Count("customer_id", distinct=True, filter=through & vip)
    return summaries.aggregate(**aggregates)


def channel_results(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    branch: Branch | None = None,
    channels: list[Channel] | None = None,
) -> ChannelResults:
    """Every channel's figures for [start, end] (see the module docstring), in the
    channels' order: a switched-off channel only when it has figures. Four queries,
    and one for the channels unless given (all of them, in their order)."""
    if channels is None:
        channels = list(Channel.objects.order_by("position", "code"))
    codes = sorted({c.transaction_channel for c in channels if c.transaction_channel})
    scope: dict[str, Any] = {"user": user, "start": start, "end": end, "branch": branch}
    contacts = _contact_figures(channels=channels, **scope)
    sales = _sale_figures(channels=channels, **scope)
    transactions = _transaction_figures(codes=codes, **scope) if codes else {}
    vips = vip_customers(user=user, branch=branch).count()

    rows = []
    for channel in channels:
        code = channel.transaction_channel
        row = ChannelRow(
            label=channel_label(channel),
            channel=channel,
            contacts=contacts[f"contacts_{channel.pk}"],
            contacted=contacts[f"contacted_{channel.pk}"],
            conversions=sales[f"conversions_{channel.pk}"],
            sales=sales[f"sales_{channel.pk}"],
            amount=sales[f"amount_{channel.pk}"] or Decimal("0"),
            has_transactions=bool(code),
            vips=vips,
        )
        if code:
            row.transacting = transactions[f"transacting_{code}"]
            row.txn_count = transactions[f"txn_count_{code}"] or 0
            row.txn_amount = transactions[f"txn_amount_{code}"] or Decimal("0")
            row.vip_transacting = transactions[f"vip_transacting_{code}"]
        if channel.is_active or row.has_figures:
            rows.append(row)
    totals = ChannelRow(
        label=_("Total"),
        contacts=contacts["all_contacts"],
        contacted=contacts["all_contacted"],
        conversions=sales["all_conversions"],
        sales=sales["all_sales"],
        amount=sales["all_amount"] or Decimal("0"),
        has_transactions=bool(codes),
        transacting=transactions.get("all_transacting") or 0,
        txn_count=transactions.get("all_txn_count") or 0,
        txn_amount=transactions.get("all_txn_amount") or Decimal("0"),
        vip_transacting=transactions.get("all_vip_transacting") or 0,
        vips=vips,
    )
    return ChannelResults(date_from=start, date_to=end, branch=branch, rows=rows, totals=totals, vips=vips)


# --- the adoption of one channel by branch ----------------------------------------------


@dataclass
class AdoptionRow:
    label: str
    branch: Branch | None = None
    vips: int = 0
    transacting: int = 0

    @property
    def share(self) -> float | None:
        return _share(self.transacting, self.vips)


@dataclass
class Adoption:
    channel: Channel
    rows: list[AdoptionRow]
    totals: AdoptionRow


def adoption_branches(user: User, branch: Branch | None) -> tuple[Branch | None, list[Branch]]:
    """The branch the table breaks down (the chosen one, else the user's own; head
    office: none, the whole bank) and the branches of its rows, in order: those of
    the level below it in the user's scope."""
    scope = data_scope(user)
    root = branch or (None if scope.sees_all else scope.branch)
    if root is None:
        rows = visible_branches(user).filter(level=BranchLevel.BRANCH)
    else:
        rows = visible_branches(user).subtree(root).filter(level=root.level + 1)
    return root, list(rows.order_by("path"))


def channel_adoption(
    *,
    user: User,
    channel: Channel,
    start: datetime.date,
    end: datetime.date,
    branch: Branch | None = None,
) -> Adoption:
    """Per branch (`adoption_branches`): its VIP customers (homed on it or below it),
    how many of them transacted through `channel` in [start, end], and the share.
    VIPs homed on the broken-down branch itself, and a client manager's customers
    homed elsewhere, have a row of their own. Three queries."""
    root, branches = adoption_branches(user, branch)
    vips = (
        vip_customers(user=user, branch=branch).order_by().values("home_branch__path").annotate(n=Count("pk"))
    )
    transacting = (
        _in_branch(TransactionSummary.objects.visible_to(user), branch)
        .filter(
            vip_condition("customer"),
            channel=channel.transaction_channel,
            business_date__gte=start,
            business_date__lte=end,
        )
        .order_by()
        .values("customer__home_branch__path")
        .annotate(n=Count("customer_id", distinct=True))
    )
    rows = [AdoptionRow(label=b.name, branch=b) for b in branches]
    if root is None:
        itself = AdoptionRow(label=_("Head office"))
    else:
        itself = AdoptionRow(label=_("%(branch)s itself") % {"branch": root.name} if rows else root.name)
    elsewhere = AdoptionRow(label=_("Other branches"))

    def owner(path: str | None) -> AdoptionRow:
        # branches of one level: at most one path starts a customer's branch's path
        for row in rows:
            if row.branch is not None and (path or "").startswith(row.branch.path):
                return row
        if root is None or (path or "").startswith(root.path):
            return itself
        return elsewhere

    for group in vips:
        owner(group["home_branch__path"]).vips += group["n"]
    for group in transacting:
        owner(group["customer__home_branch__path"]).transacting += group["n"]
    shown = rows + [r for r in (itself, elsewhere) if r.vips or (r is itself and not rows)]
    totals = AdoptionRow(
        label=_("Total"), vips=sum(r.vips for r in shown), transacting=sum(r.transacting for r in shown)
    )
    return Adoption(channel=channel, rows=shown, totals=totals)


# --- the chart ---------------------------------------------------------------------------


def report_chart(results: ChannelResults, adoption: Adoption | None) -> dict[str, Any]:
    """The chart's data (static/js/channel_report.js): sales amount and contacts per
    channel; the adoption share per branch."""
    chart: dict[str, Any] = {
        "channels": {
            "labels": [r.label for r in results.rows],
            "amount": [float(r.amount) for r in results.rows],
            "contacts": [r.contacts for r in results.rows],
            "amount_label": _("Sales amount (CNY)"),
            "contacts_label": _("Contacts made"),
        }
    }
    if adoption is not None:
        chart["adoption"] = {
            "labels": [r.label for r in adoption.rows],
            "share": [r.share or 0 for r in adoption.rows],
            "label": _("VIPs transacting through %(channel)s (%%)") % {"channel": adoption.channel.name},
        }
    return chart


# --- the Excel copy ----------------------------------------------------------------------

MONEY_FORMAT = "#,##0.00"
SHARE_FORMAT = "0.0"


def _cells(sheet, values: list[Any], formats: dict[int, str] | None = None) -> list[Any]:
    """A row of cells: text neutralised against formulas, numbers as numbers with
    their format where one is given (by column)."""
    cells = []
    for column, value in enumerate(values):
        cell = WriteOnlyCell(sheet, value=neutralise(value))
        if formats and column in formats and isinstance(value, (int, float, Decimal)):
            cell.number_format = formats[column]
        cells.append(cell)
    return cells


def channel_report_workbook(results: ChannelResults, adoption: Adoption | None) -> tuple[bytes, int]:
    """The page's two tables as a workbook (its bytes, and how many data rows)."""
    book = Workbook(write_only=True)
    period = [_("From"), results.date_from.isoformat(), _("to"), results.date_to.isoformat()]
    branch = [_("Branch"), results.branch.name if results.branch else _("All my branches")]

    sheet = book.create_sheet(_("Results by channel")[:31])
    sheet.append(_cells(sheet, period))
    sheet.append(_cells(sheet, branch))
    sheet.append(
        _cells(
            sheet,
            [
                _("Channel"),
                _("Contacts made"),
                _("Customers contacted"),
                _("Conversions"),
                _("Sales"),
                _("Sales amount (CNY)"),
                _("Customers transacting"),
                _("Transactions"),
                _("Transaction amount (CNY)"),
                _("VIPs transacting"),
                _("VIP adoption (%)"),
            ],
        )
    )
    formats = {5: MONEY_FORMAT, 8: MONEY_FORMAT, 10: SHARE_FORMAT}
    rows = 0
    for row in [*results.rows, results.totals]:
        values: list[Any] = [row.label, row.contacts, row.contacted, row.conversions, row.sales, row.amount]
        if row.has_transactions:
            values += [row.transacting, row.txn_count, row.txn_amount, row.vip_transacting, row.vip_share]
        else:
            values += [None] * 5
        sheet.append(_cells(sheet, values, formats))
        rows += 1
    sheet.append(_cells(sheet, [_("VIP customers"), results.vips]))

    if adoption is not None:
        sheet = book.create_sheet(_("Adoption by branch")[:31])
        sheet.append(_cells(sheet, period))
        sheet.append(_cells(sheet, [_("Channel"), adoption.channel.name]))
        sheet.append(
            _cells(sheet, [_("Branch"), _("VIP customers"), _("VIPs transacting"), _("VIP adoption (%)")])
        )
        for line in [*adoption.rows, adoption.totals]:
            sheet.append(
                _cells(sheet, [line.label, line.vips, line.transacting, line.share], {3: SHARE_FORMAT})
            )
            rows += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), rows
