"""The page below a customer's row (the credited days and the balances behind them)
and the disputes raised from it, as a manager and a branch head use them."""

import pytest

from core.approvals import ApprovalStatus
from performance.engine import round_half_up
from performance.models import CustomerResult, Dispute
from tests.performance.conftest import D

pytestmark = pytest.mark.django_db


def days_url(manager, customer) -> str:
    return f"/performance/managers/{manager.employee_no}/days/{customer.customer_no}/?period=2026-11"


def test_the_manager_sees_the_days_accounts_and_may_dispute(as_user, computed, django_assert_max_num_queries):
    m1, a = computed["m1"], computed["a"]
    client = as_user(m1)
    # the page's own reads, and the engine's statements for this one customer (a
    # fixed number, whatever the days and accounts)
    with django_assert_max_num_queries(60):
        response = client.get(days_url(m1, a))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="days-table"' in page and 'data-testid="accounts-table"' in page
    assert 'data-testid="dispute-form"' in page and 'data-testid="data-changed"' not in page
    # the total shown is A's row of M1's figures, rounded once
    row = CustomerResult.objects.get(
        version__period__code="2026-11", version__number=0, customer=a, manager=m1
    )
    total = round_half_up(row.liability + row.asset + row.intermediary)
    assert response.context["explanation"].total == total
    assert f"{total:,.2f}" in page.split('data-testid="customer-total"')[1].split("</p>")[0]


def test_others_see_the_days_without_the_form_or_not_at_all(as_user, computed, demo_users):
    m1, a = computed["m1"], computed["a"]
    page = as_user(demo_users["demo_bh"]).get(days_url(m1, a))
    assert page.status_code == 200 and 'data-testid="dispute-form"' not in page.content.decode()
    assert as_user(computed["m2"]).get(days_url(m1, a)).status_code == 404  # not M2's figures
    assert as_user(m1).get(days_url(m1, computed["d"])).status_code == 404  # brought M1 nothing
    # a customer M1 had until the 5th (M2's since): days shown, accounts and name not
    page = as_user(m1).get(days_url(m1, computed["b"])).content.decode()
    assert 'data-testid="accounts-hidden"' in page and computed["b"].name not in page
    # a customer M1 assists (split credit, running): in M1's scope, accounts and name shown
    page = as_user(m1).get(days_url(m1, computed["c"])).content.decode()
    assert 'data-testid="accounts-table"' in page and computed["c"].name in page


def test_a_decision_naming_an_unknown_employee_changes_nothing(as_user, computed, demo_users):
    m1, a = computed["m1"], computed["a"]
    as_user(m1).post(
        days_url(m1, a),
        {"claim": "not_mine", "first_day": "2026-11-09", "last_day": "2026-11-10", "reason": "moved away"},
    )
    dispute = Dispute.objects.get()
    head = as_user(demo_users["demo_bh"])
    response = head.post(f"/performance/disputes/{dispute.pk}/approve/", {"manager": "NOBODY"}, follow=True)
    assert "NOBODY" in response.content.decode()  # the message names the number
    dispute.refresh_from_db()
    assert dispute.status == ApprovalStatus.PENDING and dispute.manager_of_record is None
    # naming the disputing manager again is refused by the service, with its message
    response = head.post(
        f"/performance/disputes/{dispute.pk}/approve/", {"manager": m1.employee_no}, follow=True
    )
    dispute.refresh_from_db()
    assert dispute.status == ApprovalStatus.PENDING
    assert response.context["messages"] and any(m.level_tag == "error" for m in response.context["messages"])


def test_a_dispute_from_the_page_to_the_branch_heads_decision(as_user, computed, demo_users):
    m1, a = computed["m1"], computed["a"]
    client = as_user(m1)
    bad = client.post(
        days_url(m1, a),
        {"claim": "not_mine", "first_day": "2026-11-20", "last_day": "2026-11-25", "reason": "x"},
    )
    assert bad.status_code == 400 and not Dispute.objects.exists()
    response = client.post(
        days_url(m1, a),
        {"claim": "not_mine", "first_day": "2026-11-09", "last_day": "2026-11-10", "reason": "moved to M2"},
    )
    assert response.status_code == 302 and response["Location"] == "/performance/disputes/"
    dispute = Dispute.objects.get()
    assert (dispute.first_day, dispute.last_day, dispute.proposed_by) == (D(2026, 11, 9), D(2026, 11, 10), m1)
    assert "moved to M2" in client.get("/performance/disputes/").content.decode()
    # the manager cannot decide it
    assert client.post(f"/performance/disputes/{dispute.pk}/approve/").status_code == 403

    head = as_user(demo_users["demo_bh"])
    listed = head.get("/performance/disputes/?status=pending").content.decode()
    assert 'data-testid="dispute-row"' in listed
    response = head.post(
        f"/performance/disputes/{dispute.pk}/approve/", {"manager": computed["m2"].employee_no}
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == ApprovalStatus.APPROVED and dispute.manager_of_record == computed["m2"]
    # a bad status filter is a 400, not a silent empty list
    assert head.get("/performance/disputes/?status=nonsense").status_code == 400


def test_the_branch_head_chooses_whom_the_days_count_for_by_name(as_user, computed, demo_users, make_user):
    m1, m2, a = computed["m1"], computed["m2"], computed["a"]
    as_user(m1).post(
        days_url(m1, a),
        {"claim": "not_mine", "first_day": "2026-11-09", "last_day": "2026-11-10", "reason": "moved away"},
    )
    dispute = Dispute.objects.get()
    head = as_user(demo_users["demo_bh"])
    # the decision offers the client managers of the head's branches by name, and the pool
    page = head.get("/performance/disputes/?status=pending").content.decode()
    choice = page.split('data-testid="dispute-manager"')[1].split("</select>")[0]
    assert f'value="{m2.employee_no}"' in choice and m2.display_name in choice
    assert 'value=""' in choice and 'name="manager" maxlength' not in page
    # a manager of another branch (Shanghai) is refused, by number, and nothing changes
    far = make_user("client_manager", "12101")
    response = head.post(
        f"/performance/disputes/{dispute.pk}/approve/", {"manager": far.employee_no}, follow=True
    )
    assert f"{far.employee_no} is not a client manager of your branches" in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == ApprovalStatus.PENDING and dispute.manager_of_record is None
