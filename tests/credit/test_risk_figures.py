"""The credit-risk reports' figures (credit.risk_figures) on a small known book: the
bucket and classification of every loan and card at each month end read from the
change log (a status carries over until a next row), the balances of the month's
last business date, the roll rates between month ends, the vintages, and which
months the nightly refresh rewrites.

The book, as of Friday 4 December 2026:
- a mortgage at the 中关村 outlet (11101), opened 15 August, 500,000 then 2,000
  less each month end; 10 days past due from 5 September, 45 days and special
  mention from 10 October, no row in November (carried over), current again from
  2 December: current → 1–30 → 31–60 → 31–60 → current;
- a credit card at the 五道口 outlet (11102), opened 1 September, 10,000; 100 days
  past due and doubtful from 20 September;
- a consumer loan in Shanghai (12101), opened January 2025, 20,000, never reported
  on (current);
- a card at 11101 opened in January, closed and repaid: 40 days past due from
  1 March, current from 1 June (on book in March, gone by June);
- a deposit (not credit)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from credit.buckets import OverdueBucket, bucket_of
from credit.models import MonthEndSnapshot, MonthEndStatus, RiskFigure, RollRate, Vintage
from credit.risk_figures import month_ends, risk_figures_rebuild, risk_figures_refresh
from customers.choices import AccountCategory, AccountStatus, RiskClass
from customers.models import AccountBalance
from tests.credit.credit_helpers import status

pytestmark = pytest.mark.django_db

D = datetime.date
AS_OF = D(2026, 12, 4)
# the last business day of each month (31 October 2026 is a Saturday)
BALANCE_DATES = [D(2026, 8, 31), D(2026, 9, 30), D(2026, 10, 30), D(2026, 11, 30), AS_OF]
B = OverdueBucket


def _balances(account, amounts: list[str]) -> None:
    for day, amount in zip(BALANCE_DATES, amounts, strict=True):
        if amount:
            AccountBalance.objects.create(
                business_date=day, account=account, balance=Decimal(amount), cny_balance=Decimal(amount)
            )


def build_book(org, new_customer, add_account) -> dict:
    """The module docstring's book; returns its accounts by name."""
    near = new_customer(branch="11101")
    other = new_customer(branch="11102", name="李四")
    far = new_customer(branch="12101", name="王五")
    mortgage = add_account(near, category=AccountCategory.LOAN_MORTGAGE, open_date=D(2026, 8, 15))
    _balances(mortgage, ["500000", "498000", "496000", "494000", "493000"])
    status(mortgage, D(2026, 9, 5), 10, "3000")
    status(mortgage, D(2026, 10, 10), 45, "6000", RiskClass.SPECIAL_MENTION)
    status(mortgage, D(2026, 12, 2))
    card = add_account(other, category=AccountCategory.CREDIT_CARD, open_date=D(2026, 9, 1))
    _balances(card, ["", "10000", "10000", "10000", "10000"])
    status(card, D(2026, 9, 20), 100, "2500", RiskClass.DOUBTFUL)
    loan = add_account(far, category=AccountCategory.LOAN_CONSUMER, open_date=D(2025, 1, 1))
    _balances(loan, ["20000"] * 5)
    repaid = add_account(
        near, category=AccountCategory.CREDIT_CARD, open_date=D(2026, 1, 10), status=AccountStatus.CLOSED
    )
    status(repaid, D(2026, 3, 1), 40, "800", RiskClass.SPECIAL_MENTION)
    status(repaid, D(2026, 6, 1))
    deposit = add_account(near, category=AccountCategory.DEP_CUR, open_date=D(2026, 8, 1))
    _balances(deposit, ["1000"] * 5)
    return {"mortgage": mortgage, "card": card, "loan": loan, "repaid": repaid, "deposit": deposit}


@pytest.fixture
def book(org, new_customer, add_account):
    return build_book(org, new_customer, add_account)


def _figures(month: D) -> set[tuple]:
    return set(
        RiskFigure.objects.filter(month=month).values_list(
            "branch__code", "category", "bucket", "risk_class", "accounts", "balance", "overdue_amount"
        )
    )


def _rolls(month: D) -> set[tuple]:
    return set(
        RollRate.objects.filter(month=month).values_list(
            "branch__code", "category", "from_bucket", "to_bucket", "accounts", "balance"
        )
    )


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, B.CURRENT), (1, B.DAYS_1_30), (30, B.DAYS_1_30), (31, B.DAYS_31_60), (60, B.DAYS_31_60),
     (61, B.DAYS_61_90), (90, B.DAYS_61_90), (91, B.DAYS_90_PLUS), (400, B.DAYS_90_PLUS)],
)  # fmt: skip
def test_the_buckets_include_both_bounds(days, bucket):
    assert bucket_of(days) == bucket


