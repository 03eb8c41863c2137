"""The credit panel of the customer's 360 view (credit.panels): each loan and card
(open, or closed and still past due) with its masked number, category, balance,
current status and month-end trend, read from the change log (the latest row on or
before a date; none: current); the customer's totals; an empty state without loans
or cards; only for users who see the customer's accounts, of customers they may
see; two queries at most, whatever the number of accounts."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit.panels import customer_panel
from credit.selectors import credit_panel
from customers import panels
from customers.choices import AccountCategory, RiskClass
from customers.masking import mask_account_no
from customers.models import Customer
from tests.credit.credit_helpers import (
    AS_OF,
    CARD_NO,
    CLOSED_LOAN_NO,
    FULL_NUMBERS,
    MONTH_ENDS,
    MORTGAGE_NO,
    book_of_credit,
    status,
)
from tests.customers.conftest import log_in

pytestmark = pytest.mark.django_db

# the 360 view's bound with the sections registered before this one
# (tests/customers/test_detail_360.py), and what the credit panel adds to it
PAGE_BOUND = 25
PANEL_QUERIES = 2


@pytest.fixture
def customer(demo_users, new_customer):
    return new_customer(branch="11101", manager=demo_users["demo_cm1"], name="王小明", aum_date=AS_OF)


def _page(client, customer) -> str:
    response = client.get(f"/customers/{customer.customer_no}/")
    assert response.status_code == 200
    return response.content.decode()


def _panel(html: str) -> str:
    """The credit panel: from its card to the accounts card that follows it."""
    assert 'data-testid="credit-panel"' in html, "no credit panel on the page"
    return html.split('data-testid="credit-panel"', 1)[1].split(">Accounts</h2>", 1)[0]


def _text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def _rows(panel: str) -> dict[str, list[str]]:
    """{masked number: the texts of the row's cells after it} of the panel's table."""
    rows = {}
    for row in panel.split('<tr data-testid="credit-account">')[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.split("</tr>", 1)[0], re.S)
        texts = [_text(cell) for cell in cells]
        rows[texts[0].split()[0]] = texts
    return rows


def test_the_panel_shows_each_loan_and_card_with_its_status_and_trend(
    client, customer, add_account, demo_password
):
    book_of_credit(customer, add_account)
    log_in(client, "demo_cm1", demo_password)

    panel = _panel(_page(client, customer))
    rows = _rows(panel)

    assert "As of 2026-12-04" in panel
    # open loans and cards first, each by its masked number; the closed loan still
    # past due; neither the repaid closed card nor the deposit
    assert list(rows) == [
        mask_account_no(MORTGAGE_NO),
        mask_account_no(CARD_NO),
        mask_account_no(CLOSED_LOAN_NO),
    ]
    mortgage, card, closed_loan = rows.values()
    # number, category, balance, days and amount past due, class, since
    assert mortgage[1:7] == ["Mortgage loan", "850,000.00", "95", "12,600.00", "Substandard", "2026-10-05"]
    # never reported: current as far as we know
    assert card[1:7] == ["Credit card", "12,345.67", "0", "0.00", "Normal", "—"]
    # reported in May, before the trend's first month end: it still holds
    assert closed_loan[0] == f"{mask_account_no(CLOSED_LOAN_NO)} Closed"
    assert closed_loan[1:7] == ["Consumer loan", "0.00", "200", "3,000.00", "Loss", "2026-05-20"]
    # the month ends, oldest first, as days past due and classification
    headers = re.findall(r'data-testid="credit-month-end">([^<]*)<', panel)
    assert headers == [day.strftime("%Y-%m") for day in MONTH_ENDS]
    assert mortgage[7:] == [
        "0 Normal",  # carried over from 15 March
        "0 Normal",
        "35 Special mention",  # from 10 August
        "35 Special mention",
        "95 Substandard",  # from 5 October
        "95 Substandard",
    ]
    assert card[7:] == ["0 Normal"] * 6
    assert closed_loan[7:] == ["200 Loss"] * 6
    # the customer's totals
    totals = _text(panel.split('data-testid="credit-totals"', 1)[1].split("</p>", 1)[0])
    assert "Outstanding (CNY): 862,345.67" in totals
    assert "Amount past due (CNY): 15,600.00" in totals
    assert "Worst classification: Loss" in totals
    # labels, never codes
    assert "LOAN_MORTGAGE" not in panel and "CREDIT_CARD" not in panel


def test_past_due_amounts_and_non_performing_classes_are_highlighted(
    client, customer, add_account, demo_password
):
    book_of_credit(customer, add_account)
    log_in(client, "demo_cm1", demo_password)

    panel = _panel(_page(client, customer))

    rows = panel.split('<tr data-testid="credit-account">')[1:]
    mortgage, card = rows[0], rows[1]
    assert (
        '<td class="text-end text-danger fw-semibold" data-figure="overdue-amount">12,600.00</td>' in mortgage
    )
    assert '<span class="badge text-bg-danger" data-testid="non-performing">Substandard</span>' in mortgage
    assert "text-danger" not in card  # current: nothing stands out
    assert '<strong data-figure="overdue-amount" class="text-danger">15,600.00</strong>' in panel
    assert panel.count('data-testid="non-performing"') == 3  # two accounts and the worst of the totals


def test_a_special_mention_is_marked_but_not_as_non_performing(client, customer, add_account, demo_password):
    loan = add_account(customer, category=AccountCategory.LOAN_CONSUMER, cny_balance="5000")
    status(loan, datetime.date(2026, 11, 20), 12, "300.00", RiskClass.SPECIAL_MENTION)
    log_in(client, "demo_cm1", demo_password)

    panel = _panel(_page(client, customer))

    assert '<span class="badge text-bg-warning">Special mention</span>' in panel
    assert 'data-testid="non-performing"' not in panel


def test_no_full_account_number_reaches_the_page(client, customer, add_account, demo_password):
    book_of_credit(customer, add_account)
    for username in ("demo_cm1", "demo_bh", "demo_bm", "demo_audit"):
        client.logout()
        log_in(client, username, demo_password)

        html = _page(client, customer)

        assert 'data-testid="credit-panel"' in html, username
        for number in FULL_NUMBERS:
            assert number not in html, (username, number)


def test_a_customer_without_loans_or_cards_shows_the_empty_state(
    client, customer, add_account, demo_password
):
    add_account(customer, category=AccountCategory.DEP_TIME)
    log_in(client, "demo_cm1", demo_password)

    panel = _panel(_page(client, customer))

    assert 'data-testid="credit-empty"' in panel
    assert "No loans or cards." in panel
    assert 'data-testid="credit-accounts"' not in panel


def test_a_closed_account_repaid_alone_shows_the_empty_state(client, customer, add_account, demo_password):
    book = book_of_credit(customer, add_account)
    for kind in ("mortgage", "card", "closed_loan"):
        book[kind].delete()
    log_in(client, "demo_cm1", demo_password)

    assert "No loans or cards." in _panel(_page(client, customer))


def test_a_user_outside_the_customers_scope_gets_no_page(
    client,
    demo_users,
    customer,
    new_customer,
    add_account,
    demo_password,
):
    book_of_credit(customer, add_account)
    elsewhere = new_customer(branch="12101", manager=demo_users["demo_cm3"], aum_date=AS_OF)
    loan = add_account(elsewhere, category=AccountCategory.LOAN_BUSINESS, cny_balance="300000")
    status(loan, datetime.date(2026, 9, 9), 60, "9000.00", RiskClass.SUBSTANDARD)

    # a colleague at another outlet: the customer does not exist for them
    log_in(client, "demo_cm2", demo_password)
    assert client.get(f"/customers/{customer.customer_no}/").status_code == 404
    # the branch head sees their subtree's customer, not another branch's
    client.logout()
    log_in(client, "demo_bh", demo_password)
    assert mask_account_no(MORTGAGE_NO) in _panel(_page(client, customer))
    assert client.get(f"/customers/{elsewhere.customer_no}/").status_code == 404
    # and the accounts themselves are read through the scope
    assert credit_panel(user=demo_users["demo_cm2"], customer=customer).accounts == []
    assert credit_panel(user=demo_users["demo_bh"], customer=elsewhere).accounts == []
    section = customer_panel(customer, demo_users["demo_cm2"])
    assert section is not None and section.context["credit"].overdue_amount == Decimal("0")


def test_a_role_that_may_not_see_customers_gets_no_panel(
    client, demo_users, customer, add_account, demo_password
):
    # the parameter manager sees no customer's accounts: no 360 page, no panel
    book_of_credit(customer, add_account)
    log_in(client, "demo_pm", demo_password)

    response = client.get(f"/customers/{customer.customer_no}/")

    assert response.status_code == 403
    assert "12,600.00" not in response.content.decode()
    assert customer_panel(customer, demo_users["demo_pm"]) is None
    assert "credit" not in [section.name for section in panels.sections(customer, demo_users["demo_pm"])]


def test_an_inactive_user_gets_no_panel(demo_users, customer, add_account):
    book_of_credit(customer, add_account)
    user = demo_users["demo_cm1"]
    user.is_active = False

    assert customer_panel(customer, user) is None


def test_the_status_is_read_on_the_date_the_customers_figures_stand_at(demo_users, customer, add_account):
    # given a status reported after the customer's figures' date (a later load)
    loan = add_account(customer, category=AccountCategory.LOAN_CONSUMER, cny_balance="5000")
    status(loan, datetime.date(2026, 7, 1), 10, "100.00", RiskClass.SPECIAL_MENTION)
    status(loan, datetime.date(2026, 12, 10), 45, "900.00", RiskClass.SUBSTANDARD)
    user = demo_users["demo_cm1"]

    [account] = credit_panel(user=user, customer=customer).accounts
    later = credit_panel(user=user, customer=customer, as_of=datetime.date(2026, 12, 31))

    assert (account.status.overdue_days, account.status.since) == (10, datetime.date(2026, 7, 1))
    assert [m.status.overdue_days for m in account.trend] == [0, 10, 10, 10, 10, 10]
    # on a month end, that month end is the trend's last
    assert later.month_ends[-1] == datetime.date(2026, 12, 31)
    assert later.accounts[0].status.overdue_days == later.accounts[0].trend[-1].status.overdue_days == 45


def test_the_panel_runs_two_queries_whatever_the_number_of_accounts(demo_users, customer, add_account):
    book_of_credit(customer, add_account)
    user = demo_users["demo_cm1"]
    # as on the 360 view: permissions, roles and the scope already read for the page
    user.has_perm("customers.view_customer")
    assert Customer.objects.visible_to(user).filter(pk=customer.pk).exists()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            section = customer_panel(customer, user)
            assert section is not None
            shown = [m.status for a in section.context["credit"].accounts for m in a.trend]
            assert shown  # everything read by now
        return len(captured)

    assert queries() <= PANEL_QUERIES
    # given ten more loans, each with a history
    for n in range(10):
        loan = add_account(customer, category=AccountCategory.LOAN_CONSUMER, cny_balance=f"{1000 + n}")
        status(loan, datetime.date(2026, 5, 1), n, f"{n}.00", RiskClass.SPECIAL_MENTION)
        status(loan, datetime.date(2026, 9, 1), n + 30, f"{n + 30}.00", RiskClass.SUBSTANDARD)
    assert queries() <= PANEL_QUERIES
    assert len(credit_panel(user=user, customer=customer).accounts) == 13


def test_the_page_with_the_panel_stays_bounded(
    client, customer, add_account, demo_password, django_assert_max_num_queries
):
    book_of_credit(customer, add_account)
    log_in(client, "demo_cm1", demo_password)
    client.get(f"/customers/{customer.customer_no}/")  # warm the session

    with django_assert_max_num_queries(PAGE_BOUND + PANEL_QUERIES):
        html = _page(client, customer)
    assert mask_account_no(MORTGAGE_NO) in _panel(html)
