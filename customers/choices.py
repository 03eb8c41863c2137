from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .idnumbers import IdType  # noqa: F401  (re-exported: one home for the codes)


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class BirthdayCalendar(models.TextChoices):
    """Which calendar a customer keeps their birthday by (the birthday alert)."""

    SOLAR = "solar", _("Solar (Gregorian) calendar")
    LUNAR = "lunar", _("Lunar (Chinese) calendar")


class CustomerStatus(models.TextChoices):
    ACTIVE = "A", pgettext_lazy("customer status", "Active")
    DORMANT = "D", pgettext_lazy("customer status", "Dormant")
    CLOSED = "C", pgettext_lazy("customer status", "Closed")


class Education(models.TextChoices):
    PRIMARY = "PRI", _("Primary school")
    SECONDARY = "SEC", _("Secondary school")
    JUNIOR_COLLEGE = "JUC", _("Junior college")
    BACHELOR = "BAC", _("Bachelor")
    MASTER = "MAS", _("Master")
    DOCTOR = "DOC", _("Doctorate")


class Marital(models.TextChoices):
    SINGLE = "S", _("Single")
    MARRIED = "M", _("Married")
    DIVORCED = "D", _("Divorced")
    WIDOWED = "W", _("Widowed")


class RiskLevel(models.TextChoices):
    """Investor risk assessment result (C1 most conservative .. C5 most aggressive)."""

    C1 = "C1", _("C1 conservative")
    C2 = "C2", _("C2 cautious")
    C3 = "C3", _("C3 balanced")
    C4 = "C4", _("C4 growth")
    C5 = "C5", _("C5 aggressive")


class ContactType(models.TextChoices):
    MOBILE = "MOBILE", _("Mobile")
    HOME = "HOME", _("Home phone")
    WORK = "WORK", _("Work phone")
    EMAIL = "EMAIL", _("E-mail")
    ADDRESS = "ADDRESS", _("Address")


class AccountCategory(models.TextChoices):
    DEP_CUR = "DEP_CUR", _("Current deposit")
    DEP_TIME = "DEP_TIME", _("Time deposit")
    WEALTH = "WEALTH", _("Wealth management")
    FUND = "FUND", _("Fund")
    INSURANCE = "INSURANCE", _("Insurance")
    CUSTODY = "CUSTODY", _("Third-party custody")
    LOAN_MORTGAGE = "LOAN_MORTGAGE", _("Mortgage loan")
    LOAN_CONSUMER = "LOAN_CONSUMER", _("Consumer loan")
    LOAN_BUSINESS = "LOAN_BUSINESS", _("Business loan")
    CREDIT_CARD = "CREDIT_CARD", _("Credit card")


# AUM = deposits + wealth + funds + insurance + custody; loans and card debt are liabilities.
ASSET_CATEGORIES = frozenset(
    {
        AccountCategory.DEP_CUR,
        AccountCategory.DEP_TIME,
        AccountCategory.WEALTH,
        AccountCategory.FUND,
        AccountCategory.INSURANCE,
        AccountCategory.CUSTODY,
    }
)
LIABILITY_CATEGORIES = frozenset(
    {
        AccountCategory.LOAN_MORTGAGE,
        AccountCategory.LOAN_CONSUMER,
        AccountCategory.LOAN_BUSINESS,
        AccountCategory.CREDIT_CARD,
    }
)


class AccountStatus(models.TextChoices):
    OPEN = "O", _("Open")
    CLOSED = "C", _("Closed")
    FROZEN = "F", _("Frozen")


class Channel(models.TextChoices):
    COUNTER = "COUNTER", _("Counter")
    ATM = "ATM", _("ATM")
    MOBILE = "MOBILE", _("Mobile banking")
    ONLINE = "ONLINE", _("Online banking")
    POS = "POS", _("POS")
    OTHER = "OTHER", _("Other")


class RelationType(models.TextChoices):
    SPOUSE = "spouse", _("Spouse")
    PARENT = "parent", _("Parent")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Sibling")
    EMPLOYER = "employer", _("Employer")
    COLLEAGUE = "colleague", _("Colleague")
    OTHER = "other", _("Other")