def test_each_month_end_reads_the_status_then_and_the_months_last_balance(book):
    # when
    written = risk_figures_rebuild(as_of=AS_OF)

    # then
    assert written["months"] == 24
    assert _figures(D(2026, 8, 1)) == {
        ("11101", "LOAN_MORTGAGE", B.CURRENT, 1, 1, Decimal("500000.00"), Decimal("0.00")),
        ("12101", "LOAN_CONSUMER", B.CURRENT, 1, 1, Decimal("20000.00"), Decimal("0.00")),
    }
    assert _figures(D(2026, 9, 1)) == {
        ("11101", "LOAN_MORTGAGE", B.DAYS_1_30, 1, 1, Decimal("498000.00"), Decimal("3000.00")),
        ("11102", "CREDIT_CARD", B.DAYS_90_PLUS, 4, 1, Decimal("10000.00"), Decimal("2500.00")),
        ("12101", "LOAN_CONSUMER", B.CURRENT, 1, 1, Decimal("20000.00"), Decimal("0.00")),
    }
    # October's last business day is the 30th: its balances stand for the 31st
    assert (
        "11101",
        "LOAN_MORTGAGE",
        B.DAYS_31_60,
        2,
        1,
        Decimal("496000.00"),
        Decimal("6000.00"),
    ) in _figures(D(2026, 10, 1))
    # no row in November: October's status carries over
    assert (
        "11101",
        "LOAN_MORTGAGE",
        B.DAYS_31_60,
        2,
        1,
        Decimal("494000.00"),
        Decimal("6000.00"),
    ) in _figures(D(2026, 11, 1))
    # the current month stands at the newest business date
    december = RiskFigure.objects.filter(month=D(2026, 12, 1), category="LOAN_MORTGAGE").get()
    assert (december.as_of, december.bucket, december.balance) == (AS_OF, B.CURRENT, Decimal("493000.00"))
    assert set(RiskFigure.objects.values_list("month", "as_of").filter(month=D(2026, 10, 1))) == {
        (D(2026, 10, 1), D(2026, 10, 31))
    }


def test_a_closed_account_counts_while_it_owes_and_a_deposit_never(book):
    risk_figures_rebuild(as_of=AS_OF)
    march = RiskFigure.objects.get(month=D(2026, 3, 1), branch__code="11101")
    assert (march.category, march.bucket, march.risk_class, march.balance) == (
        "CREDIT_CARD",
        B.DAYS_31_60,
        RiskClass.SPECIAL_MENTION,
        Decimal("0"),
    )
    assert not RiskFigure.objects.filter(month=D(2026, 6, 1), branch__code="11101").exists()
    assert not RiskFigure.objects.filter(category=AccountCategory.DEP_CUR).exists()


def test_roll_rates_follow_each_account_from_one_month_end_to_the_next(book):
    risk_figures_rebuild(as_of=AS_OF)
    # the card was not on book at the end of August: it has no roll in September
    assert _rolls(D(2026, 9, 1)) == {
        ("11101", "LOAN_MORTGAGE", B.CURRENT, B.DAYS_1_30, 1, Decimal("498000.00")),
        ("12101", "LOAN_CONSUMER", B.CURRENT, B.CURRENT, 1, Decimal("20000.00")),
    }
    assert ("11101", "LOAN_MORTGAGE", B.DAYS_1_30, B.DAYS_31_60, 1, Decimal("496000.00")) in _rolls(
        D(2026, 10, 1)
    )
    assert ("11102", "CREDIT_CARD", B.DAYS_90_PLUS, B.DAYS_90_PLUS, 1, Decimal("10000.00")) in _rolls(
        D(2026, 10, 1)
    )
    assert ("11101", "LOAN_MORTGAGE", B.DAYS_31_60, B.DAYS_31_60, 1, Decimal("494000.00")) in _rolls(
        D(2026, 11, 1)
    )
    assert ("11101", "LOAN_MORTGAGE", B.DAYS_31_60, B.CURRENT, 1, Decimal("493000.00")) in _rolls(
        D(2026, 12, 1)
    )
    # the repaid card stayed 31-60 days past due through May, then left the book
    assert ("11101", "CREDIT_CARD", B.DAYS_31_60, B.DAYS_31_60, 1, Decimal("0")) in _rolls(D(2026, 5, 1))
    assert not RollRate.objects.filter(month=D(2026, 6, 1), category="CREDIT_CARD").exists()


