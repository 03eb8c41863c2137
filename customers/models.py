"""The party model after the bank's ECIF subjects: party (customer), contact point,
arrangement (account) with its daily balances, event (interaction), resource item
(other asset) and relationship; plus household, AUM and the assignment of each
customer to their manager of record.

The daily tables (balances, AUM, transaction summaries) are narrow and keyed by
(business date, id) so that they can be range-partitioned by month on PostgreSQL
without a change of key."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.managers import UserObjectPermissionManager
from guardian.models import UserObjectPermissionBase

from accounts.models import Branch
from core.money import MONEY

from . import crypto
from .choices import (
    AccountCategory,
    AccountStatus,
    AssetKind,
    AssignmentRole,
    BatchFilePhase,
    BatchStatus,
    BirthdayCalendar,
    Channel,
    ContactType,
    CustomerStatus,
    Education,
    ExportStatus,
    Gender,
    HouseholdRole,
    IdType,
    IncomeType,
    InteractionKind,
    Marital,
    QualityIssueKind,
    QualityIssueStatus,
    RelationType,
    RiskClass,
    RiskLevel,
)
from .crypto import cipher
from .employer_choices import Industry
from .querysets import (
    CustomerHeldQuerySet,
    CustomerQuerySet,
    GrantQuerySet,
    HeldThroughAccount,
    MergeQuerySet,
    QualityIssueQuerySet,
    customer_scope,
)
from .search_text import name_search


def contact_lookup_hash(contact_type: str, value: str) -> str:
    """Mobiles are looked up by the same blind index as the customer's mobile."""
    if contact_type != ContactType.MOBILE or not value:
        return ""
    return cipher().blind_index(value, context=crypto.MOBILE)


class Household(models.Model):
    """A family (家庭): its members are customers; its AUM is theirs combined."""

    name = models.CharField(_("household name"), max_length=60)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("household (家庭)")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.name


# What a search tests (scope, filters) and sorts by, carried by the name indexes.
SEARCH_COVERED = [
    "id",
    "aum",
    "merged_into",
    "home_branch",
    "primary_manager",
    "status",
    "tier",
    "birth_date",
]