class HouseholdRole(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    OTHER = "other", _("Other member")


class AssetKind(models.TextChoices):
    PROPERTY = "property", _("Property")
    VEHICLE = "vehicle", _("Vehicle")
    OTHER = "other", _("Other asset")


class InteractionKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Phone call")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("E-mail")
    SERVICE_REQUEST = "service_request", _("Service request")
    COMPLAINT = "complaint", _("Complaint")
    # on the timeline, not a contact: an attempt that did not reach the customer, an
    # alert closed as not needed (no service standard counts it)
    NOTE = "note", _("Note, no contact")


class MarketingChannel(models.TextChoices):
    """Channels a customer can consent to (or opt out of) for marketing."""

    CALL = "call", _("Phone call")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("E-mail")
    VISIT = "visit", _("Visit")


class AssignmentRole(models.TextChoices):
    PRIMARY = "primary", _("Manager of record")
    SECONDARY = "secondary", _("Assisting manager")


class RevealField(models.TextChoices):
    """What a user may reveal, one field of one customer at a time."""

    ID_NUMBER = "id_number", _("ID number")
    MOBILE = "mobile", _("Mobile")
    CONTACT = "contact", _("Contact")
    ACCOUNT = "account", _("Account number")


class QualityIssueKind(models.TextChoices):
    DUPLICATE_ID = "duplicate_id", _("Same ID under two customer numbers")
    DUPLICATE_PERSON = "duplicate_person", _("Same name, birth date and mobile")
    INVALID_ID = "invalid_id", _("Invalid ID number")
    MISSING_DATA = "missing_data", _("Missing key data")
    RISK_EXPIRED = "risk_expired", _("Risk assessment expired")


class QualityIssueStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")
    DISMISSED = "dismissed", _("Dismissed")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class BatchStatus(models.TextChoices):
    """The outcome of one requested load of a core-banking batch."""

    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    LOADED = "loaded", _("Loaded")
    DUPLICATE = "duplicate", _("Already loaded")
    REFUSED = "refused", _("Refused")
    FAILED = "failed", _("Failed")


class BatchFilePhase(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    READING = "reading", _("Reading")
    CHECKING = "checking", _("Checking")
    MERGING = "merging", _("Writing")
    DONE = "done", _("Done")


class IncomeType(models.TextChoices):
    """Intermediary-business (中间业务) income kinds of INCOME.dat (extract v1.1)."""

    AGENCY_FUND = "AGENCY_FUND", _("Fund distribution fees")
    AGENCY_WEALTH = "AGENCY_WEALTH", _("Wealth-product fees")
    AGENCY_INSURANCE = "AGENCY_INSURANCE", _("Insurance commissions")
    CARD_FEE = "CARD_FEE", _("Card fees")
    SETTLEMENT_FEE = "SETTLEMENT_FEE", _("Settlement fees")
    CUSTODY_FEE = "CUSTODY_FEE", _("Custody fees")
    OTHER = "OTHER", _("Other intermediary income")


class RiskClass(models.IntegerChoices):
    """The five-category loan classification (五级分类) of LOAN_STATUS.dat (extract v1.1);
    3 to 5 are non-performing."""

    NORMAL = 1, pgettext_lazy("loan classification", "Normal")
    SPECIAL_MENTION = 2, pgettext_lazy("loan classification", "Special mention")
    SUBSTANDARD = 3, pgettext_lazy("loan classification", "Substandard")
    DOUBTFUL = 4, pgettext_lazy("loan classification", "Doubtful")
    LOSS = 5, pgettext_lazy("loan classification", "Loss")


# Loans and cards: the accounts LOAN_STATUS.dat reports on.
CREDIT_CATEGORIES = frozenset(
    {
        AccountCategory.LOAN_MORTGAGE,
        AccountCategory.LOAN_CONSUMER,
        AccountCategory.LOAN_BUSINESS,
        AccountCategory.CREDIT_CARD,
    }
)
NON_PERFORMING_FROM = RiskClass.SUBSTANDARD