def test_a_vintage_keeps_its_accounts_and_counts_ever_and_now_30_plus(book):
    risk_figures_rebuild(as_of=AS_OF)
    mortgages = list(
        Vintage.objects.filter(category="LOAN_MORTGAGE")
        .order_by("months_on_book")
        .values_list("opened", "months_on_book", "accounts", "ever_past_due", "now_past_due")
    )
    assert mortgages == [
        (D(2026, 8, 1), 0, 1, 0, 0),
        (D(2026, 8, 1), 1, 1, 0, 0),  # 10 days past due: not 30+
        (D(2026, 8, 1), 2, 1, 1, 1),
        (D(2026, 8, 1), 3, 1, 1, 1),
        (D(2026, 8, 1), 4, 1, 1, 0),  # current again, but once 30+
    ]
    # the repaid card stays in its January vintage, ever 30+ since March
    repaid = dict(
        Vintage.objects.filter(category="CREDIT_CARD", opened=D(2026, 1, 1)).values_list(
            "months_on_book", "ever_past_due"
        )
    )
    assert repaid == {m: (1 if m >= 2 else 0) for m in range(12)}
    # the consumer loan opened in the window's first month; nothing opened before it
    assert Vintage.objects.filter(category="LOAN_CONSUMER").count() == 24
    assert not Vintage.objects.filter(opened__lt=D(2025, 1, 1)).exists()


def test_the_nightly_refresh_rewrites_the_months_a_load_can_change(book):
    risk_figures_rebuild(as_of=AS_OF)
    november = _figures(D(2026, 11, 1))
    # a late status of 27 November: only a load of that date rewrites November
    status(book["loan"], D(2026, 11, 27), 5, "100")

    assert risk_figures_refresh([AS_OF], as_of=AS_OF)["months"] == 1
    assert _figures(D(2026, 11, 1)) == november

    assert risk_figures_refresh([D(2026, 11, 27), AS_OF], as_of=AS_OF)["months"] == 2
    assert ("12101", "LOAN_CONSUMER", B.DAYS_1_30, 1, 1, Decimal("20000.00"), Decimal("100.00")) in _figures(
        D(2026, 11, 1)
    )
    assert ("12101", "LOAN_CONSUMER", B.CURRENT, B.DAYS_1_30, 1, Decimal("20000.00")) in _rolls(
        D(2026, 11, 1)
    )
    # the months before stay as they were, once each
    assert RiskFigure.objects.filter(month=D(2026, 9, 1)).count() == 3


def test_a_new_month_drops_the_oldest_and_a_first_refresh_fills_the_window(book):
    assert risk_figures_refresh([AS_OF], as_of=AS_OF)["months"] == 24  # nothing written yet
    assert risk_figures_refresh([D(2027, 1, 4)], as_of=D(2027, 1, 4))["months"] == 1
    months = sorted(set(RiskFigure.objects.values_list("month", flat=True)))
    assert months[0] == D(2025, 2, 1) and months[-1] == D(2027, 1, 1) and len(months) == 24
    assert not Vintage.objects.filter(opened=D(2025, 1, 1)).exists()


def test_the_month_end_snapshots_are_kept_and_a_rebuild_reads_them(book):
    # the window's 24 months and the month before it, each written once
    assert risk_figures_rebuild(as_of=AS_OF)["snapshots"] == 25
    assert MonthEndSnapshot.objects.count() == 25
    assert MonthEndStatus.objects.filter(month=D(2026, 9, 1)).count() == 3  # mortgage, card, loan
    november = _figures(D(2026, 11, 1))
    # a status of 27 November that no load has announced: the kept snapshot stands
    status(book["loan"], D(2026, 11, 27), 5, "100")

    again = risk_figures_rebuild(as_of=AS_OF)

    assert (again["snapshots"], again["months"]) == (0, 24)
    assert _figures(D(2026, 11, 1)) == november
    # from the history, every month end is read again
    assert risk_figures_rebuild(as_of=AS_OF, from_history=True)["snapshots"] == 25
    assert ("12101", "LOAN_CONSUMER", B.DAYS_1_30, 1, 1, Decimal("20000.00"), Decimal("100.00")) in _figures(
        D(2026, 11, 1)
    )