class Customer(models.Model):
    """A personal customer (个人客户): one customer number per person, bank-wide."""

    customer_no = models.CharField(_("customer number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    id_type = models.CharField(_("ID type"), max_length=2, choices=IdType.choices)
    # Identifiers are stored encrypted (customers.crypto) with a blind index for exact
    # lookup and the plain last digits for partial lookup; `id_number` and `mobile`
    # below are properties that decrypt and encrypt.
    id_number_enc = models.TextField(_("ID number (encrypted)"))
    id_hash = models.CharField(max_length=32)
    id_suffix = models.CharField(max_length=6)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # The calendar the birthday alert counts by (care.rules); db_default so that bulk
    # loads that do not name the column (COPY, raw INSERT) get the solar default.
    birthday_calendar = models.CharField(
        _("birthday calendar"),
        max_length=5,
        choices=BirthdayCalendar.choices,
        default=BirthdayCalendar.SOLAR,
        db_default=BirthdayCalendar.SOLAR,
    )
    nationality = models.CharField(_("nationality"), max_length=3, default="CHN")
    occupation = models.CharField(_("occupation"), max_length=60, blank=True)
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    education = models.CharField(_("education"), max_length=3, choices=Education.choices, blank=True)
    marital = models.CharField(_("marital status"), max_length=1, choices=Marital.choices, blank=True)
    annual_income = models.DecimalField(_("annual income (CNY)"), null=True, blank=True, **MONEY)
    risk_level = models.CharField(_("risk assessment"), max_length=2, choices=RiskLevel.choices, blank=True)
    risk_expiry = models.DateField(_("risk assessment expiry"), null=True, blank=True)
    # Read by branch through customer_branch_status and customer_branch_aum, which
    # lead with it: an index of its own would only cost the nightly figures' update.
    home_branch = models.ForeignKey(
        Branch,
        verbose_name=_("home branch"),
        on_delete=models.PROTECT,
        related_name="customers",
        db_index=False,
    )
    open_date = models.DateField(_("relationship since"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=1, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE
    )
    # The primary mobile, kept here (from the contact points) for lookup.
    mobile_enc = models.TextField(_("mobile (encrypted)"), blank=True)
    mobile_hash = models.CharField(max_length=32, blank=True)
    mobile_suffix = models.CharField(max_length=4, blank=True)
    # Name search (customers.search_text), derived from the name when it is written.
    name_pinyin = models.CharField(max_length=120, blank=True)
    name_initials = models.CharField(max_length=30, blank=True)
    search_tokens = models.TextField(blank=True)
    # Marketing consent per channel (opt-outs are honoured per channel).
    consent_call = models.BooleanField(_("calls allowed"), default=True)
    consent_sms = models.BooleanField(_("SMS allowed"), default=True)
    consent_wechat = models.BooleanField(_("WeChat allowed"), default=True)
    consent_email = models.BooleanField(_("e-mail allowed"), default=True)
    consent_visit = models.BooleanField(_("visits allowed"), default=True)
    # Maintained by the VIP area (tier evaluation, VIP lifecycle); codes only here.
    tier = models.CharField(_("tier"), max_length=20, blank=True)  # indexed: customer_tier
    vip_status = models.CharField(_("VIP status"), max_length=20, blank=True)
    # Latest figures, refreshed with each business day's balances.
    aum = models.DecimalField(_("AUM (CNY)"), default=0, **MONEY)
    month_avg_aum = models.DecimalField(_("month-average AUM (CNY)"), default=0, **MONEY)
    liabilities = models.DecimalField(_("liabilities (CNY)"), default=0, **MONEY)
    aum_date = models.DateField(_("AUM date"), null=True, blank=True)
    # The manager of record, mirrored from the open primary assignment.
    primary_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager of record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="primary_customers",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        db_index=False,  # customer_household, of the customers in one only
    )
    household_role = models.CharField(
        _("household role"), max_length=10, choices=HouseholdRole.choices, blank=True
    )
    # Set when a data-quality merge folded this record into another customer.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("merged into"),
        db_index=False,  # customer_merged_into, of the merged records only
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    objects = CustomerQuerySet.as_manager()

    ENCRYPTED_FIELDS = {"id_number_enc": crypto.ID_NUMBER, "mobile_enc": crypto.MOBILE}  # customers.keys

    class Meta:
        verbose_name = _("customer (客户)")
        verbose_name_plural = _("customers")
        permissions = [
            ("reveal_customer_pii", _("Can reveal one field of a customer's personal data")),
            ("export_customer", _("Can export customer lists (masked)")),
            ("export_customer_full", _("Can export customer lists unmasked")),
        ]
        # One customer per person is the portal's rule (customer_create finds the
        # existing one); core banking may still send the same person under two
        # numbers, which load and go to the data-quality queue, so the database
        # index on the identity is not unique.
        # The AUM-ordered indexes of the bank, a manager's book and a branch
        # (customer_aum_desc, customer_manager_aum, customer_branch_aum) are made by
        # migration 0007: on PostgreSQL they include the stored search vector.
        # The nightly figures move the AUM of most customers, an indexed column: each
        # such row gets a new entry in every index of the table. So the table keeps no
        # index a query does not need, the sparse references are indexed where they
        # are set only, and half of each page stays free (migration 0022), so that a
        # row whose indexed columns did not change (its figures' date, its month
        # average, its liabilities) is rewritten on its page without touching them.
        indexes = [
            models.Index(fields=["tier"], name="customer_tier"),
            models.Index(
                fields=["household"], name="customer_household", condition=models.Q(household__isnull=False)
            ),
            models.Index(
                fields=["merged_into"],
                name="customer_merged_into",
                condition=models.Q(merged_into__isnull=False),
            ),
            models.Index(fields=["id_hash", "id_type"], name="customer_id_hash"),
            models.Index(fields=["id_suffix"], name="customer_id_suffix"),
            models.Index(fields=["mobile_hash"], name="customer_mobile_hash"),
            models.Index(fields=["mobile_suffix"], name="customer_mobile_suffix"),
            models.Index(fields=["home_branch", "status"], name="customer_branch_status"),
            # Pinyin and initials prefixes, carrying what a search tests and sorts by
            # (customers.selectors: a prefix of two letters or more is an index-only
            # range scan on each, instead of visiting every match in the table).
            models.Index(
                fields=["name_initials"],
                name="customer_initials",
                opclasses=["varchar_pattern_ops"],
                include=SEARCH_COVERED,
            ),
            models.Index(
                fields=["name_pinyin"],
                name="customer_pinyin",
                opclasses=["varchar_pattern_ops"],
                include=SEARCH_COVERED,
            ),
            # A one-character search: the surname (this range), or a later character
            # (a token of its own: customers.search_text.LATER).
            models.Index(
                fields=["name"],
                name="customer_name_prefix",
                opclasses=["varchar_pattern_ops"],
                include=SEARCH_COVERED,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_no} {self.name}"

    def save(self, *args, **kwargs) -> None:
        # Derived from the name; cheap, and bulk paths compute it themselves.
        self.refresh_name_search()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_pinyin", "name_initials", "search_tokens"}
        super().save(*args, **kwargs)

    @property
    def id_number(self) -> str:
        return cipher().decrypt(self.id_number_enc, context=crypto.ID_NUMBER)

    @id_number.setter
    def id_number(self, value: str) -> None:
        value = (value or "").strip().upper()
        self.id_number_enc = cipher().encrypt(value, context=crypto.ID_NUMBER)
        self.id_hash = cipher().blind_index(value, context=crypto.ID_NUMBER)
        self.id_suffix = value[-6:]

    @property
    def mobile(self) -> str:
        return cipher().decrypt(self.mobile_enc, context=crypto.MOBILE)

    @mobile.setter
    def mobile(self, value: str) -> None:
        value = (value or "").strip()
        self.mobile_enc = cipher().encrypt(value, context=crypto.MOBILE)
        self.mobile_hash = cipher().blind_index(value, context=crypto.MOBILE)
        self.mobile_suffix = value[-4:]

    def refresh_name_search(self) -> None:
        derived = name_search(self.name)
        self.name_pinyin, self.name_initials, self.search_tokens = (
            derived.pinyin,
            derived.initials,
            derived.tokens,
        )

    @property
    def risk_assessment_valid(self) -> bool:
        return bool(self.risk_level) and (
            self.risk_expiry is None or self.risk_expiry >= timezone.localdate()
        )


class CustomerNumberSequence(models.Model):
    """The single counter behind the bank-wide customer number rule (see
    `customers.numbers`). One row per prefix; blocks are reserved under a row lock."""

    prefix = models.CharField(max_length=4, primary_key=True)
    next_value = models.BigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.next_value}"


class ContactPoint(models.Model):
    """A phone, e-mail or address. The value is stored encrypted; mobiles also carry
    the blind index of the customer's mobile so that any of them can be looked up."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    type = models.CharField(_("type"), max_length=10, choices=ContactType.choices)
    value_enc = models.TextField(_("value (encrypted)"))
    value_hash = models.CharField(max_length=32, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    ENCRYPTED_FIELDS = {"value_enc": crypto.CONTACT}  # re-encrypted by customers.keys

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        indexes = [
            models.Index(fields=["customer", "type"], name="contact_customer_type"),
            models.Index(fields=["value_hash"], name="contact_value_hash", condition=~Q(value_hash="")),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.type}"

    @property
    def value(self) -> str:
        return cipher().decrypt(self.value_enc, context=crypto.CONTACT)

    @value.setter
    def value(self, value: str) -> None:
        value = (value or "").strip()
        self.value_enc = cipher().encrypt(value, context=crypto.CONTACT)
        self.value_hash = contact_lookup_hash(self.type, value)


class Account(models.Model):
    """An arrangement (账户/协议): deposit, wealth, fund, insurance, custody, loan or card."""

    account_no = models.CharField(_("account number"), max_length=32, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="accounts")
    product_code = models.CharField(_("product code"), max_length=20, blank=True)
    category = models.CharField(_("category"), max_length=16, choices=AccountCategory.choices)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    open_date = models.DateField(_("opened"), null=True, blank=True)
    maturity_date = models.DateField(_("maturity"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=1, choices=AccountStatus.choices, default="O")
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    # Latest end-of-day balance (the daily history is in AccountBalance).
    balance = models.DecimalField(_("balance"), default=0, **MONEY)
    cny_balance = models.DecimalField(_("balance (CNY)"), default=0, **MONEY)
    balance_date = models.DateField(_("balance date"), null=True, blank=True)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("account (账户)")
        verbose_name_plural = _("accounts")
        indexes = [
            models.Index(fields=["customer", "category"], name="account_customer_category"),
            models.Index(
                fields=["maturity_date"],
                name="account_open_maturity",
                condition=Q(status="O", maturity_date__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.pk}"


class AccountBalance(models.Model):
    """End-of-day balance per account per business date (tens of millions of rows)."""

    pk = models.CompositePrimaryKey("business_date", "account_id")
    business_date = models.DateField()
    # no index of its own: `balance_account_date` (account, date) serves a lookup by
    # account, and a lone account index made the planner read every day of an
    # account to find one date's balance
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    balance = models.DecimalField(**MONEY)
    cny_balance = models.DecimalField(**MONEY)

    objects = HeldThroughAccount.as_manager()

    class Meta:
        verbose_name = _("daily balance")
        indexes = [models.Index(fields=["account", "business_date"], name="balance_account_date")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.business_date}"


class LoanStatus(models.Model):
    """A loan or credit-card account's repayment status from a business date on (a row
    of LOAN_STATUS.dat, extract v1.1), kept only when it changes: the status on a date
    is the account's latest row on or before it, so an account with no row in a
    batch keeps its status. A re-load of a date replaces that date's rows."""

    pk = models.CompositePrimaryKey("account_id", "business_date")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    business_date = models.DateField(_("from"))
    overdue_days = models.PositiveIntegerField(_("days past due"), default=0)
    overdue_amount = models.DecimalField(_("amount past due (CNY)"), default=0, **MONEY)
    risk_class = models.PositiveSmallIntegerField(
        _("classification"), choices=RiskClass.choices, default=RiskClass.NORMAL
    )

    objects = HeldThroughAccount.as_manager()

    class Meta:
        verbose_name = _("loan status")
        verbose_name_plural = _("loan statuses")
        indexes = [models.Index(fields=["business_date"], name="loan_status_date")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.business_date} {self.overdue_days} {self.risk_class}"


class CustomerDailyAum(models.Model):
    """AUM and liabilities per customer per business date, in CNY, and the balances
    of the categories that performance figures price (`customers.aum.write_daily_figures`)."""

    pk = models.CompositePrimaryKey("business_date", "customer_id")
    business_date = models.DateField()
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    aum = models.DecimalField(**MONEY)
    liabilities = models.DecimalField(**MONEY)
    # The categories the performance figures price (docs/performance.md): deposits by
    # kind, loans by kind and card debt, so that a period is summed from one row per
    # customer and day instead of from every account's balance.
    dep_cur = models.DecimalField(default=0, db_default=0, **MONEY)
    dep_time = models.DecimalField(default=0, db_default=0, **MONEY)
    loan_mortgage = models.DecimalField(default=0, db_default=0, **MONEY)
    loan_consumer = models.DecimalField(default=0, db_default=0, **MONEY)
    loan_business = models.DecimalField(default=0, db_default=0, **MONEY)
    credit_card = models.DecimalField(default=0, db_default=0, **MONEY)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily AUM")
        indexes = [models.Index(fields=["customer", "business_date"], name="daily_aum_customer_date")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.business_date}"


class CustomerMonthlyAum(models.Model):
    """Month-average and month-end AUM per customer (drives tiering and the trend)."""

    pk = models.CompositePrimaryKey("customer_id", "month")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    month = models.DateField(help_text="first day of the month")
    avg_aum = models.DecimalField(**MONEY)
    end_aum = models.DecimalField(**MONEY)
    avg_liabilities = models.DecimalField(**MONEY)
    days = models.PositiveSmallIntegerField(default=0)
    # the month's daily AUM and liabilities summed exactly (the averages divide them by
    # the calendar days elapsed): a night adds its day instead of summing the month again
    aum_sum = models.DecimalField(max_digits=22, decimal_places=2, default=0, db_default=0)
    liabilities_sum = models.DecimalField(max_digits=22, decimal_places=2, default=0, db_default=0)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("monthly AUM")
        # a month's rows in customer order: what a night adds its day to (`customers.aum`)
        indexes = [models.Index(fields=["month", "customer"], name="monthly_aum_month_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}"


class MonthlyAumBuild(models.Model):
    """Through which business date a month's `CustomerMonthlyAum` sums go
    (`customers.aum`): the next date of the month is added to them; any other date
    (a batch loaded again, an older one) sums the month again."""

    month = models.DateField(primary_key=True, help_text="first day of the month")
    through = models.DateField()

    class Meta:
        verbose_name = _("monthly AUM build")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} through {self.through}"


class TransactionSummary(models.Model):
    """Per customer, per business date, per channel: count and amount (RFM input)."""

    pk = models.CompositePrimaryKey("business_date", "customer_id", "channel")
    business_date = models.DateField()
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    txn_count = models.IntegerField()
    txn_amount = models.DecimalField(**MONEY)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily transaction summary")
        indexes = [models.Index(fields=["customer", "business_date"], name="txn_customer_date")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.business_date} {self.channel}"


class IncomeEntry(models.Model):
    """Intermediary-business income the finance system booked for a customer (and
    account, where known) on a business date: a row of INCOME.dat (extract v1.1). A
    reversal is negative; several rows of one kind on one day add up."""

    business_date = models.DateField(_("business date"))
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="income_entries")
    account = models.ForeignKey(
        "Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="income_entries"
    )
    income_type = models.CharField(_("income type"), max_length=20, choices=IncomeType.choices)
    cny_amount = models.DecimalField(_("amount (CNY)"), **MONEY)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("intermediary income")
        verbose_name_plural = _("intermediary income")
        indexes = [models.Index(fields=["business_date", "customer"], name="income_date_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.business_date} {self.income_type} {self.cny_amount}"


class Relationship(models.Model):
    """A link from a customer to another person or a company (employer)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="relationships")
    relation_type = models.CharField(_("relation"), max_length=10, choices=RelationType.choices)
    related_customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("related customer"),
    )
    related_name = models.CharField(_("name (person or company)"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        constraints = [
            models.CheckConstraint(
                condition=Q(related_customer__isnull=False) | ~Q(related_name=""),
                name="relationship_has_counterpart",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.relation_type}"


class OtherAsset(models.Model):
    """Assets held outside the bank (resource items): property, vehicles, ..."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="other_assets")
    kind = models.CharField(_("kind"), max_length=10, choices=AssetKind.choices)
    description = models.CharField(_("description"), max_length=200)
    estimated_value = models.DecimalField(_("estimated value (CNY)"), **MONEY)
    valued_on = models.DateField(_("valued on"), null=True, blank=True)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("other asset")
        verbose_name_plural = _("other assets")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind}"


class Interaction(models.Model):
    """A marketing or service event on the customer's timeline."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(_("kind"), max_length=16, choices=InteractionKind.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=200)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_timeline"),
            models.Index(fields=["manager", "-occurred_at"], name="interaction_manager"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.occurred_at:%Y-%m-%d}"


class CustomerAssignment(models.Model):
    """Who looks after whom, from when to when, and why. The open primary row is the
    manager of record (at most one per customer, enforced by the database); closed
    rows are the history performance is attributed by."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="assignments")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(max_length=10, choices=AssignmentRole.choices, default=AssignmentRole.PRIMARY)
    # Split credit: an assisting manager's share of the customer's figures, in
    # percent; the manager of record counts what the assisting shares leave.
    credit_share = models.DecimalField(
        _("credit share (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    start_date = models.DateField(default=timezone.localdate)
    end_date = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(end_date__isnull=True, role="primary"),
                name="assignment_one_open_primary",
            ),
        ]
        indexes = [
            models.Index(fields=["manager", "end_date"], name="assignment_manager_open"),
            # the customers shared with a manager, read by every scoped page: a few
            # rows among the hundreds of thousands a large book's manager of record has
            models.Index(
                fields=["manager", "start_date"],
                condition=Q(role="secondary"),
                name="assignment_manager_secondary",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} -> {self.manager_id} ({self.start_date}..{self.end_date or ''})"


GrantManager = UserObjectPermissionManager.from_queryset(GrantQuerySet)


class CustomerUserObjectPermission(UserObjectPermissionBase):
    """Explicit grants of one customer to one user (django-guardian, direct foreign
    key so the data-scope query joins on an integer, not on text). Optional expiry
    for temporary sharing."""

    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[GrantManager] = GrantManager()

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission"], name="customer_grant_user")]


class DataQualityIssue(models.Model):
    """One entry of the data-quality queue (数据质量): a possible duplicate pair, an
    invalid or missing key field, an expired risk assessment. Detection is
    set-based and idempotent: at most one open issue per kind, customer and pair."""

    kind = models.CharField(_("kind"), max_length=20, choices=QualityIssueKind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="quality_issues")
    other_customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("other customer"),
    )
    # "" or the other customer's id: makes "one open issue per pair" a plain unique index
    pair_key = models.CharField(max_length=24, blank=True, default="")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("branch"))
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=QualityIssueStatus.choices, default=QualityIssueStatus.OPEN
    )
    detected_at = models.DateTimeField(_("detected"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(_("resolution"), max_length=200, blank=True)

    objects = QualityIssueQuerySet.as_manager()

    class Meta:
        verbose_name = _("data-quality issue")
        verbose_name_plural = _("data-quality queue")
        permissions = [("merge_customer", _("Can merge duplicate customers"))]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "customer", "pair_key"],
                condition=Q(status="open"),
                name="quality_one_open_issue",
            ),
        ]
        indexes = [models.Index(fields=["status", "kind", "branch"], name="quality_queue")]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id}"


