"""Below a branch pool's row of the board: the customers whose days had no manager
of record (the ones to give a manager), and their days. A branch head's over their
subtree, head office's; a client manager has no pool."""

from decimal import Decimal

import pytest

from performance.engine import round_half_up
from performance.models import CustomerResult, ManagerResult

pytestmark = pytest.mark.django_db


def pool_url(branch_code: str) -> str:
    return f"/performance/pools/{branch_code}/?period=2026-11"


def test_the_pool_lists_its_customers_and_they_add_up_to_its_figures(
    as_user, computed, demo_users, django_assert_max_num_queries
):
    pool = ManagerResult.objects.get(
        version__period__code="2026-11", version__number=0, manager=None, branch__code="11101"
    )
    client = as_user(demo_users["demo_bh"])
    board = client.get("/performance/", {"period": "2026-11"}).content.decode()
    assert 'href="/performance/pools/11101/?period=2026-11"' in board
    with django_assert_max_num_queries(20):
        response = client.get(pool_url("11101"))
    assert response.status_code == 200
    shown = {row.customer.customer_no for row in response.context["page"].rows}
    # D, nobody's all month, and E before M2 took them on the 4th
    assert shown == {computed["d"].customer_no, computed["e"].customer_no}
    rows = CustomerResult.objects.filter(
        version_id=pool.version_id, manager=None, customer__home_branch__code="11101"
    )
    assert (
        round_half_up(sum((r.liability + r.asset + r.intermediary for r in rows), Decimal(0))) == pool.total
    )
    page = response.content.decode()
    assert f"/performance/pools/11101/days/{computed['d'].customer_no}/" in page
    assert 'data-testid="manager-export"' not in page


def test_a_pool_customers_days_open_read_only(as_user, computed, demo_users):
    client = as_user(demo_users["demo_bh"])
    d = computed["d"]
    response = client.get(f"/performance/pools/11101/days/{d.customer_no}/", {"period": "2026-11"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="days-table"' in page and 'data-testid="dispute-form"' not in page
    # a customer of a manager is not in the pool's pages
    a = computed["a"]
    assert (
        client.get(f"/performance/pools/11101/days/{a.customer_no}/", {"period": "2026-11"}).status_code
        == 404
    )


def test_who_may_open_a_pool(as_user, computed, demo_users, make_user):
    assert as_user(computed["m1"]).get(pool_url("11101")).status_code == 403
    other_head = make_user("branch_head", "12000")
    assert as_user(other_head).get(pool_url("11101")).status_code == 404
    assert as_user(demo_users["demo_bm"]).get(pool_url("11101")).status_code == 200
    assert as_user(demo_users["demo_bm"]).get(pool_url("99999")).status_code == 404
    assert (
        as_user(demo_users["demo_bm"]).get("/performance/pools/11101/", {"period": "1999-13"}).status_code
        == 400
    )
