"""An alert explains itself in one sentence of its figures: amounts with separators
and two decimals, tiers by their level's name, categories by label, no customer
name and no full account number; the reasons of a page cost one query at most."""

from __future__ import annotations

import datetime

import pytest

from care.choices import AlertKind
from care.models import Alert
from care.reasons import alert_reason, amount, reason_context

pytestmark = pytest.mark.django_db

D = datetime.date(2026, 12, 4)


def _alert(kind: str, figures: dict) -> Alert:
    return Alert(kind=kind, figures=figures, event_date=D, due_date=D)


@pytest.mark.parametrize(
    ("kind", "figures", "sentence"),
    [
        (
            AlertKind.LARGE_OUTFLOW,
            {
                "aum_before": "1900000",
                "aum_now": "1080000",
                "change": "-820000",
                "percent": "-43.2",
                "since": "2026-11-27",
            },
            "AUM fell 43.2% in 7 days, −820,000.00 CNY",
        ),
        (
            AlertKind.MATURITY,
            {
                "account_tail": "1496",
                "category": "WEALTH",
                "maturity_date": "2026-12-20",
                "amount": "1234567.8",
            },
            "Wealth management account ending 1496 matures on 2026-12-20, 1,234,567.80 CNY",
        ),
        (
            AlertKind.BIRTHDAY,
            {"birthday": "2026-12-08", "age": 60, "calendar": "solar"},
            "Birthday on 2026-12-08 (turns 60)",
        ),
        (
            AlertKind.BIRTHDAY,
            {"birthday": "2026-12-08", "age": 60, "calendar": "lunar"},
            "Lunar birthday on 2026-12-08 (turns 60)",
        ),
        (
            AlertKind.RISK_EXPIRY,
            {"expiry_date": "2026-12-01", "expired": True},
            "Risk assessment expired on 2026-12-01",
        ),
        (
            AlertKind.RISK_EXPIRY,
            {"expiry_date": "2026-12-30", "expired": False},
            "Risk assessment expires on 2026-12-30",
        ),
        (
            AlertKind.DORMANCY,
            {"reason": "status", "last_transaction": None, "days": 0},
            "The customer's status turned dormant",
        ),
        (
            AlertKind.DORMANCY,
            {"reason": "no_transaction", "last_transaction": "2026-06-01", "days": 186},
            "No transaction for 186 days (the last on 2026-06-01)",
        ),
        (AlertKind.TIER_CHANGE, {"from": "gold", "to": "platinum"}, "Tier changed: 金级 → 白金级"),
        (AlertKind.TIER_CHANGE, {"from": "", "to": "gold"}, "Tier changed: No tier → 金级"),
        (
            AlertKind.DOWNGRADE_WARNING,
            {"tier": "gold", "threshold": "500000", "aum": "420000.5", "effective_date": "2027-03-01"},
            "AUM of 420,000.50 CNY is below the 金级 threshold of 500,000.00 CNY: "
            "downgraded on 2027-03-01 unless it recovers",
        ),
        (
            AlertKind.CONTACT_OVERDUE,
            {
                "tier": "gold",
                "last_contact": "2026-09-01",
                "standard_days": 60,
                "overdue_since": "2026-10-31",
            },
            "Last contact on 2026-09-01: the 金级 standard is a contact every 60 days (overdue since 2026-10-31)",
        ),
        (AlertKind.CONTACT_OVERDUE, {"tier": "gold"}, "Contact overdue (金级 service standard)"),
        (
            AlertKind.TEAM_OVERDUE,
            {"manager": "E1101", "count": 3},
            "Manager E1101 has 3 overdue contacts with major customers",
        ),
        (AlertKind.CUSTOMER_ASSIGNED, {"by": "E1100"}, "Now in your care (assigned by E1100)"),
        (AlertKind.TRANSFER_DECIDED, {"decision": "approved"}, "Your transfer request was approved"),
        (AlertKind.OWN, {"text": "call about the fund"}, "call about the fund"),
        (
            AlertKind.AT_RISK,
            {
                "probability": "0.6150",
                "value_at_risk": "18450.00",
                "contribution": "30000.00",
                "reason": "aum_change_3m",
                "reason_figures": {"change": "-0.4000"},
            },
            "Churn probability 61.5%: 18,450.00 CNY of a 12-month contribution of 30,000.00 CNY at risk",
        ),  # fmt: skip
    ],
)
def test_each_kind_has_its_sentence(kind, figures, sentence):
    assert alert_reason(_alert(kind, figures)) == sentence


def test_no_full_account_number_even_if_a_writer_slipped():
    reason = alert_reason(
        _alert(AlertKind.MATURITY, {"account_tail": "6222021234561496", "category": "DEP_TIME",
                                    "maturity_date": "2026-12-20", "amount": "1"})
    )  # fmt: skip
    assert "6222021234561496" not in reason and "ending 1496" in reason


def test_missing_or_broken_figures_never_break_the_sentence():
    assert alert_reason(_alert(AlertKind.LARGE_OUTFLOW, {"change": "a lot"})) == "AUM fell —% since —, — CNY"
    assert alert_reason(_alert(AlertKind.MATURITY, {})) == "Account ending — matures on —, — CNY"
    assert (
        alert_reason(_alert(AlertKind.AT_RISK, {"probability": "high"}))
        == "Churn probability —%: — CNY of a 12-month contribution of — CNY at risk"
    )


def test_amounts():
    assert amount("-820000") == "820,000.00"
    assert amount("-820000", signed=True) == "−820,000.00"
    assert amount("0.5") == "0.50"


def test_a_page_of_reasons_reads_the_level_names_once(django_assert_num_queries):
    alerts = [_alert(AlertKind.TIER_CHANGE, {"from": "gold", "to": "platinum"}) for _ in range(20)]
    with django_assert_num_queries(1):
        names = reason_context(alerts)
        reasons = [alert_reason(a, names) for a in alerts]
    assert set(reasons) == {"Tier changed: 金级 → 白金级"}
    with django_assert_num_queries(0):
        reason_context([_alert(AlertKind.BIRTHDAY, {})])


def test_in_chinese(settings):
    from django.utils import translation

    with translation.override("zh-hans"):
        reason = alert_reason(_alert(AlertKind.TEAM_OVERDUE, {"manager": "E1101", "count": 3}))
    assert "E1101" in reason and "3" in reason
