"""The pages a client manager uses on the road, on a phone (375 px) and a tablet:
tables become cards, nothing is squeezed to a character per line, no button breaks
onto a second line and no page is wider than the screen. Screenshots go to
var/screenshots/."""

from decimal import Decimal
from pathlib import Path

import pytest

from customers.choices import AccountCategory
from customers.services import assignment_set_primary
from tests.browser import log_in
from tests.customers.factories import AccountFactory, CustomerFactory

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
PHONE = {"width": 375, "height": 812}
TABLET = {"width": 768, "height": 1024}

# Lines of text an element's text takes: its text fragments grouped by their top.
LINES = """(el) => {
  const tops = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (!walker.currentNode.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(walker.currentNode);
    for (const r of range.getClientRects()) if (r.width > 0) tops.push(r.top);
  }
  tops.sort((a, b) => a - b);
  let lines = 0, last = -1e9;
  for (const t of tops) { if (t - last > 4) { lines++; last = t; } }
  return lines;
}"""

VISIBLE_BUTTONS = """() => Array.from(document.querySelectorAll('.btn, button'))
  .filter(b => b.offsetParent !== null && b.getBoundingClientRect().width > 0)"""


def _page_fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page is wider than the screen"


def _buttons_on_one_line(page) -> int:
    wrapped = page.evaluate(
        f"""() => {{ const lines = {LINES};
        return ({VISIBLE_BUTTONS})().filter(b => lines(b) > 1).map(b => b.textContent.trim()); }}"""
    )
    assert wrapped == [], f"buttons on two lines: {wrapped}"
    return page.evaluate(f"() => ({VISIBLE_BUTTONS})().length")


def _narrow_cells(page, table: str) -> list[str]:
    return page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel + ' td'))
          .filter(td => td.offsetParent !== null && td.getBoundingClientRect().width < 60)
          .map(td => td.textContent.trim())""",
        table,
    )


@pytest.fixture
def manager_with_customers(demo_users, org):
    manager = demo_users["demo_cm1"]
    names = ["欧阳娜娜", "司马相如", "诸葛孔明", "上官婉儿"]
    customers = []
    for n, name in enumerate(names):
        customer = CustomerFactory(home_branch=org["11101"], name=name, aum=Decimal("1234567.89") * (n + 1))
        assignment_set_primary(customer=customer, manager=manager, by=None, reason="test")
        AccountFactory(customer=customer, balance=Decimal("880000.00"), cny_balance=Decimal("880000.00"))
        AccountFactory(
            customer=customer,
            category=AccountCategory.WEALTH,
            balance=Decimal("1500000.00"),
            cny_balance=Decimal("1500000.00"),
        )
        customers.append(customer)
    return manager, customers


@pytest.mark.django_db(transaction=True)
def test_customer_list_and_360_view_on_a_phone(
    browser_page, live_server, manager_with_customers, demo_password, settings
):
    settings.LANGUAGE_CODE = "en"
    _manager, customers = manager_with_customers
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "demo_cm1", demo_password)

    # the customer list: a card per customer, each value beside its column's heading
    page.goto(f"{live_server.url}/customers/")
    page.wait_for_selector("[data-testid=customer-table] td")
    page.screenshot(path=str(SCREENSHOTS / "customer_list_375.png"), full_page=True)
    _page_fits(page, PHONE["width"])
    assert _narrow_cells(page, "[data-testid=customer-table]") == []
    heading = page.inner_text("[data-testid=customer-table] thead th:nth-child(2)")
    assert (
        page.get_attribute("[data-testid=customer-table] tbody tr td:nth-child(2)", "data-label") == heading
    )
    lines = page.evaluate(
        f"""() => Array.from(document.querySelectorAll('[data-testid=customer-table] tbody td:nth-child(2)'))
              .map(td => [td.textContent.trim(), ({LINES})(td)])"""
    )
    assert sorted(name for name, _ in lines) == sorted(c.name for c in customers)
    assert all(count == 1 for _, count in lines), f"names broken over lines: {lines}"
    assert _buttons_on_one_line(page) > 0

    # the 360 view: accounts as cards, the buttons of the header on one line each
    page.goto(f"{live_server.url}/customers/{customers[0].customer_no}/")
    page.wait_for_selector("[data-testid=accounts] td")
    page.screenshot(path=str(SCREENSHOTS / "customer_360_375.png"), full_page=True)
    _page_fits(page, PHONE["width"])
    assert _narrow_cells(page, "[data-testid=accounts]") == []
    assert page.evaluate(f"({LINES})(document.querySelector('[data-testid=customer-name]'))") == 1
    assert _buttons_on_one_line(page) > 0


@pytest.mark.django_db(transaction=True)
def test_360_view_and_my_day_on_a_tablet(
    browser_page, live_server, manager_with_customers, demo_password, settings
):
    settings.LANGUAGE_CODE = "en"
    _manager, customers = manager_with_customers
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.set_viewport_size(TABLET)
    log_in(page, live_server, "demo_cm1", demo_password)
    page.wait_for_load_state("networkidle")  # the home page's widgets arrive by htmx
    page.screenshot(path=str(SCREENSHOTS / "my_day_768.png"), full_page=True)
    _page_fits(page, TABLET["width"])
    _buttons_on_one_line(page)

    page.goto(f"{live_server.url}/customers/{customers[0].customer_no}/")
    page.wait_for_selector("[data-testid=accounts] td")
    page.screenshot(path=str(SCREENSHOTS / "customer_360_768.png"), full_page=True)
    # a table keeps its columns on a tablet, inside the card
    header = "getComputedStyle(document.querySelector('[data-testid=accounts] thead')).position"
    assert page.evaluate(header) != "absolute"
    _page_fits(page, TABLET["width"])
    assert _narrow_cells(page, "[data-testid=accounts]") == []
    _buttons_on_one_line(page)
