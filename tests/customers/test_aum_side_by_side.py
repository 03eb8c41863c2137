"""The night's AUM refresh split over two connections (customers.aum, core.parallel):
the customer rows by two ranges of ids, each on a thread of its own, give every
customer the figures one transaction gives, those whose balances stopped included;
a second run of the same date changes nothing; and a part that fails leaves the
night owed, the next run putting every customer right."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from customers import aum
from customers.models import AccountBalance, Customer, CustomerMonthlyAum

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="connections at once: PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]

DAY1, DAY2 = datetime.date(2026, 11, 2), datetime.date(2026, 11, 3)


def test_the_customer_rows_by_two_ranges_on_two_connections(settings, monkeypatch, new_customer, add_account):
    settings.BULK_WRITERS = 2
    ranges: list[tuple[int, int, str]] = []
    written = aum._customer_figures

    def recorded(business_date, first, last):
        ranges.append((first, last, threading.current_thread().name))
        return written(business_date, first, last)

    monkeypatch.setattr(aum, "_customer_figures", recorded)

    # six customers: deposits and funds that move, a loan, one whose balances stop on day 2
    customers = [new_customer() for _ in range(6)]
    accounts = {}
    for n, customer in enumerate(customers):
        accounts[customer.pk] = (
            add_account(customer, category="DEP_CUR", cny_balance=str(1000 * (n + 1)), business_date=DAY1),
            add_account(customer, category="FUND", cny_balance="300", business_date=DAY1),
            add_account(customer, category="LOAN_CONSUMER", cny_balance="5000", business_date=DAY1),
        )
    aum.aum_refresh(DAY1)
    stopped = customers[0]
    for n, customer in enumerate(customers[1:], start=1):
        deposit, fund, loan = accounts[customer.pk]
        for account, amount in ((deposit, 1000 * (n + 1) + 100 * n), (fund, 300), (loan, 4000)):
            AccountBalance.objects.create(
                business_date=DAY2, account=account, balance=Decimal(amount), cny_balance=Decimal(amount)
            )
    counts = aum.aum_refresh(DAY2)

    # two ranges covering every customer id, on two threads other than this one
    day2 = sorted(ranges[len(ranges) // 2 :])  # the threads record in either order
    assert (
        len(day2) == 2
        and day2[0][0] <= min(c.pk for c in customers)
        and day2[1][1] >= max(c.pk for c in customers)
    )
    assert day2[0][1] + 1 == day2[1][0]
    assert len({name for _a, _b, name in day2} | {threading.current_thread().name}) == 3
    assert counts["customers"] == 5 and counts["emptied"] == 1 and counts["accounts"] == 15

    for n, customer in enumerate(customers):
        customer.refresh_from_db()
        day1_aum = Decimal(1000 * (n + 1) + 300)
        if customer == stopped:
            assert (customer.aum, customer.liabilities, customer.aum_date) == (0, 0, DAY2)
            assert customer.month_avg_aum == (day1_aum / 3).quantize(Decimal("0.01"))  # 3 days elapsed
            continue
        day2_aum = Decimal(1000 * (n + 1) + 100 * n + 300)
        assert (customer.aum, customer.liabilities, customer.aum_date) == (day2_aum, Decimal(4000), DAY2)
        assert customer.month_avg_aum == ((day1_aum + day2_aum) / 3).quantize(Decimal("0.01"))
        month = CustomerMonthlyAum.objects.get(customer=customer)
        assert (month.end_aum, month.days) == (day2_aum, 2)

    before = list(
        Customer.objects.order_by("pk").values_list("aum", "liabilities", "month_avg_aum", "aum_date")
    )
    again = aum.aum_refresh(DAY2)
    assert again["customers"] == 0 and again["emptied"] == 0
    assert (
        list(Customer.objects.order_by("pk").values_list("aum", "liabilities", "month_avg_aum", "aum_date"))
        == before
    )


def test_a_part_that_fails_leaves_the_night_owed_and_the_next_run_puts_it_right(
    settings, monkeypatch, new_customer, add_account
):
    settings.BULK_WRITERS = 2
    customers = [new_customer() for _ in range(4)]
    for n, customer in enumerate(customers):
        add_account(customer, category="DEP_CUR", cny_balance=str(1000 * (n + 1)), business_date=DAY1)
    written = aum._customer_figures
    high = max(c.pk for c in customers)

    def interrupted(business_date, first, last):
        if last >= high:  # the range of the last customers: its connection is lost
            raise RuntimeError("connection lost mid-part")
        return written(business_date, first, last)

    monkeypatch.setattr(aum, "_customer_figures", interrupted)
    with pytest.raises(RuntimeError, match="connection lost mid-part"):
        aum.aum_refresh(DAY1)
    # the other range committed; the interrupted one holds nothing of the night
    figures = dict(Customer.objects.values_list("pk", "aum"))
    assert figures[high] == 0 and any(figures[c.pk] > 0 for c in customers if c.pk != high)

    monkeypatch.setattr(aum, "_customer_figures", written)
    aum.aum_refresh(DAY1)  # the night run again
    for n, customer in enumerate(customers):
        customer.refresh_from_db()
        assert (customer.aum, customer.month_avg_aum, customer.aum_date) == (
            Decimal(1000 * (n + 1)),
            Decimal(1000 * (n + 1)) / 2,  # 2 calendar days of the month elapsed, one with a balance
            DAY1,
        )
