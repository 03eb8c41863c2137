"""Why an alert was raised, in one sentence made of its figures (`Alert.figures`):
"AUM fell 43.2% in 7 days, −820,000.00 CNY".

Figures hold codes and numbers only, never personal data; the sentence shows tiers
by their level's name, account categories by their label, amounts with separators
and two decimals, and of an account only its last four digits. No customer name
ever: the page shows the customer's (masked) name beside the reason when it may.

A page computes the reasons of its rows without a query per row: it reads the
level names, and the names of the colleagues the figures hold by employee number,
once (`reason_context(alerts)`) and passes them to `alert_reason`.

The figures of each kind (writers: the rules of care/rules.py, the VIP area's
announcements through `vip.events`, a manager's own reminder):
- birthday: {"birthday": date, "age": int, "calendar": "solar"|"lunar"}
- maturity: {"account_tail": last 4 digits, "category": AccountCategory code,
  "maturity_date": date, "amount": CNY}
- risk_expiry: {"expiry_date": date, "expired": bool}
- large_outflow: {"aum_before", "aum_now", "change" (negative), "percent" ("-43.2"),
  "since": date}
- dormancy: {"reason": "status"|"no_transaction", "last_transaction": date|null, "days": int}
- tier_change: {"from": tier code, "to": tier code}
- downgrade_warning: {"tier": code, "threshold": CNY, "aum": CNY, "effective_date": date}
- contact_overdue: {"tier": code, "last_contact": date|null, "standard_days": int,
  "overdue_since": date} (a warning moved from the VIP reminders may hold "tier" only)
- overdue: {"account": account id, "tail": last 4 digits, "category": AccountCategory
  code, then "days", "amount" (CNY past due), "threshold" (days) for a payment past
  due, or "class", "from" (RiskClass values) for a classification}
- potential_vip: {"tier": tier code now}
- team_overdue: {"manager": employee number, "count": int} (shown by name)
- customer_assigned / customer_shared: {"by": employee number of who did it} (by name)
- transfer_decided: {"decision": "approved"|"rejected"}
- own: {"text": the manager's note}
- at_risk: {"probability": "0.4200", "value_at_risk": CNY, "contribution": CNY (12 months)}
  (the customer analysis' save list, analysis.alerts; the 360 view words the reasons)
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from customers.choices import AccountCategory, RiskClass
from vip.selectors.levels import tier_label, tier_names

from .choices import AlertKind

# Kinds whose sentence names a tier (the level names are read for them).
TIER_KINDS = frozenset(
    {AlertKind.TIER_CHANGE, AlertKind.DOWNGRADE_WARNING, AlertKind.CONTACT_OVERDUE, AlertKind.POTENTIAL_VIP}
)
# Kinds whose figures name a colleague by employee number (shown by their name).
PEOPLE_KINDS = {
    AlertKind.TEAM_OVERDUE: "manager",
    AlertKind.CUSTOMER_ASSIGNED: "by",
    AlertKind.CUSTOMER_SHARED: "by",
}
EMPLOYEE = "employee:"  # the key of a colleague's name in `names`: "employee:E1102"
MINUS = "\u2212"
OWN_TEXT_LIMIT = 200


def reason_context(alerts: Iterable[Any]) -> dict[str, str]:
    """The level names and colleagues' names the reasons of these alerts need (a
    query for each, or none)."""
    alerts = list(alerts)
    names = tier_names() if any(alert.kind in TIER_KINDS for alert in alerts) else {}
    numbers = {
        str(alert.figures.get(PEOPLE_KINDS[alert.kind]))
        for alert in alerts
        if alert.kind in PEOPLE_KINDS
        and isinstance(alert.figures, dict)
        and alert.figures.get(PEOPLE_KINDS[alert.kind])
    }
    if numbers:
        names.update(_people(numbers))
    return names


def _people(numbers: Iterable[str]) -> dict[str, str]:
    rows = User.objects.filter(employee_no__in=list(numbers)).values_list(
        "employee_no", "display_name", "username"
    )
    return {f"{EMPLOYEE}{no}": display or username for no, display, username in rows}


def _person(number: Any, names: dict[str, str]) -> str:
    """A colleague by name, else by employee number (someone since removed)."""
    if not number:
        return "—"
    return names.get(f"{EMPLOYEE}{number}") or str(number)


def amount(value: Any, *, signed: bool = False) -> str:
    """ "-820000" → "−820,000.00" (or "820,000.00" unsigned)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return "—"
    if not signed:
        number = abs(number)
    text = f"{abs(number):,.2f}"
    return f"{MINUS}{text}" if number < 0 else text


