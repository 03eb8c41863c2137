import pytest

from tests.browser import log_in, wait_until

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_search_open_the_360_view_and_reveal(
    browser_page, live_server, demo_users, demo_password, new_customer, add_account, settings
):
    settings.LANGUAGE_CODE = "en"
    customer = new_customer(manager=demo_users["demo_cm1"], name="欧阳娜娜", aum="880000")
    add_account(customer, category="WEALTH", cny_balance="880000")
    other = new_customer(manager=demo_users["demo_cm3"], name="欧阳修")
    page = browser_page
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server, "demo_cm1", demo_password)
    page.goto(f"{live_server.url}/customers/")
    # live search: typing is enough, htmx fetches the table
    page.fill("[data-testid=customer-q]", "欧阳")
    page.wait_for_selector("[data-testid=customer-table] >> text=欧阳娜娜")
    assert "欧阳修" not in page.inner_text("#customer-results")
    page.click(f"text={customer.customer_no}")
    page.wait_for_selector("[data-testid=customer-name]")
    assert "欧阳娜娜" in page.inner_text("[data-testid=customer-name]")
    assert customer.id_number not in page.content()
    # the AUM chart is drawn by Chart.js (no script blocked by the CSP)
    wait_until(page, "window.Chart && Chart.getChart(document.getElementById('aum-chart'))")
    # reveal the ID number with a reason, from the one reveal dialog
    page.click("[data-testid=reveal-open]")
    page.wait_for_selector("[data-testid=reveal-dialog].show")
    page.check("[data-testid=reveal-choice-id_number]")
    page.fill("[data-testid=reveal-reason]", "customer at the counter")
    page.click("[data-testid=reveal-submit]")
    page.wait_for_selector("#pii-id_number-0 [data-testid=revealed-value]")
    assert page.inner_text("#pii-id_number-0 [data-testid=revealed-value]") == customer.id_number
    page.wait_for_selector("[data-testid=reveal-dialog]", state="hidden")  # closes by itself
    # log a contact from the timeline
    page.fill("[data-testid=interaction-subject]", "到期提醒电话")
    page.click("[data-testid=log-contact]")
    page.wait_for_selector("[data-testid=timeline] >> text=到期提醒电话")
    assert other.customer_no not in page.content()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
