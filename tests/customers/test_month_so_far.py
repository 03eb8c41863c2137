"""The month so far (`customers.aum`): a night adds its day to the month's kept sums
instead of summing the month again, and gives exactly what summing the month gives,
whatever order the dates come in."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from customers.aum import aum_refresh
from customers.models import AccountBalance, Customer, CustomerDailyAum, CustomerMonthlyAum, MonthlyAumBuild

pytestmark = pytest.mark.django_db

NOV = datetime.date(2026, 11, 1)


def day(n: int) -> datetime.date:
    return NOV.replace(day=n)


def month_rows(month: datetime.date = NOV) -> dict[int, tuple]:
    return {
        r.customer_id: (r.avg_aum, r.end_aum, r.avg_liabilities, r.days, r.aum_sum, r.liabilities_sum)
        for r in CustomerMonthlyAum.objects.filter(month=month)
    }


def summed_again(through: datetime.date) -> dict[int, tuple]:
    """The month's rows as summing the month from its daily rows gives them."""
    MonthlyAumBuild.objects.all().delete()
    aum_refresh(through)
    return month_rows(through.replace(day=1))


@pytest.fixture
def book(new_customer, add_account):
    """Three customers over a working week and a weekend: one all along (a deposit
    and a mortgage), one whose balances stop on the 4th, one who opens on the 5th."""
    steady, leaving, joining = new_customer(), new_customer(), new_customer()
    accounts = {
        "dep": add_account(steady, category="DEP_CUR", cny_balance="1000.10"),
        "loan": add_account(steady, category="LOAN_MORTGAGE", cny_balance="80000"),
        "fund": add_account(leaving, category="FUND", cny_balance="3000.33"),
        "new": add_account(joining, category="DEP_TIME", cny_balance="500"),
    }
    plan = {
        day(2): {"dep": "1000.10", "loan": "80000", "fund": "3000.33"},
        day(3): {"dep": "1200.20", "loan": "79900", "fund": "3100.01"},
        day(4): {"dep": "900.05", "loan": "79800", "fund": "2900.99"},
        day(5): {"dep": "1500.00", "loan": "79700", "new": "500"},
        day(6): {"dep": "1499.99", "loan": "79600", "new": "700.07"},
        day(9): {"dep": "1600.00", "loan": "79500", "new": "800"},  # Monday: the weekend has no batch
    }
    for date, balances in plan.items():
        AccountBalance.objects.bulk_create(
            AccountBalance(
                business_date=date, account=accounts[k], balance=Decimal(v), cny_balance=Decimal(v)
            )
            for k, v in balances.items()
        )
    return {
        "steady": steady,
        "leaving": leaving,
        "joining": joining,
        "dates": sorted(plan),
        "accounts": accounts,
    }


class TestMonthSoFar:
    def test_night_by_night_equals_summing_the_month(self, book):
        for date in book["dates"]:
            aum_refresh(date)
            nightly = month_rows()
            assert MonthlyAumBuild.objects.get(month=NOV).through == date
            assert nightly == summed_again(date), date

    def test_the_figures_a_manager_reads(self, book):
        for date in book["dates"]:
            aum_refresh(date)
        rows = month_rows()
        # 9 calendar days elapsed; the steady customer's deposit days add up to 7,700.34
        steady = rows[book["steady"].pk]
        assert steady[0] == Decimal("855.59")  # 7700.34 / 9, rounded
        assert steady[1] == Decimal("1600.00")  # the month end: Monday's balance
        assert steady[3] == 6  # days with balances
        assert steady[2] == Decimal("53166.67")  # (80000 + ... + 79500) / 9
        leaving = rows[book["leaving"].pk]
        assert leaving[:2] == (Decimal("1000.15"), Decimal("0"))  # 9001.33 / 9; nothing on the 9th
        assert leaving[3] == 3
        joining = rows[book["joining"].pk]
        assert joining[:2] == (Decimal("222.23"), Decimal("800.00"))  # 2000.07 / 9
        book["steady"].refresh_from_db()
        assert book["steady"].month_avg_aum == Decimal("855.59")

    def test_a_night_adds_its_day_without_reading_the_month_again(self, book):
        """The kept sums are what a night builds on: a daily row of an earlier day
        changed behind the load's back is not read again by the next night (summing
        the month again, as a batch loaded again does, reads it)."""
        first, second, third = book["dates"][:3]
        aum_refresh(first)
        aum_refresh(second)
        steady = book["steady"].pk
        CustomerDailyAum.objects.filter(customer_id=steady, business_date=first).update(aum=Decimal("0"))
        aum_refresh(third)
        assert month_rows()[steady][4] == Decimal("3100.35")  # 1000.10 + 1200.20 + 900.05
        assert summed_again(third)[steady][4] == Decimal("2100.25")

    def test_a_batch_loaded_again_or_late_sums_the_month_again(self, book):
        dates = book["dates"]
        for date in dates[:4]:
            aum_refresh(date)
        # the 3rd's deposit balance corrected and its batch loaded again, then the
        # nights go on: the same figures as summing the month with the correction
        AccountBalance.objects.filter(account=book["accounts"]["dep"], business_date=day(3)).update(
            cny_balance=Decimal("2200.20")
        )
        aum_refresh(day(3))
        assert MonthlyAumBuild.objects.get(month=NOV).through == day(3)
        # the month as of the 3rd, summed again: 1000.10 + 2200.20
        assert month_rows()[book["steady"].pk][4] == Decimal("3200.30")
        for date in dates[3:]:
            aum_refresh(date)
        assert month_rows() == summed_again(dates[-1])
        aum_refresh(dates[-1])  # the last date again changes nothing
        assert month_rows() == summed_again(dates[-1])

    def test_a_new_month_starts_from_its_own_days(self, book):
        for date in book["dates"]:
            aum_refresh(date)
        december = datetime.date(2026, 12, 1)
        AccountBalance.objects.create(
            business_date=december,
            account=book["accounts"]["dep"],
            balance=Decimal("90"),
            cny_balance=Decimal("90"),
        )
        aum_refresh(december)
        assert month_rows(december) == {
            book["steady"].pk: (Decimal("90"), Decimal("90"), Decimal("0"), 1)
            + (
                Decimal("90"),
                Decimal("0"),
            )
        }
        assert MonthlyAumBuild.objects.get(month=december).through == december
        # November's rows and build stay as they were
        assert MonthlyAumBuild.objects.get(month=NOV).through == day(9)
        assert month_rows()[book["steady"].pk][3] == 6
        assert Customer.objects.get(pk=book["steady"].pk).month_avg_aum == Decimal("90")