def _percent(value: Any) -> str:
    try:
        return f"{abs(Decimal(str(value))):.1f}"
    except (InvalidOperation, ValueError, TypeError):
        return "—"


def _probability(value: Any) -> str:
    """ "0.4215" → "42.2" (a share as a percentage)."""
    try:
        return f"{Decimal(str(value)) * 100:.1f}"
    except (InvalidOperation, ValueError, TypeError):
        return "—"


def _date(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:
        return datetime.date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        return "—"


def _tail(value: Any) -> str:
    """Only the last four digits of an account, whatever the writer put there."""
    digits = "".join(ch for ch in str(value or "") if ch.isalnum())
    return digits[-4:] if digits else "—"


def _category(code: Any) -> str:
    return str(AccountCategory(code).label) if code in AccountCategory.values else ""


def _risk_class(value: Any) -> str:
    number = _int(value)
    return str(RiskClass(number).label) if number in RiskClass.values else "—"


def _overdue(f: dict[str, Any]) -> str:
    """ "Mortgage loan ****1234 is 30 days past due: 5,000.00 CNY", "Credit card ****5678
    classified Substandard (was Special mention)"."""
    values: dict[str, Any] = {
        "account": _category(f.get("category")) or _("Account"),
        "tail": _tail(f.get("tail")),
    }
    if "class" in f:
        values.update({"new": _risk_class(f.get("class")), "old": _risk_class(f.get("from"))})
        return _("%(account)s ****%(tail)s classified %(new)s (was %(old)s)") % values
    days = _int(f.get("days"))
    values.update({"days": days if days is not None else "—", "amount": amount(f.get("amount"))})
    return (
        ngettext(
            "%(account)s ****%(tail)s is %(days)s day past due: %(amount)s CNY",
            "%(account)s ****%(tail)s is %(days)s days past due: %(amount)s CNY",
            days if days is not None else 2,
        )
        % values
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def alert_reason(alert: Any, names: dict[str, str] | None = None) -> str:
    """The alert's reason sentence. `names`: the level names by code (from
    `reason_context`); without them they are read when the kind needs them."""
    f: dict[str, Any] = alert.figures if isinstance(alert.figures, dict) else {}
    kind = alert.kind
    if names is None:
        names = reason_context([alert])

    if kind == AlertKind.BIRTHDAY:
        values = {"date": _date(f.get("birthday")), "age": f.get("age", "—")}
        if f.get("calendar") == "lunar":
            return _("Lunar birthday on %(date)s (turns %(age)s)") % values
        return _("Birthday on %(date)s (turns %(age)s)") % values
    if kind == AlertKind.MATURITY:
        values = {
            "category": _category(f.get("category")),
            "tail": _tail(f.get("account_tail")),
            "date": _date(f.get("maturity_date")),
            "amount": amount(f.get("amount")),
        }
        if f.get("category") not in AccountCategory.values:
            return _("Account ending %(tail)s matures on %(date)s, %(amount)s CNY") % values
        return _("%(category)s account ending %(tail)s matures on %(date)s, %(amount)s CNY") % values
    if kind == AlertKind.RISK_EXPIRY:
        if f.get("expired"):
            return _("Risk assessment expired on %(date)s") % {"date": _date(f.get("expiry_date"))}
        return _("Risk assessment expires on %(date)s") % {"date": _date(f.get("expiry_date"))}
    if kind == AlertKind.LARGE_OUTFLOW:
        since = f.get("since")
        days = None
        with contextlib.suppress(TypeError, ValueError):
            days = (alert.event_date - datetime.date.fromisoformat(str(since)[:10])).days
        values = {
            "percent": _percent(f.get("percent")),
            "days": days,
            "change": amount(f.get("change"), signed=True),
            "since": _date(since),
        }
        if days is None:
            return _("AUM fell %(percent)s%% since %(since)s, %(change)s CNY") % values
        return _("AUM fell %(percent)s%% in %(days)s days, %(change)s CNY") % values
    if kind == AlertKind.DORMANCY:
        if f.get("reason") == "status":
            return _("The customer's status turned dormant")
        if f.get("last_transaction"):
            return _("No transaction for %(days)s days (the last on %(date)s)") % {
                "days": f.get("days", "—"),
                "date": _date(f.get("last_transaction")),
            }
        return _("No transaction for %(days)s days") % {"days": f.get("days", "—")}
    if kind == AlertKind.TIER_CHANGE:
        return _("Tier changed: %(old)s → %(new)s") % {
            "old": tier_label(str(f.get("from") or ""), names),
            "new": tier_label(str(f.get("to") or ""), names),
        }
    if kind == AlertKind.DOWNGRADE_WARNING:
        return _(
            "AUM of %(aum)s CNY is below the %(tier)s threshold of %(threshold)s CNY: "
            "downgraded on %(date)s unless it recovers"
        ) % {
            "aum": amount(f.get("aum")),
            "tier": tier_label(str(f.get("tier") or ""), names),
            "threshold": amount(f.get("threshold")),
            "date": _date(f.get("effective_date")),
        }
    if kind == AlertKind.CONTACT_OVERDUE:
        tier = str(f.get("tier") or "")
        days = _int(f.get("standard_days"))
        if days is None:  # a warning moved from the VIP reminders
            if not tier:
                return _("Contact overdue (a major customer of your book)")
            return _("Contact overdue (%(tier)s service standard)") % {"tier": tier_label(tier, names)}
        values = {
            "tier": tier_label(tier, names) if tier else _("major customer"),
            "days": days,
            "since": _date(f.get("overdue_since")),
            "last": _date(f.get("last_contact")),
        }
        if f.get("last_contact"):
            return (
                _(
                    "Last contact on %(last)s: the %(tier)s standard is a contact every %(days)s days "
                    "(overdue since %(since)s)"
                )
                % values
            )
        return (
            _(
                "Not contacted yet: the %(tier)s standard is a contact every %(days)s days "
                "(overdue since %(since)s)"
            )
            % values
        )
    if kind == AlertKind.OVERDUE:
        return _overdue(f)
    if kind == AlertKind.POTENTIAL_VIP:
        return _("Close to the next tier or growing fast: a potential VIP")
    if kind == AlertKind.TEAM_OVERDUE:
        return _("Manager %(no)s has %(n)s overdue contacts with major customers") % {
            "no": _person(f.get("manager"), names),
            "n": f.get("count", "—"),
        }
    if kind == AlertKind.CUSTOMER_ASSIGNED:
        return _("Now in your care (assigned by %(no)s)") % {"no": _person(f.get("by"), names)}
    if kind == AlertKind.CUSTOMER_SHARED:
        return _("Shared with you for a time by %(no)s") % {"no": _person(f.get("by"), names)}
    if kind == AlertKind.TRANSFER_DECIDED:
        return _("Your transfer request was %(what)s") % {
            "what": _("approved") if f.get("decision") == "approved" else _("rejected")
        }
    if kind == AlertKind.AT_RISK:
        return _(
            "Churn probability %(percent)s%%: %(value)s CNY of a 12-month contribution of "
            "%(contribution)s CNY at risk"
        ) % {
            "percent": _probability(f.get("probability")),
            "value": amount(f.get("value_at_risk")),
            "contribution": amount(f.get("contribution"), signed=True),
        }
    if kind == AlertKind.OWN:
        text = str(f.get("text") or "").strip()
        return text[:OWN_TEXT_LIMIT] if text else str(AlertKind.OWN.label)
    return str(AlertKind(kind).label) if kind in AlertKind.values else str(kind)