def test_a_night_writes_the_current_month_end_and_reads_the_previous_one_kept(book):
    risk_figures_rebuild(as_of=D(2026, 12, 3))
    december = MonthEndSnapshot.objects.get(month=D(2026, 12, 1))
    assert december.as_of == D(2026, 12, 3)

    assert risk_figures_refresh([AS_OF], as_of=AS_OF)["snapshots"] == 1

    december.refresh_from_db()
    assert (december.as_of, december.balance_date, december.accounts) == (AS_OF, AS_OF, 3)
    # the mortgage, 31-60 at the end of November (kept), current on 4 December
    assert ("11101", "LOAN_MORTGAGE", B.DAYS_31_60, B.CURRENT, 1, Decimal("493000.00")) in _rolls(
        D(2026, 12, 1)
    )
    # a rebuild as of a later day writes the current month's snapshot again, only it
    assert risk_figures_rebuild(as_of=D(2026, 12, 7))["snapshots"] == 1
    assert MonthEndSnapshot.objects.get(month=D(2026, 12, 1)).as_of == D(2026, 12, 7)


def test_the_snapshots_before_the_window_and_its_previous_month_go(book):
    risk_figures_rebuild(as_of=AS_OF)
    risk_figures_refresh([D(2027, 1, 4)], as_of=D(2027, 1, 4))
    # the window is February 2025 to January 2027; January 2025 starts its roll rates
    assert min(MonthEndSnapshot.objects.values_list("month", flat=True)) == D(2025, 1, 1)
    assert not MonthEndStatus.objects.filter(month__lt=D(2025, 1, 1)).exists()
    assert MonthEndSnapshot.objects.count() == 25


def test_snapshots_lost_in_a_crash_are_written_again_by_the_next_night(book):
    # given the figures of a rebuild, and the snapshots lost (on PostgreSQL they are
    # unlogged: a crash empties both tables together)
    risk_figures_rebuild(as_of=AS_OF)
    before = {m: (_figures(m), _rolls(m)) for m in (D(2026, 11, 1), D(2026, 12, 1))}
    MonthEndStatus.objects.all().delete()
    MonthEndSnapshot.objects.all().delete()

    # when a night refreshes December
    written = risk_figures_refresh([AS_OF], as_of=AS_OF)

    # then it wrote November's snapshot (its roll rates' start) and December's again
    assert written["snapshots"] == 2
    assert set(MonthEndSnapshot.objects.values_list("month", flat=True)) == {D(2026, 11, 1), D(2026, 12, 1)}
    assert {m: (_figures(m), _rolls(m)) for m in before} == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="unlogged partitions are PostgreSQL's")
def test_the_snapshots_are_unlogged_and_a_month_end_is_a_partition(book):
    risk_figures_rebuild(as_of=AS_OF)
    risk_figures_refresh([D(2027, 1, 4)], as_of=D(2027, 1, 4))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relpersistence FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass",
            [MonthEndStatus._meta.db_table],
        )
        partitions = dict(cursor.fetchall())
        cursor.execute(
            "SELECT relpersistence FROM pg_class WHERE relname = %s", [MonthEndSnapshot._meta.db_table]
        )
        assert cursor.fetchone() == ("u",)
    table = MonthEndStatus._meta.db_table
    months = sorted(name for name in partitions if name != f"{table}_default")
    # January 2025 (the roll rates' start of the window's first month) to January 2027
    assert (months[0], months[-1], len(months)) == (f"{table}_m202501", f"{table}_m202701", 25)
    assert set(partitions.values()) == {"u"}


def test_a_month_without_balances_has_no_balance_date():
    ends = month_ends(D(2026, 7, 1), D(2026, 8, 3))
    assert [(e.month, e.as_of, e.balance_date) for e in ends] == [
        (D(2026, 7, 1), D(2026, 7, 31), None),
        (D(2026, 8, 1), D(2026, 8, 3), None),
    ]


def test_the_command_rebuilds_the_months_asked(book, capsys):
    call_command("credit_risk_figures", "--months", "3", "--date", "2026-12-04")
    assert "3 months up to 2026-12-04" in capsys.readouterr().out
    # the command reads the history again; summing the kept snapshots writes none
    call_command("credit_risk_figures", "--months", "3", "--date", "2026-12-04")
    assert "4 month-end snapshots written" in capsys.readouterr().out
    call_command("credit_risk_figures", "--months", "3", "--date", "2026-12-04", "--from-snapshots")
    assert "0 month-end snapshots written" in capsys.readouterr().out
    assert sorted(set(RiskFigure.objects.values_list("month", flat=True))) == [
        D(2026, 10, 1),
        D(2026, 11, 1),
        D(2026, 12, 1),
    ]
