"""The customer search in a real browser: a full ID number typed into the live search
never appears in a requested URL nor in the address bar, the page shows it masked
after a reload, sorting keeps the search, and a bad filter shows its message."""

import pytest

from customers.masking import mask_id_number
from tests.browser import log_in

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_an_id_number_searched_live_stays_out_of_urls(
    browser_page, live_server, demo_users, demo_password, new_customer, settings
):
    settings.LANGUAGE_CODE = "en"
    customer = new_customer(manager=demo_users["demo_cm1"], name="欧阳娜娜", aum="880000")
    new_customer(manager=demo_users["demo_cm1"], name="欧阳修", aum="10")
    page = browser_page
    errors, urls = [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda request: urls.append(request.url))
    log_in(page, live_server, "demo_cm1", demo_password)
    page.goto(f"{live_server.url}/customers/")

    page.fill("[data-testid=customer-q]", customer.id_number)
    page.wait_for_url("**/customers/?k=*")
    page.wait_for_selector("[data-testid=customer-table] >> text=欧阳娜娜")
    assert "欧阳修" not in page.inner_text("#customer-results")
    assert customer.id_number not in page.url

    page.reload()
    assert page.input_value("[data-testid=customer-q]") == mask_id_number(customer.id_number)
    assert customer.id_number not in page.content()
    assert "欧阳娜娜" in page.inner_text("#customer-results")

    # sorting posts the masked box with its key: the same search, sorted
    page.select_option("select[name=sort]", "name")
    page.wait_for_url("**sort=name*")
    page.wait_for_selector("[data-testid=customer-table] >> text=欧阳娜娜")
    assert "k=" in page.url and customer.id_number not in page.url

    # a bad filter: the live search shows the message instead of keeping still (the
    # branch is chosen from a select since issue 16: AUM bounds out of order here)
    page.fill("input[name=aum_min]", "100")
    page.fill("input[name=aum_max]", "5")
    page.dispatch_event("input[name=aum_max]", "change")
    page.wait_for_selector("[data-testid=search-error]")

    assert not [url for url in urls if customer.id_number in url], urls
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