class CustomerMerge(models.Model):
    """A merge of a duplicate into a survivor, with what moved (ids per table) and
    the merged record's fields before the merge: enough to undo it."""

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200)
    moved = models.JSONField(default=dict)
    snapshot = models.JSONField(default=dict)

    objects = MergeQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")

    def __str__(self) -> str:
        return f"{self.merged_id} -> {self.survivor_id}"


class ExportJob(models.Model):
    """An export of a search result to Excel. The file is kept in the database (any
    web process can serve it, no local copy) until its link expires."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    query = models.JSONField(default=dict)
    masked = models.BooleanField(default=True)
    row_count = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(default=0)
    filename = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["user", "-created_at"], name="export_user_recent")]

    def __str__(self) -> str:
        return f"export {self.pk} by {self.user_id} ({self.status})"


class BatchLoad(models.Model):
    """One requested load of a core-banking batch (夜间批量): by the nightly job, the
    command or an upload. The batch is identified by its business date and content
    digest; at most one load of the same batch is ever `loaded` (a partial unique
    index), so a batch's rows are written exactly once. `attempts` counts the starts
    of this load (a Celery redelivery after a lost worker starts it again); above
    INGEST_MAX_ATTEMPTS it stops and alerts instead of looping."""

    business_date = models.DateField(_("business date"), null=True, blank=True)
    digest = models.CharField(_("content digest (SHA-256)"), max_length=64, blank=True)
    source = models.CharField(_("batch directory"), max_length=500)
    status = models.CharField(
        _("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # "upload", "command" or "beat": what started it when no user did.
    started_via = models.CharField(_("started via"), max_length=20)
    forced = models.BooleanField(_("forced"), default=False)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # host:pid of the process running it (the lock on SQLite, a clue on PostgreSQL)
    worker = models.CharField(max_length=100, blank=True)
    message = models.TextField(_("message"), blank=True)
    rows_loaded = models.PositiveIntegerField(_("rows loaded"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    # When the jobs that follow a load last ran to their end for this business date:
    # empty on a loaded batch, they are owed (the nightly job runs them).
    after_load_done_at = models.DateTimeField(_("jobs after the load done"), null=True, blank=True)

    class Meta:
        verbose_name = _("batch load (批量加载)")
        verbose_name_plural = _("batch loads")
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "digest"],
                condition=Q(status="loaded"),
                name="batchload_loaded_once",
            ),
        ]
        indexes = [models.Index(fields=["status", "business_date"], name="batchload_status_date")]

    def __str__(self) -> str:
        return f"load {self.pk} {self.business_date or '?'} ({self.status})"

    @property
    def started_by_label(self) -> str:
        if self.started_by is not None:
            return f"{self.started_by.username} ({self.started_via})"
        return self.started_via

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class BatchFile(models.Model):
    """One data file of a load: what the control file declares, the progress while
    it loads, and the rows loaded and rejected once the batch is in."""

    load = models.ForeignKey(BatchLoad, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(_("file"), max_length=30)
    encoding = models.CharField(_("encoding"), max_length=10, blank=True)
    control_rows = models.PositiveIntegerField(_("rows in control file"), default=0)
    size = models.PositiveBigIntegerField(_("bytes"), default=0)
    phase = models.CharField(
        _("phase"), max_length=10, choices=BatchFilePhase.choices, default=BatchFilePhase.WAITING
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    loaded = models.PositiveIntegerField(_("rows loaded"), default=0)
    rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        verbose_name = _("batch file")
        verbose_name_plural = _("batch files")
        constraints = [models.UniqueConstraint(fields=["load", "name"], name="batchfile_one_per_load")]

    def __str__(self) -> str:
        return f"{self.load_id} {self.name}"


class LoadError(models.Model):
    """One rejected row (or one of its problems) in a load's error report. The value is
    masked like on screen when it is personal data (privacy specification)."""

    load = models.ForeignKey(BatchLoad, on_delete=models.CASCADE, related_name="errors")
    file = models.CharField(_("file"), max_length=30)
    line = models.PositiveIntegerField(_("line"))
    column = models.CharField(_("column"), max_length=30, blank=True)
    value = models.CharField(_("value"), max_length=200, blank=True)
    code = models.CharField(_("code"), max_length=30)
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        verbose_name = _("load error")
        verbose_name_plural = _("load errors")
        indexes = [models.Index(fields=["load", "file", "line"], name="loaderror_report")]

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.code}"


class EmployerQuerySet(models.QuerySet):
    def visible_to(self, user) -> EmployerQuerySet:
        """Employers are organisations, not personal data: the register is the same
        for everyone with a customer scope. Their employees are not
        (`PayrollLink.objects.visible_to`)."""
        return self if customer_scope(user) is not None else self.none()


class Employer(models.Model):
    """An organisation whose staff the bank pays (代发工资单位): a party of its own,
    identified by its unified social credit code (customers.uscc)."""

    name = models.CharField(_("employer name"), max_length=100)
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    industry = models.CharField(_("industry"), max_length=1, choices=Industry.choices)
    contact_person = models.CharField(_("contact person"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("registered on"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    objects = EmployerQuerySet.as_manager()

    class Meta:
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["name"], name="employer_name")]

    def __str__(self) -> str:
        return self.name


class PayrollLink(models.Model):
    """A customer paid by an employer through the bank (代发工资关系), from `since`
    until `until` (open while None). Ending one keeps it as history: the "new payroll
    customers" indicator counts links by the day they started."""

    employer = models.ForeignKey(
        Employer, verbose_name=_("employer"), on_delete=models.PROTECT, related_name="payroll_links"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="payroll_links"
    )
    since = models.DateField(_("paid since"), default=timezone.localdate)
    until = models.DateField(_("paid until"), null=True, blank=True)
    account = models.ForeignKey(
        Account,
        verbose_name=_("payroll account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    monthly_amount = models.DecimalField(_("monthly amount (CNY)"), null=True, blank=True, **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CustomerHeldQuerySet.as_manager()

    class Meta:
        verbose_name = _("payroll relationship")
        verbose_name_plural = _("payroll relationships")
        constraints = [
            models.UniqueConstraint(
                fields=["employer", "customer"], condition=Q(until__isnull=True), name="payroll_one_open_link"
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=F("since")), name="payroll_until_after_since"
            ),
        ]
        indexes = [
            models.Index(fields=["employer", "until"], name="payroll_employer_open"),
            models.Index(fields=["since"], name="payroll_since"),
        ]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.customer_id} ({self.since}..{self.until or ''})"
